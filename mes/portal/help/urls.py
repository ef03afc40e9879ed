"""Aide, Nous contacter and the legal pages (portal.md §10)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

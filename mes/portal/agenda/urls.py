"""Agenda santé and the prevention calendar (portal.md §8)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

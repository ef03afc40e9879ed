"""Catalogue de services, the pairing consent and Services synchronisés (portal.md §5.5)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

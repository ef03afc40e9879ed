"""The espace's life seen by the citizen: activation, opposition, closure (portal.md §5.6)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

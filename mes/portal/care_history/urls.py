"""Mon histoire de santé (portal.md §2.2), data download and sharing links."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

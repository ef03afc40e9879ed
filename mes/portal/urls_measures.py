from django.urls import URLPattern, URLResolver

# Included from mes/portal/urls.py: these names live in the "portal" namespace.
urlpatterns: list[URLPattern | URLResolver] = []

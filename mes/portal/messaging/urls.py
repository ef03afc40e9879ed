"""Messagerie (portal.md §9): inbox, conversations, replies, new message to a pharmacy."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

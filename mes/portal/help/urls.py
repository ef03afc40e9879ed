"""Aide, Nous contacter and the legal pages (portal.md §10)."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.help_home, name="help"),
    path("nous-contacter/", views.contact, name="contact"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("mentions-legales/", views.legal_notice, name="legal_notice"),
    path("cgu/", views.terms, name="terms"),
    path("donnees-personnelles/", views.privacy, name="privacy"),
]

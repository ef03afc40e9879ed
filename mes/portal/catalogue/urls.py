"""Catalogue de services, the pairing consent and Services synchronisés (portal.md §5.5)."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.catalogue, name="catalogue"),
    path("services/<slug:slug>/", views.service, name="catalogue_service"),
    path("services/<slug:slug>/signaler/", views.report, name="catalogue_report"),
    path("logos/<slug:slug>/", views.logo, name="catalogue_logo"),
    path("synchronises/", views.synced, name="catalogue_synced"),
    path(
        "synchronises/<uuid:pairing_id>/autorisations/",
        views.consents,
        name="catalogue_consents",
    ),
    path(
        "synchronises/<uuid:pairing_id>/mise-a-jour/",
        views.reapprove,
        name="catalogue_reapprove",
    ),
    path(
        "synchronises/<uuid:pairing_id>/desynchroniser/",
        views.unpair,
        name="catalogue_unpair",
    ),
]

"""A patient's documents (list, deposit) and one document (detail, viewer, download, the
author's actions, the release to the patient)."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("patients/<uuid:patient_id>/documents/", views.document_list, name="documents"),
    path(
        "patients/<uuid:patient_id>/documents/deposer/",
        views.document_deposit,
        name="document_deposit",
    ),
    path("documents/<uuid:document_id>/", views.document_detail, name="document"),
    path("documents/<uuid:document_id>/apercu/", views.document_view, name="document_view"),
    path(
        "documents/<uuid:document_id>/telecharger/",
        views.document_download,
        name="document_download",
    ),
    path("documents/<uuid:document_id>/masquage/", views.document_mask, name="document_mask"),
    path(
        "documents/<uuid:document_id>/archivage/",
        views.document_archive,
        name="document_archive",
    ),
    path(
        "documents/<uuid:document_id>/supprimer/",
        views.document_delete,
        name="document_delete",
    ),
    path(
        "documents/<uuid:document_id>/rendre-visible/",
        views.document_release,
        name="document_release",
    ),
]

"""The recipient's side of a share link (public: the link is the credential)."""

from django.urls import URLPattern, URLResolver, path

from . import views_takeout

urlpatterns: list[URLPattern | URLResolver] = [
    path("<str:token>/", views_takeout.share_view, name="share_view"),
    path("<str:token>/manifeste", views_takeout.share_manifest, name="share_manifest"),
    path(
        "<str:token>/documents/<uuid:document_id>/",
        views_takeout.share_document,
        name="share_document",
    ),
]

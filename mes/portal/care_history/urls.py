"""Mon histoire de santé (portal.md §2.2), data download and sharing links."""

from django.urls import URLPattern, URLResolver, path

from . import views, views_takeout

urlpatterns: list[URLPattern | URLResolver] = [
    # Share links (SMART Health Links)
    path("liens-de-partage/", views_takeout.share_links, name="share_links"),
    path(
        "liens-de-partage/<uuid:link_id>/desactiver/",
        views_takeout.share_link_revoke,
        name="share_link_revoke",
    ),
    # « Télécharger mes données » (portal.md §5.4)
    path("telecharger-mes-donnees/", views_takeout.data_export, name="data_export"),
    path(
        "telecharger-mes-donnees/demande/",
        views_takeout.data_export_request,
        name="data_export_request",
    ),
    path(
        "telecharger-mes-donnees/<uuid:export_id>/",
        views_takeout.data_export_download,
        name="data_export_download",
    ),
    path("", views.care_history, name="care_history"),
    path("confidentialite/", views.confidentiality, name="care_history_confidentiality"),
    path("<uuid:episode_id>/", views.episode, name="care_history_episode"),
    path(
        "<uuid:episode_id>/ajouter-traitement/",
        views.add_treatment,
        name="care_history_add_treatment",
    ),
    path(
        "<uuid:episode_id>/ajouter-vaccination/",
        views.add_vaccination,
        name="care_history_add_vaccination",
    ),
]

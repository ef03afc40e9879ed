"""Mon histoire de santé (portal.md §2.2), data download and sharing links."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
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

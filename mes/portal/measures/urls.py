from django.urls import URLPattern, URLResolver, path

from . import views as views_measures

# Included from mes/portal/urls.py at profil-medical/mesures/: names in the "portal" namespace.
# `measure` takes the measure's code (WEIGHT, GLUCOSE ..., mes/measures/profiles.py).
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_measures.measures, name="measures"),
    path("afficher/", views_measures.measure_tiles, name="measure_tiles"),
    path(
        "valeur/<uuid:measurement_id>/modifier/",
        views_measures.measure_edit,
        name="measure_edit",
    ),
    path(
        "valeur/<uuid:measurement_id>/supprimer/",
        views_measures.measure_delete,
        name="measure_delete",
    ),
    path("<str:code>/", views_measures.measure, name="measure"),
    path("<str:code>/ajouter/", views_measures.measure_add, name="measure_add"),
]

from django.urls import URLPattern, URLResolver, path

from . import views as views

# Included from mes/portal/urls.py: these names live in the "portal" namespace.
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.vaccination_list, name="vaccinations"),
    path("ajouter/", views.vaccination_add, name="vaccination_add"),
    path("synthese/", views.vaccination_synthesis, name="vaccination_synthesis"),
    path("<uuid:vaccination_id>/", views.vaccination_detail, name="vaccination"),
    path("<uuid:vaccination_id>/modifier/", views.vaccination_edit, name="vaccination_edit"),
    path(
        "<uuid:vaccination_id>/supprimer/",
        views.vaccination_delete,
        name="vaccination_delete",
    ),
]

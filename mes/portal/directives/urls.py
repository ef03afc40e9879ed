from django.urls import URLPattern, URLResolver, path

from . import views as views_directives

# Included from mes/portal/urls.py under « profil-medical/ »: these names live in the "portal"
# namespace.
urlpatterns: list[URLPattern | URLResolver] = [
    path("directives-anticipees/", views_directives.directives, name="directives"),
    path(
        "directives-anticipees/deposer/",
        views_directives.directives_upload,
        name="directives_upload",
    ),
    path(
        "directives-anticipees/rediger/<str:model>/",
        views_directives.directives_write,
        name="directives_write",
    ),
    path("synthese/", views_directives.synthesis_view, name="synthesis"),
]

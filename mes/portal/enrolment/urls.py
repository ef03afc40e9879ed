"""The espace's life seen by the citizen: activation, opposition, closure (portal.md §5.6)."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="enrolment"),
    path("activation/", views.activation, name="enrolment_activation"),
    path("activation/identifiant/", views.credentials, name="enrolment_credentials"),
    path("activation/confirmation/", views.confirm, name="enrolment_confirm"),
    path("nouveau-code/", views.regenerate, name="enrolment_regenerate"),
    path("opposition/", views.opposition, name="enrolment_opposition"),
    path("opposition/confirmation/", views.opposition_confirm, name="enrolment_opposition_confirm"),
    path("opposition/enregistree/", views.opposition_done, name="enrolment_opposition_done"),
    path("opposition/justificatif.pdf", views.opposition_proof, name="enrolment_opposition_proof"),
    path("cloture/accueil/", views.closure, name="enrolment_closure"),
    path("cloture/", views.closure_with_code, name="enrolment_closure_code"),
    path(
        "cloture/confirmation/",
        views.closure_with_code_confirm,
        name="enrolment_closure_code_confirm",
    ),
    path("cloture/enregistree/", views.closure_with_code_done, name="enrolment_closure_code_done"),
    path(
        "cloture/justificatif.pdf",
        views.closure_with_code_proof,
        name="enrolment_closure_code_proof",
    ),
    path("enfants/", views.children, name="enrolment_children"),
]

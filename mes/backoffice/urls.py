"""The support desk (3422), under /guichet/."""

from django.urls import path

from . import views

app_name = "backoffice"

urlpatterns = [
    path("connexion/", views.desk_login, name="login"),
    path("connexion/code/", views.desk_login_code, name="login_code"),
    path("deconnexion/", views.desk_logout, name="logout"),
    path("", views.search, name="search"),
    path("profils/<uuid:citizen_id>/code/", views.resend, name="resend"),
    path("profils/<uuid:citizen_id>/opposition/", views.oppose, name="oppose"),
    path(
        "profils/<uuid:citizen_id>/opposition/justificatif.pdf",
        views.opposition_proof,
        name="opposition_proof",
    ),
    path("profils/<uuid:citizen_id>/cloture/", views.close, name="close"),
    path(
        "profils/<uuid:citizen_id>/cloture/justificatif.pdf",
        views.closure_proof,
        name="closure_proof",
    ),
    path("profils/<uuid:citizen_id>/suspension/", views.suspend, name="suspend"),
    path("profils/<uuid:citizen_id>/suspension/levee/", views.lift, name="lift"),
]

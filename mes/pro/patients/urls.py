"""Finding a patient, the dossier status, the professional's authorisation and the emergency
access."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("patients/<uuid:patient_id>/", views.patient, name="patient"),
    path(
        "patients/<uuid:patient_id>/autorisation/",
        views.consent_declare,
        name="consent_declare",
    ),
    path(
        "patients/<uuid:patient_id>/autorisation/retirer/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("patients/<uuid:patient_id>/urgence/", views.emergency, name="emergency"),
    path(
        "patients/<uuid:patient_id>/urgence/quitter/",
        views.emergency_end,
        name="emergency_end",
    ),
]

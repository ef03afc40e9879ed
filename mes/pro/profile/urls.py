"""The parts of the profil médical a professional may read: Vaccinations, Entourage et volontés."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("patients/<uuid:patient_id>/vaccinations/", views.vaccinations, name="vaccinations"),
    path(
        "patients/<uuid:patient_id>/entourage-et-volontes/",
        views.entourage,
        name="entourage",
    ),
]

"""« Mon histoire de santé » of a patient, read only."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("patients/<uuid:patient_id>/histoire-de-sante/", views.care_history, name="care_history"),
]

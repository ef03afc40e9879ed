"""/fhir/services/: the FHIR API of the catalogue's paired services (docs/fhir-api.md)."""

from django.urls import URLPattern, URLResolver, path

from . import agenda, documents, measures

urlpatterns: list[URLPattern | URLResolver] = [
    path("", measures.transaction_bundle, name="services-transaction"),
    path("Observation", measures.observation_search, name="services-observation-search"),
    path("Observation/<str:resource_id>", measures.observation_read, name="services-observation"),
    path("DocumentReference", documents.document_reference, name="services-documentreference"),
    path("Binary/<str:resource_id>", documents.binary, name="services-binary"),
    path("Appointment", agenda.appointment_type, name="services-appointment-type"),
    path("Appointment/<str:resource_id>", agenda.appointment_instance, name="services-appointment"),
]

"""The FHIR R4 API under /fhir/ (docs/fhir-api.md). Every view is a @fhir_endpoint (or a public
discovery document); the CapabilityStatement at /fhir/metadata lists what is here."""

from django.urls import URLPattern, URLResolver, include, path, re_path

from . import (
    views_appointment,
    views_care_history,
    views_meta,
    views_mhd,
    views_patient,
    views_profile,
)
from .services import measures as services_measures

app_name = "fhir"

urlpatterns: list[URLPattern | URLResolver] = [
    path("metadata", views_meta.metadata, name="metadata"),
    # The catalogue's paired services (issue 11): mes/fhir/services/.
    path("services/", include("mes.fhir.services.urls")),
    # The base as written without its slash is the transaction too (no redirect losing a body).
    path("services", services_measures.transaction_bundle, name="services-base"),
    path(
        ".well-known/smart-configuration",
        views_meta.smart_configuration,
        name="smart-configuration",
    ),
    path("Patient", views_patient.patient_search, name="patient-search"),
    path("Patient/<str:patient_id>", views_patient.patient_read, name="patient"),
    path(
        "Patient/<str:patient_id>/$declarer-consentement",
        views_patient.declare_consent,
        name="patient-declare-consent",
    ),
    path(
        "Patient/<str:patient_id>/$retirer-consentement",
        views_patient.withdraw_consent,
        name="patient-withdraw-consent",
    ),
    # --- MHD (ITI-65/67/68): mes/fhir/views_mhd.py -----------------------------------------
    path("", views_mhd.transaction, name="transaction"),
    path("DocumentReference", views_mhd.document_reference_search, name="documentreference-search"),
    path(
        "DocumentReference/_search",
        views_mhd.document_reference_search_post,
        name="documentreference-search-post",
    ),
    path(
        "DocumentReference/<str:resource_id>",
        views_mhd.document_reference,
        name="documentreference",
    ),
    path("Binary/<str:resource_id>", views_mhd.binary, name="binary"),
    # --- end of MHD ---------------------------------------------------------------------------
    # --- Vaccinations et entourage: mes/fhir/views_profile.py ---------------------------------
    path("Immunization", views_profile.immunization_type, name="immunization-type"),
    path("Immunization/<str:resource_id>", views_profile.immunization_read, name="immunization"),
    path(
        "Immunization/<str:resource_id>/$confirmer",
        views_profile.immunization_confirm,
        name="immunization-confirm",
    ),
    path("RelatedPerson", views_profile.related_person_search, name="relatedperson-search"),
    path(
        "RelatedPerson/<str:resource_id>",
        views_profile.related_person_read,
        name="relatedperson",
    ),
    # --- end of vaccinations et entourage -----------------------------------------------------
    # --- Agenda (issue 10): mes/fhir/views_appointment.py ---------------------------------
    path("Appointment", views_appointment.appointment_type, name="appointment-type"),
    path(
        "Appointment/<str:resource_id>",
        views_appointment.appointment_instance,
        name="appointment",
    ),
    path(
        "ExplanationOfBenefit",
        views_care_history.explanation_of_benefit_search,
        name="explanationofbenefit-search",
    ),
]

# Keep last: anything else under /fhir/ answers an OperationOutcome, never an HTML page.
# Add new routes ABOVE this line (urlpatterns.insert / in the list), not after it.
urlpatterns.append(re_path(r"^(?P<path>.*)$", views_meta.unknown_endpoint, name="unknown"))

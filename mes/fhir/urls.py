"""The FHIR R4 API under /fhir/ (docs/fhir-api.md). Every view is a @fhir_endpoint (or a public
discovery document); the CapabilityStatement at /fhir/metadata lists what is here."""

from django.urls import URLPattern, URLResolver, include, path, re_path

from .mhd import views as mhd
from .resources import appointment, care_history, metadata, patient, profile
from .services import measures as services_measures

app_name = "fhir"

urlpatterns: list[URLPattern | URLResolver] = [
    path("metadata", metadata.metadata, name="metadata"),
    # The catalogue's paired services (issue 11): mes/fhir/services/.
    path("services/", include("mes.fhir.services.urls")),
    # The base as written without its slash is the transaction too (no redirect losing a body).
    path("services", services_measures.transaction_bundle, name="services-base"),
    path(
        ".well-known/smart-configuration",
        metadata.smart_configuration,
        name="smart-configuration",
    ),
    path("Patient", patient.patient_search, name="patient-search"),
    path("Patient/<str:patient_id>", patient.patient_read, name="patient"),
    path(
        "Patient/<str:patient_id>/$declarer-consentement",
        patient.declare_consent,
        name="patient-declare-consent",
    ),
    path(
        "Patient/<str:patient_id>/$retirer-consentement",
        patient.withdraw_consent,
        name="patient-withdraw-consent",
    ),
    # --- MHD (ITI-65/67/68): mes/fhir/mhd/views.py -----------------------------------------
    path("", mhd.transaction, name="transaction"),
    path("DocumentReference", mhd.document_reference_search, name="documentreference-search"),
    path(
        "DocumentReference/_search",
        mhd.document_reference_search_post,
        name="documentreference-search-post",
    ),
    path(
        "DocumentReference/<str:resource_id>",
        mhd.document_reference,
        name="documentreference",
    ),
    path("Binary/<str:resource_id>", mhd.binary, name="binary"),
    # --- end of MHD ---------------------------------------------------------------------------
    # --- Vaccinations et entourage: mes/fhir/resources/profile.py ---------------------------------
    path("Immunization", profile.immunization_type, name="immunization-type"),
    path("Immunization/<str:resource_id>", profile.immunization_read, name="immunization"),
    path(
        "Immunization/<str:resource_id>/$confirmer",
        profile.immunization_confirm,
        name="immunization-confirm",
    ),
    path("RelatedPerson", profile.related_person_search, name="relatedperson-search"),
    path(
        "RelatedPerson/<str:resource_id>",
        profile.related_person_read,
        name="relatedperson",
    ),
    # --- end of vaccinations et entourage -----------------------------------------------------
    # --- Agenda (issue 10): mes/fhir/resources/appointment.py ---------------------------------
    path("Appointment", appointment.appointment_type, name="appointment-type"),
    path(
        "Appointment/<str:resource_id>",
        appointment.appointment_instance,
        name="appointment",
    ),
    path(
        "ExplanationOfBenefit",
        care_history.explanation_of_benefit_search,
        name="explanationofbenefit-search",
    ),
]

# Keep last: anything else under /fhir/ answers an OperationOutcome, never an HTML page.
# Add new routes ABOVE this line (urlpatterns.insert / in the list), not after it.
urlpatterns.append(re_path(r"^(?P<path>.*)$", metadata.unknown_endpoint, name="unknown"))

"""Issue 4: the synthesis a citizen saves is a DOCPAT08 document that a professional with access
finds with ITI-67 and retrieves with ITI-68; one the matrix or consent keeps away stays away."""

from __future__ import annotations

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.fhir.tests.conftest import fhir_json
from mes.medical_profile.synthesis import Section, synthesis_save


def _save_synthesis(camille):
    return synthesis_save(
        actor=citizen_actor(camille), patient_id=camille.pk, sections=list(Section)
    )


def test_the_saved_synthesis_is_found_and_retrieved_by_an_authorised_nurse(
    fhir_client_for, camille, ide_bernard
):
    doc = _save_synthesis(camille)
    api = fhir_client_for(ide_bernard)

    found = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", type="DOCPAT08"
    )
    bundle = fhir_json(found, "Bundle")
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(doc.pk)]
    reference = bundle["entry"][0]["resource"]
    assert reference["type"]["coding"][0]["code"] == "DOCPAT08"
    assert reference["category"][0]["coding"][0]["code"] == "11"

    pdf = api.get(f"/fhir/Binary/{doc.pk}")
    assert pdf.status_code == 200
    assert pdf["Content-Type"].startswith("application/pdf")
    assert pdf.content.startswith(b"%PDF")
    download = Trace.objects.get(
        patient_id=camille.pk, action=TraceAction.DOWNLOAD_DOC, actor_id=ide_bernard.national_id
    )
    assert (download.outcome, download.access_mode) == (TraceOutcome.ALLOWED, "normal")


def test_a_professional_without_consent_gets_not_found(fhir_client_for, camille, dr_durand):
    doc = _save_synthesis(camille)
    api = fhir_client_for(dr_durand)
    assert api.get(f"/fhir/Binary/{doc.pk}").status_code == 404
    refused = Trace.objects.get(
        patient_id=camille.pk, action=TraceAction.DOWNLOAD_DOC, actor_id=dr_durand.national_id
    )
    assert refused.outcome == TraceOutcome.REFUSED


def test_the_profile_itself_is_not_reachable_by_professionals(
    fhir_client_for, camille, ide_bernard
):
    """DESIGN.md §4: the rest of the profil médical reaches professionals only through the
    synthesis: there is no FHIR route to allergies or diseases."""
    api = fhir_client_for(ide_bernard)
    for resource in ("AllergyIntolerance", "Condition", "MedicationStatement", "Observation"):
        response = api.get(f"/fhir/{resource}", patient=str(camille.pk))
        assert response.status_code in (404, 501), resource

"""« Mon histoire de santé » for professionals: each reimbursed line as an R4
`ExplanationOfBenefit` (the reimbursement of one claim), read only.

- `GET /fhir/ExplanationOfBenefit?patient=<id>` (or `patient.identifier=<INS system>|<INS>`):
  the history, newest first, as a searchset Bundle. Scope `user/ExplanationOfBenefit.read`.

Who may read is decided by access.decision.care_history_allowed through
mes.reimbursements.policies (traced CONSULT_HISTOIRE_SANTE): professionals whose profession the
matrix lets read the reimbursement data (class 60), unless the patient masked the history;
never the Assurance Maladie. Unknown and refused are the same empty answer as elsewhere: 404.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from mes.audit.models import TraceAction
from mes.reimbursements.models import Category, Episode
from mes.reimbursements.policies import access_care_history
from mes.reimbursements.selectors import episodes_of

from .access import FhirRequest, fhir_endpoint, open_emergency_access
from .http import accepts_json
from .views_profile import _searched_patient, _searchset

SCOPE_EOB_READ = "user/ExplanationOfBenefit.read"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
CATEGORY_SYSTEM = "https://monespacesante.example/fhir/CodeSystem/categorie-histoire-sante"
RPPS_FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # idNat (RPPS « 8… », FINESS « 1… »)
SHOWN = 500
# The claim type of each category (pharmacy for dispensations, institutional for stays).
CLAIM_TYPES: dict[str, str] = {
    Category.DRUG: "pharmacy",
    Category.VACCINE: "pharmacy",
    Category.DEVICE: "pharmacy",
    Category.HOSPITAL: "institutional",
}


def explanation_of_benefit(e: Episode) -> dict[str, Any]:
    """One reimbursed line as an R4 ExplanationOfBenefit."""
    day = e.date.isoformat()
    claim_type = CLAIM_TYPES.get(e.category, "professional")
    item: dict[str, Any] = {
        "sequence": 1,
        "category": {
            "coding": [
                {"system": CATEGORY_SYSTEM, "code": e.category, "display": e.get_category_display()}
            ]
        },
        "productOrService": {"text": e.label or e.stay or e.get_category_display()},
        "servicedDate": day,
    }
    if e.code:
        item["productOrService"]["coding"] = [{"code": e.code, "display": e.label or e.code}]
    if e.quantity:
        item["quantity"] = {"value": e.quantity}
    provider: dict[str, Any] = {"display": e.professional}
    if e.professional_id.isdigit() and len(e.professional_id) in (9, 11):
        # idNat: « 8 » + RPPS for a person, « 1 » + FINESS for a structure.
        prefix = "8" if len(e.professional_id) == 11 else "1"
        provider["identifier"] = {
            "system": RPPS_FINESS_SYSTEM,
            "value": prefix + e.professional_id,
        }
    resource: dict[str, Any] = {
        "resourceType": "ExplanationOfBenefit",
        "id": str(e.pk),
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": claim_type}]},
        "use": "claim",
        "patient": {"reference": f"Patient/{e.patient_id}"},
        "billablePeriod": {"start": day, "end": day},
        "created": day,
        "insurer": {"display": "Assurance Maladie"},
        "provider": provider,
        "outcome": "complete",
        "insurance": [{"focal": True, "coverage": {"display": "Assurance Maladie obligatoire"}}],
        "item": [item],
    }
    if e.prescriber:
        text = e.prescriber + (f" ({e.prescriber_specialty})" if e.prescriber_specialty else "")
        resource["referral"] = {"display": f"Prescrit par {text}"}
    notes = [
        n
        for n in (
            f"Groupe thérapeutique : {e.therapeutic_group}" if e.therapeutic_group else "",
            f"Valence vaccinale : {e.valence}" if e.valence else "",
            f"Nature du séjour : {e.stay}" if e.stay else "",
        )
        if n
    ]
    if notes:
        resource["processNote"] = [
            {"number": i + 1, "type": "display", "text": n} for i, n in enumerate(notes)
        ]
    return resource


@fhir_endpoint(scopes=[SCOPE_EOB_READ], methods=["GET"])
def explanation_of_benefit_search(request: FhirRequest) -> HttpResponse:
    accepts_json(request)
    patient_id, used, agree = _searched_patient(request)
    open_emergency_access(request, patient_id)
    patient, _ = access_care_history(
        request.actor, patient_id, trace_action=TraceAction.CONSULT_CARE_HISTORY
    )
    episodes = list(episodes_of(patient)[:SHOWN]) if agree else []
    return _searchset(
        request, "ExplanationOfBenefit", used, [explanation_of_benefit(e) for e in episodes]
    )

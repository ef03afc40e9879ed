"""Mon histoire de santé in FHIR R4: one reimbursed line as an `ExplanationOfBenefit` (used by
the professionals' API and by the data download)."""

from __future__ import annotations

from typing import Any

from .models import Category, Episode

CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
CATEGORY_SYSTEM = "https://monespacesante.example/fhir/CodeSystem/categorie-histoire-sante"
RPPS_FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # idNat (RPPS « 8… », FINESS « 1… »)
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

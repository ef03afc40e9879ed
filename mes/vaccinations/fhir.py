"""A vaccination is one FHIR R4 Immunization (for the FHIR API built on top of this module).

`vaccination_to_immunization` writes the Immunization of a stored vaccination;
`immunization_to_fields` reads an incoming Immunization into the arguments of
`actions.vaccination_record_by_professional`, with French refusals. Both are pure: the FHIR
interface resolves the patient (`immunization_patient_ins`), checks the caller and acts.

Codes: the vaccine is coded in this service's vaccine list (`VACCINE_SYSTEM`, the codes of
data/vaccines.csv) and, when known, in ATC; the diseases (protocolApplied.targetDisease) in the
calendar's valence codes; the type of vaccination (première vaccination, rappel, je ne sais pas)
with its HL7 v3 ActCode (INITIMMUNIZ, BOOSTER, IMMUNIZ) in an extension, as Immunization has no
element for it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from pydantic import ValidationError

from mes.lib.errors import InvalidInput
from mes.prevention.calendar import default_calendar

from . import referential
from .models import Vaccination

VACCINE_SYSTEM = "urn:mes:codesystem:vaccins"
VALENCE_SYSTEM = "urn:mes:codesystem:valences"
KIND_EXTENSION = "urn:mes:extension:type-vaccination"
ATC_SYSTEM = "http://www.whocc.no/atc"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ORIGIN_SYSTEM = "http://terminology.hl7.org/CodeSystem/immunization-origin"
PERFORMER_FUNCTION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0443"
# Identifiant national des professionnels de santé (idNat_PS: « 8 » + RPPS), ANS.
IDNAT_PS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"


def _coding(system: str, code: str, display: str = "") -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _vaccine_code(v: Vaccination) -> dict[str, Any]:
    codings = [_coding(VACCINE_SYSTEM, v.vaccine_code, v.vaccine_label)]
    known = referential.vaccines().get(v.vaccine_code)
    if known is not None and known.atc:
        codings.append(_coding(ATC_SYSTEM, known.atc))
    return {"coding": codings, "text": v.vaccine_label}


def _performer(v: Vaccination) -> list[dict[str, Any]]:
    function = {"coding": [_coding(PERFORMER_FUNCTION_SYSTEM, "AP", "Administering Provider")]}
    if v.vaccinator is not None:
        actor: dict[str, Any] = {
            "identifier": {"system": IDNAT_PS_SYSTEM, "value": v.vaccinator.national_id},
            "display": v.vaccinator.display_name,
        }
    elif v.vaccinator_name:
        actor = {"display": v.vaccinator_name}
    else:
        return []
    return [{"function": function, "actor": actor}]


def vaccination_to_immunization(v: Vaccination) -> dict[str, Any]:
    """The R4 Immunization of one stored vaccination (a JSON-ready dict)."""
    cal = default_calendar()
    patient = v.patient
    # Recorded by the professional who gave it: a primary source; otherwise a report.
    primary = v.source == Vaccination.Source.PROFESSIONAL and (
        v.vaccinator_id is None or v.vaccinator_id == v.author_professional_id
    )
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "id": str(v.pk),
        "meta": {"lastUpdated": v.updated_at.isoformat()},
        "extension": [
            {
                "url": KIND_EXTENSION,
                "valueCoding": _coding(ACT_CODE_SYSTEM, v.kind, v.get_kind_display()),
            }
        ],
        "status": "completed",
        "vaccineCode": _vaccine_code(v),
        "patient": {
            "identifier": {"system": f"urn:oid:{patient.ins_oid}", "value": patient.ins},
            "display": patient.display_name,
        },
        "occurrenceDateTime": v.date.isoformat(),
        "recorded": v.created_at.isoformat(),
        "primarySource": primary,
    }
    if v.source == Vaccination.Source.PATIENT:
        resource["reportOrigin"] = {
            "coding": [_coding(ORIGIN_SYSTEM, "recall", "Parent/Guardian/Patient Recall")],
            "text": f"Ajoutée par {v.author_label}",
        }
    if v.lot:
        resource["lotNumber"] = v.lot
    performer = _performer(v)
    if performer:
        resource["performer"] = performer
    if v.comment:
        resource["note"] = [{"text": v.comment}]
    protocol: dict[str, Any] = {
        "targetDisease": [
            {
                "coding": [_coding(VALENCE_SYSTEM, code, cal.valence_label(code))],
                "text": cal.valence_label(code),
            }
            for code in v.valences
        ],
    }
    if v.dose_number:
        protocol["doseNumberPositiveInt"] = v.dose_number
    else:
        protocol["doseNumberString"] = v.get_kind_display()
    resource["protocolApplied"] = [protocol]
    return resource


# --- reading ---------------------------------------------------------------------------------


def _validated(resource: dict[str, Any]) -> Any:
    from fhir.resources.R4B.immunization import Immunization

    if not isinstance(resource, dict) or resource.get("resourceType") != "Immunization":
        raise InvalidInput("La ressource doit être une Immunization.", field="resourceType")
    try:
        return Immunization.model_validate(resource)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"]) if exc.errors() else ""
        raise InvalidInput(
            f"La ressource Immunization est invalide ({where or 'structure'}).", field=where
        ) from exc


def _same_valences(candidates: list[referential.Vaccine]) -> referential.Vaccine | None:
    """Several brands share an ATC code (every flu vaccine): the disease entry names them."""
    valences = {c.valences for c in candidates}
    if len(valences) != 1:
        return None
    wanted = valences.pop()
    return next(
        (
            v
            for v in referential.vaccines().values()
            if v.kind == "maladie" and v.valences == wanted
        ),
        None,
    )


def _vaccine_from(imm: Any) -> referential.Vaccine:
    concept = imm.vaccineCode
    codings = list(concept.coding or [])
    for c in codings:
        if c.system == VACCINE_SYSTEM and c.code in referential.vaccines():
            return referential.vaccines()[c.code]
    texts = [concept.text or ""] + [c.display or "" for c in codings]
    for c in codings:
        if c.system == ATC_SYSTEM and c.code:
            candidates = referential.by_atc(c.code)
            if len(candidates) == 1:
                return candidates[0]
            named = [v for t in texts if t for v in candidates if referential.by_label(t) == v]
            if named:
                return named[0]
            common = _same_valences(candidates)
            if common is not None:
                return common
    for text in texts:
        found = referential.by_label(text) if text else None
        if found is not None:
            return found
    raise InvalidInput(
        "Vaccin inconnu : utilisez un code de la liste des vaccins du service ou un code ATC.",
        field="vaccineCode",
    )


def _occurrence(imm: Any) -> date:
    value = imm.occurrenceDateTime
    if value is None:
        raise InvalidInput(
            "La date de vaccination (occurrenceDateTime) est obligatoire.",
            field="occurrenceDateTime",
        )
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            return timezone.localtime(value).date()
        return value.date()
    if isinstance(value, date):
        return value
    # A partial date (« 2024-05 », « 2024 »): the carnet needs the day.
    raise InvalidInput(
        "La date de vaccination doit être complète (jour, mois et année).",
        field="occurrenceDateTime",
    )


def _kind(imm: Any) -> str:
    for ext in imm.extension or []:
        coding = getattr(ext, "valueCoding", None)
        if ext.url == KIND_EXTENSION and coding is not None:
            if coding.code in Vaccination.Kind.values:
                return str(coding.code)
            raise InvalidInput("Type de vaccination inconnu.", field="extension")
    return str(Vaccination.Kind.UNKNOWN)


def immunization_to_fields(resource: dict[str, Any]) -> dict[str, Any]:
    """The arguments of vaccination_record_by_professional read from an Immunization.

    Refused (InvalidInput, in French): not a valid R4 Immunization, a status other than
    « completed » (a vaccination not given is not written in the carnet), an unknown vaccine,
    a missing or partial date. The lot, comment and dose number are checked again by the action.
    """
    imm = _validated(resource)
    if imm.status != "completed":
        raise InvalidInput(
            "Seule une vaccination réalisée (status « completed ») peut être enregistrée.",
            field="status",
        )
    protocol = (imm.protocolApplied or [None])[0]
    dose_number = getattr(protocol, "doseNumberPositiveInt", None) if protocol else None
    return {
        "vaccine_code": _vaccine_from(imm).code,
        "vaccination_date": _occurrence(imm),
        "kind": _kind(imm),
        "lot": imm.lotNumber or "",
        "comment": "\n".join(n.text for n in (imm.note or []) if n.text),
        "dose_number": int(dose_number) if dose_number else None,
    }


def immunization_patient_ins(resource: dict[str, Any]) -> str | None:
    """The INS the Immunization names in patient.identifier, if any (the FHIR layer resolves
    a literal reference itself)."""
    identifier = (resource.get("patient") or {}).get("identifier") or {}
    value = identifier.get("value")
    return str(value) if value else None

"""A measure is one FHIR R4 Observation of the ANS « Mesures de santé » profiles (mes-spec §9).

`measurement_to_observation` writes the Observation of a stored value; `observation_to_fields`
reads an incoming Observation into the arguments of `actions.measurement_import`, with the
refusals of the real write flow (§9.2: a BMI cannot be created, a value quantity is mandatory, a
glucose needs its moment). Both are pure: the FHIR interface checks the app and its consent.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.utils import timezone
from pydantic import ValidationError

from mes.lib.errors import InvalidInput

from . import profiles
from .models import Measurement
from .profiles import LOINC, MOMENT_EXTENSION, UCUM, MeasureCode, MeasureType

CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
VITAL_SIGNS = {"system": CATEGORY_SYSTEM, "code": "vital-signs", "display": "Vital Signs"}


def _number(value: Decimal) -> int | float:
    # JSON numbers: 80 rather than 80.00, 72.5 rather than "72.50".
    return int(value) if value == value.to_integral_value() else float(value.normalize())


def _quantity(t: MeasureType, value: Decimal) -> dict[str, Any]:
    return {"value": _number(value), "unit": t.unit_label, "system": UCUM, "code": t.ucum}


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _device(identifier: str) -> dict[str, Any]:
    # "urn:oid:<OID>|<id>" as in the write flow's ifNoneExist (mes-spec §9.2).
    system, _, value = identifier.partition("|")
    if not value:
        return {"display": identifier}
    return {"identifier": {"system": system, "value": value}}


def measurement_to_observation(m: Measurement) -> dict[str, Any]:
    """The R4 Observation of one stored value (JSON-ready dict)."""
    t = m.measure_type
    patient = m.patient
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(m.pk),
        "meta": {
            "profile": [t.profile_url],
            "lastUpdated": m.updated_at.isoformat(),
        },
        "status": "final",
        "category": [{"coding": [VITAL_SIGNS]}],
        "code": {"coding": [_coding(LOINC, t.loinc, t.loinc_display)], "text": t.label},
        "subject": {
            "identifier": {"system": f"urn:oid:{patient.ins_oid}", "value": patient.ins},
            "display": patient.display_name,
        },
        "effectiveDateTime": timezone.localtime(m.effective_at).isoformat(),
        "performer": [{"display": m.author_label}],
    }
    if t.components:
        systolic, diastolic = t.components
        assert m.diastolic is not None
        obs["component"] = [
            {
                "code": {"coding": [_coding(LOINC, c.loinc, c.loinc_display)], "text": c.label},
                "valueQuantity": _quantity(t, v),
            }
            for c, v in ((systolic, m.value), (diastolic, m.diastolic))
        ]
    else:
        obs["valueQuantity"] = _quantity(t, m.value)
    if m.moment:
        moment = profiles.MOMENTS_BY_CODE[m.moment]
        obs["extension"] = [
            {
                "url": MOMENT_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [_coding(moment.system, moment.code, moment.display)],
                    "text": moment.label,
                },
            }
        ]
    if m.comment:
        obs["note"] = [{"text": m.comment}]
    if m.device_identifier:
        obs["device"] = _device(m.device_identifier)
    return obs


def _type_of(obs: Any) -> MeasureType:
    for url in (obs.meta.profile if obs.meta and obs.meta.profile else []) or []:
        t = profiles.BY_PROFILE.get(str(url).split("|")[0])
        if t is not None:
            return t
    for coding in obs.code.coding or []:
        if coding.system == LOINC and coding.code in profiles.BY_LOINC:
            return profiles.BY_LOINC[coding.code]
    raise InvalidInput("Observation : profil ou code LOINC non pris en charge.", field="code")


def _value(q: Any, field: str) -> tuple[Decimal, str | None]:
    if q is None or q.value is None:
        raise InvalidInput("Observation value quantity not provided", field=field)
    return Decimal(str(q.value)), q.code


def observation_to_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The arguments of actions.measurement_import for one incoming Observation.

    Raises InvalidInput (field = the FHIR element) for what the write flow refuses; the ranges,
    dates and moment codes are checked again by the action.
    """
    from fhir.resources.R4B.observation import Observation

    try:
        obs = Observation.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"Observation invalide : {exc.errors()[0]['msg']}") from exc
    t = _type_of(obs)
    if t.code is MeasureCode.BODY_MASS_INDEX:
        raise InvalidInput("Bmi observation cannot be created", field="code")
    diastolic: Decimal | None = None
    if t.components:
        by_code = {
            c.code.coding[0].code: c for c in (obs.component or []) if c.code and c.code.coding
        }
        sys_c, dia_c = (by_code.get(c.loinc) for c in t.components)
        value, unit = _value(sys_c.valueQuantity if sys_c else None, "component")
        diastolic, _ = _value(dia_c.valueQuantity if dia_c else None, "component")
    else:
        value, unit = _value(obs.valueQuantity, "valueQuantity")
    moment = ""
    for ext in obs.extension or []:
        if ext.url == MOMENT_EXTENSION and ext.valueCodeableConcept:
            codings = ext.valueCodeableConcept.coding or []
            moment = (codings[0].code or "") if codings else ""
    if t.needs_moment and not moment:
        raise InvalidInput("Observation.extension.moment is mandatory", field="extension")
    effective = obs.effectiveDateTime
    if isinstance(effective, date) and not isinstance(effective, datetime):
        # A day without a time (the IG's own examples): taken as that day at midnight, Paris.
        effective = timezone.make_aware(datetime.combine(effective, time()))
    if not isinstance(effective, datetime):
        raise InvalidInput("Observation.effectiveDateTime est obligatoire.", field="effective")
    comment = " ".join(n.text for n in (obs.note or []) if n.text)
    return {
        "type_code": t.code.value,
        "value": value,
        "diastolic": diastolic,
        "unit": unit,
        "effective_at": effective,
        "moment": moment,
        "comment": comment,
    }

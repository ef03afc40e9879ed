"""Patient: find the dossier by INS and know one's standing on it (TD0.2), declare or withdraw
one's own authorisation (TD0.3).

- `GET /fhir/Patient?identifier=urn:oid:1.2.250.1.213.1.4.8|<NIR>` (or the NIA OID): a searchset
  Bundle with the patient's identity and, in the extension `urn:mes:fhir:StructureDefinition:
  dmp-status`, what this professional may know of the dossier. A lookup, whatever the mode: it
  opens no emergency access.
- `GET /fhir/Patient/<id>`: the same resource. In an emergency mode (bris de glace, Centre 15) it
  is the door of the emergency access: it opens the session (or goes on with it), and a refused
  emergency access is a 404 like any unknown patient.
- `POST /fhir/Patient/<id>/$declarer-consentement` (Parameters `medecinTraitant`: boolean) and
  `POST /fhir/Patient/<id>/$retirer-consentement`: answer the Patient with its new status.

Every identity let out is traced (RECHERCHE_PATIENT) on the patient's chain.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from fhir.resources.R4B.parameters import Parameters

from mes.access.actions import (
    ProfessionalStanding,
    authorisation_declare,
    authorisation_withdraw,
    professional_standing,
)
from mes.fhir.core.access import (
    SCOPE_CONSENT_WRITE,
    SCOPE_PATIENT_READ,
    FhirRequest,
    fhir_endpoint,
    open_emergency_access,
    parse_ins_token,
)
from mes.fhir.core.http import BODY_TYPES, conform, parse_body, read_body, unsupported_media
from mes.fhir.core.outcome import FhirError, IssueCode, fhir_response
from mes.identity.lookup import patient_identity, patient_search_by_parsed_ins
from mes.identity.models import Citizen
from mes.lib.errors import NotFound

from .metadata import EXT_DMP_STATUS

INS_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
GENDER = {"F": "female", "M": "male", "I": "other"}


# --- Lookups (traced) -------------------------------------------------------------------------


# --- Representation ---------------------------------------------------------------------------


def _status_extension(standing: ProfessionalStanding) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "dossier", "valueCode": standing.dossier_status},
        {"url": "authorisation", "valueCode": standing.authorisation},
        {"url": "treatingPhysician", "valueBoolean": standing.is_treating_physician},
        {"url": "webAccessOpen", "valueBoolean": standing.web_access_open},
    ]
    if standing.emergency_until is not None:
        parts.append(
            {
                "url": "emergencyAccessUntil",
                "valueDateTime": standing.emergency_until.isoformat(timespec="seconds"),
            }
        )
    return {"url": EXT_DMP_STATUS, "extension": parts}


def patient_resource(patient: Citizen, standing: ProfessionalStanding) -> dict[str, Any]:
    """The patient's identity (INS and traits) and the professional's standing on the dossier."""
    kind = "INS-NIR" if patient.ins_kind == Citizen.InsKind.NIR else "INS-NIA"
    names: list[dict[str, Any]] = [
        {
            "use": "official",
            "family": patient.birth_name,
            "given": patient.first_names.split() or [patient.first_name],
        }
    ]
    if patient.used_name or patient.used_first_name:
        names.append(
            {
                "use": "usual",
                "family": patient.used_name or patient.birth_name,
                "given": [patient.used_first_name or patient.first_name],
            }
        )
    return {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "extension": [_status_extension(standing)],
        "identifier": [
            {
                "use": "official",
                "type": {"coding": [{"system": INS_TYPE_SYSTEM, "code": kind}]},
                "system": f"urn:oid:{patient.ins_oid}",
                "value": patient.ins,
            }
        ],
        "active": standing.dossier_status == "exists",
        "name": names,
        "gender": GENDER.get(patient.sex, "unknown"),
        "birthDate": patient.birth_date.isoformat(),
    }


def _patient_for(request: FhirRequest, patient: Citizen) -> dict[str, Any]:
    assert request.actor.professional_id is not None
    standing = professional_standing(professional_id=request.actor.professional_id, patient=patient)
    return patient_resource(patient, standing)


def _patient_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound() from None


# --- Views ------------------------------------------------------------------------------------


@fhir_endpoint(scopes=[SCOPE_PATIENT_READ], methods=["GET"])
def patient_search(request: FhirRequest) -> HttpResponse:
    identifiers = request.GET.getlist("identifier")
    if len(identifiers) != 1:
        raise FhirError(
            400,
            IssueCode.REQUIRED,
            "Recherche par INS : un paramètre identifier=urn:oid:1.2.250.1.213.1.4.8|<NIR> "
            "(ou urn:oid:1.2.250.1.213.1.4.9|<NIA>) est requis, une seule fois.",
            expression="identifier",
        )
    found = patient_search_by_parsed_ins(actor=request.actor, ins=parse_ins_token(identifiers[0]))
    patients = found.patients
    entries = [
        {
            "fullUrl": request.build_absolute_uri(reverse("fhir:patient", args=[patient.pk])),
            "resource": _patient_for(request, patient),
            "search": {"mode": "match"},
        }
        for patient in patients
    ]
    self_url = request.build_absolute_uri(reverse("fhir:patient-search"))
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "link": [
            {"relation": "self", "url": f"{self_url}?{urlencode({'identifier': identifiers[0]})}"},
        ],
        "entry": entries,
    }
    return fhir_response(bundle)


@fhir_endpoint(scopes=[SCOPE_PATIENT_READ], methods=["GET"])
def patient_read(request: FhirRequest, patient_id: str) -> HttpResponse:
    pid = _patient_id(patient_id)
    open_emergency_access(request, pid)
    patient = patient_identity(actor=request.actor, patient_id=pid)
    return fhir_response(_patient_for(request, patient))


def _boolean_parameter(request: FhirRequest, name: str) -> bool:
    """A boolean from a Parameters body (empty body: False). A body that is not a FHIR R4
    Parameters in FHIR's JSON types is refused (400 `structure`, every problem named: conform),
    an empty element beside what the reading finds, before anything is decided."""
    body = read_body(request, 64 * 1024)
    if not body.strip():
        return False
    if request.content_type not in BODY_TYPES:
        raise unsupported_media(request)
    raw = parse_body(request.content_type, body)
    return conform(Parameters, raw, "Parameters", lambda: _read_boolean(raw, name), status=400)


def _read_boolean(raw: dict[str, Any], name: str) -> bool:
    """The parameter `name` of a conforming Parameters (False when absent): 422 `value` when
    it carries anything but a valueBoolean."""
    for parameter in raw.get("parameter") or []:
        if parameter.get("name") == name:
            value = parameter.get("valueBoolean")
            if not isinstance(value, bool):
                raise FhirError(
                    422,
                    IssueCode.VALUE,
                    f"Le paramètre {name} attend une valeur booléenne (valueBoolean).",
                    expression=f"Parameters.parameter.where(name='{name}')",
                )
            return value
    return False


@fhir_endpoint(scopes=[SCOPE_CONSENT_WRITE], methods=["POST"])
def declare_consent(request: FhirRequest, patient_id: str) -> HttpResponse:
    pid = _patient_id(patient_id)
    treating = _boolean_parameter(request, "medecinTraitant")
    authorisation_declare(actor=request.actor, patient_id=pid, treating_physician=treating)
    return fhir_response(_patient_for(request, Citizen.objects.get(pk=pid)))


@fhir_endpoint(scopes=[SCOPE_CONSENT_WRITE], methods=["POST"])
def withdraw_consent(request: FhirRequest, patient_id: str) -> HttpResponse:
    pid = _patient_id(patient_id)
    authorisation_withdraw(actor=request.actor, patient_id=pid)
    return fhir_response(_patient_for(request, Citizen.objects.get(pk=pid)))

"""Measures from and to a paired service (mes-spec §9.2, IHE POU PCH-01 « Communicate FHIR PHD
data »).

POST /fhir/services/ with a transaction Bundle of exactly one Observation (one of the MES
profiles, mes.measures.profiles) and one Device (PhdDevice, conditional create by
`ifNoneExist: identifier=urn:oid:<OID>|<id>`). Answers a transaction-response (201 Created for
the new Observation; 201 or 200 for the Device, new or found again), or:

- 401 invalid access token (mes.fhir.core.access);
- 403 « idPe requested do not match authorized idPe »: the Observation's subject is not the
  paired espace;
- 403 « Consent not given, access refused. »: the holder did not consent to writing measures;
- 409 an OID outside the service's root OID (Device identifier, `meta.source`);
- 422 an OperationOutcome listing every problem of the Bundle (BMI creation refused, value
  quantity missing, glucose without its moment, Device without meta.profile, malformed
  ifNoneExist...).

GET /fhir/services/Observation[?code=] and /fhir/services/Observation/<id>: the espace's
measures, where a consented purpose reads them.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from fhir.resources.R4B.bundle import Bundle

from mes.audit import trace
from mes.audit.guard import Refused
from mes.audit.models import TraceAction
from mes.catalogue.models import Service, ServiceDevice
from mes.fhir.core.http import conforming, read_resource
from mes.fhir.core.outcome import FhirError, IssueCode, fhir_response, issue, together
from mes.lib.errors import InvalidInput
from mes.measures import profiles
from mes.measures.actions import measurement_import
from mes.measures.fhir import measurement_to_observation, observation_to_fields
from mes.measures.models import Measurement
from mes.measures.profiles import LOINC, MOMENT_EXTENSION, MeasureCode

from .access import CONSENT_NOT_GIVEN, AppRequest, app_endpoint, check_espace, require_exchange

MEASURES, READ, WRITE = "mesures", "lecture", "ecriture"
BODY_LIMIT = 256 * 1024  # one Observation and one Device
# mes-spec §9.2: `identifier=urn:oid:<OID>|<id>` (the published regex, its intent written out:
# an OID of dotted numbers, an id of letters and digits in dash-separated groups).
IF_NONE_EXIST = re.compile(
    r"^identifier=urn:oid:(?P<oid>[0-9]+(?:\.[0-9]+)+)\|(?P<id>[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*)$"
)
PHD_DEVICE_PROFILE = "http://hl7.org/fhir/uv/phd/StructureDefinition/PhdDevice"
OID_URN = re.compile(r"^urn:oid:(?P<oid>[0-9]+(?:\.[0-9]+)+)$")


def _under(oid: str, root: str) -> bool:
    return oid == root or oid.startswith(root + ".")


class _Problems:
    """Every problem of the Bundle, answered at once (422) — or the first OID conflict (409)."""

    def __init__(self, empties: list[FhirError]) -> None:
        # The Bundle's empty elements first (conforming), then what its reading finds.
        self.issues: list[dict[str, Any]] = [i for e in empties for i in e.issues]
        self.conflict: str = ""

    def add(self, diagnostics: str, expression: str, code: IssueCode = IssueCode.INVALID) -> None:
        self.issues.append(issue(code, diagnostics, expression=expression))

    def raise_if_any(self) -> None:
        if self.issues:
            raise FhirError(
                422,
                IssueCode.PROCESSING,
                self.issues[0]["diagnostics"],
                issues=self.issues,
            )
        if self.conflict:
            raise FhirError(409, IssueCode.CONFLICT, self.conflict)


def _conforming(bundle: Any) -> list[FhirError]:
    """The empty elements of a FHIR R4 Bundle, once its JSON types are FHIR's (else 422
    `structure`, every problem at once: mes.fhir.core.http.conforming); its Observation and
    its Device are walked as what they are (R4 §2.6.2)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError(422, IssueCode.STRUCTURE, "Bundle attendu (resourceType Bundle).")
    return conforming(Bundle, bundle, "Bundle")


def _entries(bundle: dict[str, Any], problems: _Problems) -> tuple[dict[str, Any], dict[str, Any]]:
    if bundle.get("type") != "transaction":
        problems.add("Bundle.type doit être « transaction ».", "Bundle.type")
    raw_entries = bundle.get("entry")
    entries: list[Any] = raw_entries if isinstance(raw_entries, list) else []
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        by_type.setdefault(str(kind), []).append(entry)
    observations, devices = by_type.get("Observation", []), by_type.get("Device", [])
    if len(observations) != 1 or len(devices) != 1 or len(entries) != 2:
        raise FhirError(
            422,
            IssueCode.STRUCTURE,
            "Bundle must contain exactly one Observation and one Device (le Bundle doit "
            "contenir exactement une Observation et un Device).",
            expression="Bundle.entry",
        )
    for entry, name in ((observations[0], "Observation"), (devices[0], "Device")):
        request = entry.get("request")
        if not isinstance(request, dict) or request.get("method") != "POST":
            problems.add(f"{name} : request.method doit être POST.", f"{name}.request.method")
    return observations[0], devices[0]


def _subject_espace(observation: dict[str, Any]) -> str | None:
    """The espace the Observation names: subject.identifier.value (idPe) or Patient/<id>."""
    subject = observation.get("subject")
    if not isinstance(subject, dict):
        return None
    identifier = subject.get("identifier")
    if isinstance(identifier, dict) and identifier.get("value"):
        return str(identifier["value"])
    reference = str(subject.get("reference") or "")
    return reference.removeprefix("Patient/") if reference.startswith("Patient/") else None


def _check_device(entry: dict[str, Any], service: Service, problems: _Problems) -> tuple[str, str]:
    """The Device's identifier (system, value) from `ifNoneExist`, after its checks."""
    device = entry["resource"]
    profiles_named = (device.get("meta") or {}).get("profile") or []
    if not profiles_named:
        problems.add("Device must provide meta.profile value", "Device.meta.profile")
    raw = str((entry.get("request") or {}).get("ifNoneExist") or "")
    match = IF_NONE_EXIST.match(raw)
    if match is None:
        problems.add(
            "Device.request.ifNoneExist must match identifier=urn:oid:<OID>|<id> (création "
            "conditionnelle du Device).",
            "Bundle.entry.request.ifNoneExist",
        )
        return "", ""
    system, value = f"urn:oid:{match['oid']}", match["id"]
    identifiers = device.get("identifier") or []
    if identifiers and not any(
        isinstance(i, dict) and i.get("system") == system and i.get("value") == value
        for i in identifiers
    ):
        problems.add("Device.identifier must be the one of ifNoneExist.", "Device.identifier")
    if not _under(match["oid"], service.oid):
        problems.conflict = (
            f"OID conflict: the Device's OID {match['oid']} is not under the editor's root OID "
            f"(l'OID du Device doit être sous l'OID racine de l'éditeur {service.oid})."
        )
    return system, value


def _check_observation(
    observation: dict[str, Any], service: Service, problems: _Problems
) -> dict[str, Any]:
    """The Observation's checks of §9.2, every one; `meta.source` filled from the service's OID
    when absent. Returns the fields for measurement_import (empty when a problem was found)."""
    meta = (
        observation.setdefault("meta", {}) if isinstance(observation.get("meta", {}), dict) else {}
    )
    named = [str(p).split("|")[0] for p in meta.get("profile") or []]
    t = next((profiles.BY_PROFILE[p] for p in named if p in profiles.BY_PROFILE), None)
    if t is None:
        problems.add(
            "Observation.meta.profile must be one of the profiles of Mon espace santé "
            "(MesFrObservationBodyWeight, MesObservationGlucose...).",
            "Observation.meta.profile",
        )
    elif t.code is MeasureCode.BODY_MASS_INDEX:
        problems.add(
            "Bmi observation cannot be created (l'IMC est calculé par Mon espace santé).",
            "Observation.meta.profile",
            IssueCode.BUSINESS_RULE,
        )
    if (
        t is not None
        and not t.components
        and not isinstance(observation.get("valueQuantity"), dict)
    ):
        problems.add(
            "Observation value quantity not provided",
            "Observation.valueQuantity",
            IssueCode.REQUIRED,
        )
    if t is not None and t.needs_moment:
        moment = [
            e
            for e in observation.get("extension") or []
            if isinstance(e, dict) and e.get("url") == MOMENT_EXTENSION
        ]
        if not moment:
            problems.add(
                "Observation.extension.moment is mandatory",
                "Observation.extension",
                IssueCode.REQUIRED,
            )
    if t is not None:
        codes = {
            c.get("code")
            for c in ((observation.get("code") or {}).get("coding") or [])
            if isinstance(c, dict) and c.get("system") == LOINC
        }
        if codes and t.loinc not in codes:
            problems.add(
                f"Observation.code must be LOINC {t.loinc} for this profile.", "Observation.code"
            )
    if _subject_espace(observation) is None:
        problems.add(
            "Observation.subject.identifier (idPe) is mandatory.",
            "Observation.subject",
            IssueCode.REQUIRED,
        )
    device = str((observation.get("device") or {}).get("reference") or "")
    if not device:
        problems.add(
            "Observation.device.reference is mandatory.", "Observation.device", IssueCode.REQUIRED
        )
    source = meta.get("source")
    if source:
        m = OID_URN.match(str(source))
        if m is None or not _under(m["oid"], service.oid):
            problems.conflict = problems.conflict or (
                "OID conflict: Observation.meta.source is not under the editor's root OID "
                f"(meta.source doit être sous l'OID racine de l'éditeur {service.oid})."
            )
    else:
        meta["source"] = f"urn:oid:{service.oid}"
    if problems.issues:
        return {}
    try:
        return observation_to_fields(observation)
    except InvalidInput as error:
        problems.add(str(error), f"Observation.{error.field or 'value'}")
        return {}


def _app_observation(m: Measurement) -> dict[str, Any]:
    """The Observation as the app reads it: its subject is the espace's id (never the INS)."""
    obs = measurement_to_observation(m)
    obs["subject"] = {"reference": f"Patient/{m.patient_id}"}
    return obs


@app_endpoint(methods=("POST",))
def transaction_bundle(request: AppRequest) -> HttpResponse:
    """POST /fhir/services/: the PCH-01 transaction of one measure."""
    bundle = read_resource(request, BODY_LIMIT)
    empties = _conforming(bundle)
    problems = _Problems(empties)
    try:
        obs_entry, device_entry = _entries(bundle, problems)
    except FhirError as error:
        raise together([*empties, error]) from None
    observation = obs_entry["resource"]
    check_espace(request, _subject_espace(observation), TraceAction.ADD_MEASURE)
    require_exchange(request, MEASURES, WRITE, TraceAction.ADD_MEASURE)
    service = request.pairing.service
    system, value = _check_device(device_entry, service, problems)
    fields = _check_observation(observation, service, problems)
    problems.raise_if_any()
    try:
        # The device and the measure together; a refusal's trace is written by the action after
        # this rolls back.
        with transaction.atomic():
            device, created = ServiceDevice.objects.get_or_create(
                service=service,
                system=system,
                value=value,
                defaults={"display": str(device_entry["resource"].get("modelNumber") or "")[:200]},
            )
            m = measurement_import(
                actor=request.actor,
                patient_id=request.pairing.patient_id,
                source=Measurement.Source.APP,
                author_label=service.name,
                device_identifier=device.identifier,
                **fields,
            )
    except Refused:
        raise FhirError(403, IssueCode.FORBIDDEN, CONSENT_NOT_GIVEN) from None
    response = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "transaction-response",
        "entry": [
            {
                "fullUrl": obs_entry.get("fullUrl"),
                "response": {"status": "201 Created", "location": f"Observation/{m.pk}"},
            },
            {
                "fullUrl": device_entry.get("fullUrl"),
                "response": {
                    "status": "201 Created" if created else "200 OK",
                    "location": f"Device/{device.pk}",
                },
            },
        ],
    }
    return fhir_response(response, 200)


@app_endpoint(methods=("GET",))
def observation_search(request: AppRequest) -> HttpResponse:
    """GET /fhir/services/Observation[?patient=][&code=LOINC]: the espace's measures."""
    check_espace(
        request,
        request.GET.get("patient") or request.GET.get("subject"),
        TraceAction.CONSULT_MEASURES,
    )
    require_exchange(request, MEASURES, READ, TraceAction.CONSULT_MEASURES)
    found = Measurement.objects.filter(patient_id=request.pairing.patient_id)
    code = (request.GET.get("code") or "").split("|")[-1]
    if code:
        t = profiles.BY_LOINC.get(code)
        found = found.filter(type_code=t.code.value if t else "-")
    rows = list(found.select_related("patient").newest_first()[:500])
    trace.record(
        actor=request.actor,
        action=TraceAction.CONSULT_MEASURES,
        patient_id=request.pairing.patient_id,
    )
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(rows),
            "entry": [
                {
                    "fullUrl": f"Observation/{m.pk}",
                    "resource": _app_observation(m),
                    "search": {"mode": "match"},
                }
                for m in rows
            ],
        }
    )


@app_endpoint(methods=("GET",))
def observation_read(request: AppRequest, resource_id: str) -> HttpResponse:
    """GET /fhir/services/Observation/<id>: one measure of the espace (404 otherwise)."""
    require_exchange(request, MEASURES, READ, TraceAction.CONSULT_MEASURES)
    try:
        wanted = uuid.UUID(resource_id)
    except ValueError:
        raise FhirError(404, IssueCode.NOT_FOUND, "Ressource introuvable.") from None
    m = (
        Measurement.objects.select_related("patient")
        .filter(pk=wanted, patient_id=request.pairing.patient_id)
        .first()
    )
    if m is None:
        raise FhirError(404, IssueCode.NOT_FOUND, "Ressource introuvable.")
    trace.record(
        actor=request.actor,
        action=TraceAction.CONSULT_MEASURES,
        patient_id=m.patient_id,
        document_title=m.measure_type.label,
    )
    return fhir_response(_app_observation(m))

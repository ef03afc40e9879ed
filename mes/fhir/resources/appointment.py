"""Appointments written by professionals' software: FHIR R4 `Appointment` (the agenda santé,
portal.md §8; shapes after the ANS « Gestion d'agendas partagés » guide where it fits).

- `GET /fhir/Appointment?patient=<id>`: the patient's appointments, a searchset Bundle.
- `GET /fhir/Appointment/<id>`: one appointment.
- `POST /fhir/Appointment`: a professional adds an appointment (read-only for the citizen).
- `PUT /fhir/Appointment/<id>`: the same author changes it (status booked, fulfilled,
  cancelled, noshow, entered-in-error; shown in French in the portal).

Who may: a professional who may read the dossier (mes.agenda.policies), never in an emergency
mode; every call is traced by mes.agenda; unknown and refused are the same 404.

Shape: `start`/`end` (instants), `description` (the title), `comment` (the note), `participant`
with the Patient (reference), the practitioner (`actor.identifier` idNat, `actor.display`) and
the place (`actor.display` of a Location, the address).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from fhir.resources.R4B.appointment import Appointment as FhirAppointment

from mes.access.actors import ActorKind
from mes.access.decision import Action
from mes.agenda import actions
from mes.agenda.models import Appointment
from mes.agenda.policies import access_agenda, access_appointment
from mes.audit.models import TraceAction
from mes.fhir.core.access import FhirRequest, fhir_endpoint
from mes.fhir.core.http import (
    by_method,
    conform,
    fhir_base,
    read_resource,
    resource_uuid,
)
from mes.fhir.core.outcome import FhirError, IssueCode, fhir_response
from mes.fhir.mhd import systems
from mes.fhir.mhd.references import local_id
from mes.lib.errors import InvalidInput

SCOPE_APPOINTMENT_READ = "user/Appointment.read"
SCOPE_APPOINTMENT_WRITE = "user/Appointment.write"
IDNAT_PS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
MAX_RESOURCE_BYTES = 32 * 1024

CAPABILITY = {
    "type": "Appointment",
    "documentation": (
        f"Portées {SCOPE_APPOINTMENT_READ} et {SCOPE_APPOINTMENT_WRITE}. L'agenda de santé : "
        "un professionnel autorisé à consulter le dossier lit et écrit les rendez-vous du "
        "patient (jamais en mode urgence) ; un rendez-vous écrit ici est en lecture seule pour "
        "l'usager et ne se modifie que par son auteur."
    ),
    "interaction": [
        {"code": "read"},
        {"code": "search-type"},
        {"code": "create"},
        {"code": "update"},
    ],
    "searchParam": [{"name": "patient", "type": "reference", "documentation": "Patient/<id>"}],
}


def appointment_resource(a: Appointment) -> dict[str, Any]:
    participants: list[dict[str, Any]] = [
        {"actor": {"reference": f"Patient/{a.patient_id}"}, "status": "accepted"}
    ]
    pro: dict[str, Any] = {}
    if a.professional is not None:
        pro = {
            "identifier": {"system": IDNAT_PS_SYSTEM, "value": a.professional.national_id},
            "display": a.professional.display_name,
        }
    elif a.professional_name:
        pro = {"display": a.professional_name}
    if pro:
        participants.append({"actor": pro, "status": "accepted"})
    if a.address:
        participants.append({"actor": {"display": a.address}, "status": "accepted"})
    meta: dict[str, Any] = {"lastUpdated": a.updated_at.isoformat(timespec="seconds")}
    if a.hidden_from_representatives:
        meta["security"] = [SECRET_CARE]
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(a.pk),
        "meta": meta,
        "status": a.status,
        "start": a.starts_at.isoformat(timespec="seconds"),
        "participant": participants,
    }
    if a.ends_at:
        resource["end"] = a.ends_at.isoformat(timespec="seconds")
    if a.title:
        resource["description"] = a.title
    if a.note:
        resource["comment"] = a.note
    return resource


# A minor's secret care, as the DMP labels a document (TRE_A07, R1111-50), in meta.security.
SECRET_CARE = {
    "system": systems.TRE_A07,
    "code": "INVISIBLE_REPRESENTANTS_LEGAUX",
    "display": "Non visible par les représentants légaux du patient",
}


def secret_care(body: dict[str, Any]) -> bool:
    """Does the Appointment say it is a minor's secret care (meta.security, TRE_A07)? 422 for
    another visibility code of TRE_A07, which an appointment does not take; labels of other
    systems are not ours to read."""
    hidden = False
    meta = body.get("meta") or {}
    for i, coding in enumerate(meta.get("security") or []):
        if not systems.same_system(coding.get("system"), systems.TRE_A07):
            continue
        if coding.get("code") != SECRET_CARE["code"]:
            raise FhirError(
                422,
                IssueCode.VALUE,
                f"Code de visibilité « {coding.get('code')} » non applicable à un rendez-vous : "
                "seul INVISIBLE_REPRESENTANTS_LEGAUX (soins d'un mineur gardés secrets) l'est.",
                expression=f"Appointment.meta.security[{i}]",
            )
        hidden = True
    return hidden


@dataclass(frozen=True)
class IncomingAppointment:
    """What an incoming Appointment says, read once it is valid FHIR R4: the patient, the
    action's fields, and whether it is a minor's secret care."""

    body: dict[str, Any]
    patient_id: uuid.UUID
    fields: dict[str, Any]
    hidden: bool


def appointment_body(request: FhirRequest) -> IncomingAppointment:
    """The request's Appointment (JSON or XML), valid FHIR R4, read: 400 for another resource,
    422 naming the first element the model refuses, or every element that is not FHIR JSON
    with what the reading finds (conform)."""
    body = read_resource(request, MAX_RESOURCE_BYTES)
    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise FhirError(
            400,
            IssueCode.STRUCTURE,
            "Le corps doit être une ressource Appointment FHIR R4 en JSON.",
            expression="resourceType",
        )

    def read() -> IncomingAppointment:
        patient_id, fields = appointment_fields(request, body)
        return IncomingAppointment(body, patient_id, fields, secret_care(body))

    return conform(FhirAppointment, body, "Appointment", read)


def appointment_fields(
    request: FhirRequest, body: dict[str, Any]
) -> tuple[uuid.UUID, dict[str, Any]]:
    """The patient and the action's fields an incoming Appointment carries."""
    patient_id = None
    professional_name, address = "", ""
    for p in body.get("participant") or []:
        actor = p.get("actor") or {}
        ref = str(actor.get("reference") or "")
        if ref.startswith("Patient/") or "/Patient/" in ref:
            patient_id = local_id(ref, "Patient", fhir_base(request))
        elif ref.startswith("Location/") or actor.get("type") == "Location":
            address = str(actor.get("display") or "")
        elif not professional_name:
            professional_name = str(actor.get("display") or "")
    if patient_id is None:
        raise FhirError(
            422,
            IssueCode.REQUIRED,
            "Précisez le patient : participant.actor.reference = Patient/<id>.",
            expression="Appointment.participant",
        )
    start = body.get("start")
    if not start:
        raise FhirError(
            422,
            IssueCode.REQUIRED,
            "Le début (start) est obligatoire.",
            expression="Appointment.start",
        )
    starts_at = datetime.fromisoformat(str(start))
    name = professional_name or (request.professional.display_name if request.professional else "")
    return patient_id, {
        "starts_at": starts_at,
        "title": str(body.get("description") or "")[:100],
        "note": str(body.get("comment") or ""),
        "professional_name": name[:100],
        "address": address,
    }


def appointment_save(
    request: FhirRequest, incoming: IncomingAppointment, appointment_id: uuid.UUID | None
) -> Any:
    """The appointment written by the request's actor (a professional, or a paired app) from a
    FHIR Appointment's fields: 422 `value` for what the agenda refuses. Only a professional
    keeps a minor's care secret from the parents (an app writes for the citizen)."""
    if incoming.hidden and request.actor.kind is not ActorKind.PROFESSIONAL:
        raise FhirError(
            422,
            IssueCode.BUSINESS_RULE,
            "Seul un professionnel de santé peut rendre un rendez-vous invisible aux "
            "représentants légaux.",
            expression="Appointment.meta.security",
        )
    try:
        data = actions.clean_appointment(**incoming.fields)
        return actions.appointment_write(
            actor=request.actor,
            patient_id=incoming.patient_id,
            data=data,
            status=str(incoming.body.get("status") or ""),
            appointment_id=appointment_id,
            hidden_from_representatives=incoming.hidden,
        )
    except InvalidInput as error:
        raise FhirError(422, IssueCode.VALUE, str(error), expression="Appointment") from None


@fhir_endpoint(scopes=[SCOPE_APPOINTMENT_READ], methods=["GET"])
def _search(request: FhirRequest) -> HttpResponse:
    raw = request.GET.get("patient", "").strip()
    if not raw:
        raise FhirError(
            400, IssueCode.REQUIRED, "Précisez le patient : patient=<id>.", expression="patient"
        )
    pid = local_id(raw, "Patient", fhir_base(request), bare=True)
    patient = access_agenda(
        request.actor,
        pid or uuid.UUID(int=0),
        action=Action.READ,
        trace_action=TraceAction.CONSULT_AGENDA,
    )
    base = fhir_base(request)
    rows = Appointment.objects.filter(patient=patient).select_related("professional")
    entries = [
        {
            "fullUrl": f"{base}Appointment/{a.pk}",
            "resource": appointment_resource(a),
            "search": {"mode": "match"},
        }
        for a in rows
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "link": [{"relation": "self", "url": f"{base}Appointment?patient={raw}"}],
    }
    if entries:
        bundle["entry"] = entries
    return fhir_response(bundle)


@fhir_endpoint(scopes=[SCOPE_APPOINTMENT_WRITE], methods=["POST"])
def _create(request: FhirRequest) -> HttpResponse:
    appointment = appointment_save(request, appointment_body(request), None)
    response = fhir_response(appointment_resource(appointment), status=201)
    response["Location"] = f"{fhir_base(request)}Appointment/{appointment.pk}"
    return response


@fhir_endpoint(scopes=[SCOPE_APPOINTMENT_READ], methods=["GET"])
def _read(request: FhirRequest, resource_id: str) -> HttpResponse:
    appointment = access_appointment(
        request.actor,
        resource_uuid(resource_id),
        action=Action.READ,
        trace_action=TraceAction.CONSULT_APPOINTMENT,
    )
    return fhir_response(appointment_resource(appointment))


@fhir_endpoint(scopes=[SCOPE_APPOINTMENT_WRITE], methods=["PUT"])
def _update(request: FhirRequest, resource_id: str) -> HttpResponse:
    incoming = appointment_body(request)
    pk = resource_uuid(resource_id)
    if incoming.body.get("id") and incoming.body["id"] != resource_id:
        raise FhirError(
            400, IssueCode.VALUE, "L'id du corps diffère de l'URL.", expression="Appointment.id"
        )
    appointment = appointment_save(request, incoming, pk)
    appointment.refresh_from_db()
    return fhir_response(appointment_resource(appointment))


appointment_type = by_method(GET=_search, POST=_create)
appointment_instance = by_method(GET=_read, PUT=_update)

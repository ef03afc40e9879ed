"""Appointments from and to a paired service (mes-spec §8.2 « Agenda »; issue 11 item 4).

The professionals' Appointment shapes and parsing (mes/fhir/resources/appointment.py) with the app
actor: `GET /fhir/services/Appointment` (the espace's appointments), `GET
/fhir/services/Appointment/<id>`, `POST /fhir/services/Appointment` (added « par <service> »,
read-only in the portal), `PUT /fhir/services/Appointment/<id>` (only what this app wrote).
Each behind its consented purpose (agenda, lecture / écriture).
"""

from __future__ import annotations

import uuid

from django.http import HttpResponse

from mes.access.decision import Action
from mes.agenda.models import Appointment
from mes.agenda.policies import access_appointment, exchanged_agenda, visible_appointments
from mes.audit.models import TraceAction
from mes.fhir.core.http import resource_uuid
from mes.fhir.core.outcome import fhir_response
from mes.fhir.resources.appointment import (
    appointment_body,
    appointment_resource,
    appointment_save,
)

from .access import AppRequest, app_endpoint, check_espace, require_exchange

AGENDA, READ, WRITE = "agenda", "lecture", "ecriture"


def _save(request: AppRequest, appointment_id: uuid.UUID | None) -> Appointment:
    request.professional = None
    incoming = appointment_body(request)
    trace_as = TraceAction.UPDATE_APPOINTMENT if appointment_id else TraceAction.ADD_APPOINTMENT
    check_espace(request, str(incoming.patient_id), trace_as)
    # The gate answers the apps' own refusals (403 « Consent not given », the token's scope);
    # the write's action then decides again, inside the transaction that writes (mes/agenda
    # actions decide and write atomically, as every action): kept, not merged (the search
    # below, which writes nothing, decides once).
    require_exchange(request, AGENDA, WRITE, trace_as)
    return appointment_save(request, incoming, appointment_id)


@app_endpoint(methods=("GET", "POST"))
def appointment_type(request: AppRequest) -> HttpResponse:
    if request.method == "POST":
        appointment = _save(request, None)
        response = fhir_response(appointment_resource(appointment), status=201)
        response["Location"] = f"Appointment/{appointment.pk}"
        return response
    check_espace(request, request.GET.get("patient"), TraceAction.CONSULT_AGENDA)
    # One decision: the gate's (the agenda purpose consented, the pairing standing; then the
    # token's scope, which is no decision on the espace) is the one the agenda's access applies
    # to an app, so the access uses it rather than deciding again (exchanged_agenda).
    exchange = require_exchange(request, AGENDA, READ, TraceAction.CONSULT_AGENDA)
    reached = exchanged_agenda(
        request.actor, request.pairing.patient, exchange, trace_action=TraceAction.CONSULT_AGENDA
    )
    mine = Appointment.objects.filter(patient=reached.patient).select_related("professional")
    rows = visible_appointments(mine, reached.standing)
    entries = [{"resource": appointment_resource(a), "search": {"mode": "match"}} for a in rows]
    return fhir_response(
        {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
    )


@app_endpoint(methods=("GET", "PUT"))
def appointment_instance(request: AppRequest, resource_id: str) -> HttpResponse:
    pk = resource_uuid(resource_id)
    if request.method == "PUT":
        appointment = _save(request, pk)
        appointment.refresh_from_db()
        return fhir_response(appointment_resource(appointment))
    # One decision, as for the search: the gate's, then the appointment within that agenda.
    exchange = require_exchange(request, AGENDA, READ, TraceAction.CONSULT_APPOINTMENT)
    reached = exchanged_agenda(
        request.actor,
        request.pairing.patient,
        exchange,
        trace_action=None,
        refused_as=TraceAction.CONSULT_APPOINTMENT,
    )
    appointment = access_appointment(
        request.actor,
        pk,
        action=Action.READ,
        trace_action=TraceAction.CONSULT_APPOINTMENT,
        reached=reached,
    )
    return fhir_response(appointment_resource(appointment))

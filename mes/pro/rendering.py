"""What every Web PS page shows around its content: the professional, the patient being viewed
(with the tabs the professional may open) and the emergency banner while it lasts."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from mes.access.decision import Action, decide
from mes.identity.lookup import patient_identity
from mes.identity.models import Citizen
from mes.reimbursements.policies import care_history_readable
from mes.vaccinations.policies import vaccinations_readable

from .access import ProRequest

FOUND_SESSION_KEY = "mes_pro_found"  # patients whose identity this session already let out
FOUND_KEPT = 200


def patient_tabs(request: ProRequest, patient: Citizen) -> dict[str, bool]:
    """Which of the patient's pages to offer (pure: writes no trace; each page still goes
    through its own policy)."""
    decision = decide(request.actor, Action.READ, patient)
    return {
        "patient_readable": decision.allowed,
        "vaccinations_readable": vaccinations_readable(request.actor, patient),
        "care_history_readable": care_history_readable(request.actor, patient),
        "patient_depositable": decision.standing.may_deposit,
    }


def remember_found(request: ProRequest, patients: list[Citizen]) -> None:
    """The identities a search let out (and traced): opening their page traces nothing more."""
    found = [str(p.pk) for p in patients]
    kept = [pk for pk in request.session.get(FOUND_SESSION_KEY, []) if pk not in found]
    request.session[FOUND_SESSION_KEY] = (found + kept)[:FOUND_KEPT]


def patient_of(request: ProRequest, patient_id: uuid.UUID) -> Citizen:
    """The patient of a patient-scoped page, traced the first time this session shows them."""
    known = str(patient_id) in request.session.get(FOUND_SESSION_KEY, [])
    patient = patient_identity(actor=request.actor, patient_id=patient_id, already_traced=known)
    if not known:
        remember_found(request, [patient])
    return patient


def render_pro(
    request: ProRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    patient: Citizen | None = None,
    status: int = 200,
) -> HttpResponse:
    ctx: dict[str, Any] = {"professional": request.professional, "patient": patient}
    if patient is not None:
        ctx["emergency"] = request.emergency if patient.pk == request.patient_id else None
        ctx.update(patient_tabs(request, patient))
    ctx.update(context or {})
    return render(request, template, ctx, status=status)

"""The support desk (the 3422): an agent finds an espace by NIR, sees its state and history,
resends a code, records an opposition or a closure asked on the phone. No health content is
ever shown here (the desk has no standing on any dossier)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.enrolment import desk
from mes.enrolment.lifecycle import EnrolmentRefused
from mes.identity.models import User
from mes.lib.errors import InvalidInput, NotFound
from mes.web.login_code import OneTimeCodeStep, PasswordStep

from .access import DeskRequest, support_view
from .forms import CloseForm, DeskLoginForm, NirForm, ReasonForm, ResendForm

PENDING_LOGIN_KEY = "desk_pending_login"

# Step 2 of the agents' login, shared with the two portals (mes/web/login_code.py): attempts
# counted per code and per address by the identity module, a fresh code at most once a minute.
LOGIN_CODE = OneTimeCodeStep(
    namespace="backoffice",
    kind=User.Kind.OPERATOR,
    session_key=PENDING_LOGIN_KEY,
    template="backoffice/login_code.html",
    home="backoffice:search",
    accepts=Q(support_agent__active=True),
)


# Step 1 of the agents' own login, shared with the two portals: identifiant and password; on
# success a one-time code is e-mailed to the agent. An agent always lands on the search.
desk_login = PasswordStep(
    step=LOGIN_CODE, form=DeskLoginForm, template="backoffice/login.html", follows_next=False
).view()
desk_login_code = LOGIN_CODE.view()


@require_POST
@support_view
def desk_logout(request: DeskRequest) -> HttpResponse:
    logout(request)
    return redirect("backoffice:login")


@require_http_methods(["GET"])
@support_view
def search(request: DeskRequest) -> HttpResponse:
    form = NirForm(request.GET or None)
    view = None
    if form.is_bound and form.is_valid():
        try:
            view = desk.desk_find(actor=request.actor, nir=form.cleaned_data["nir"])
        except InvalidInput as error:
            form.add_input_error(error)
        except NotFound:
            form.add_error("nir", "Aucun profil Mon espace santé pour ce numéro.")
    return render(
        request,
        "backoffice/search.html",
        {
            "form": form,
            "view": view,
            "resend_form": ResendForm(),
            "close_form": CloseForm(),
            "reason_form": ReasonForm(),
        },
    )


def _back(espace_id: uuid.UUID) -> HttpResponse:
    from mes.identity.models import Citizen

    ins = Citizen.objects.filter(pk=espace_id).values_list("ins", flat=True).first() or ""
    response = redirect("backoffice:search")
    response["Location"] += f"?nir={ins}"
    return response


@require_POST
@support_view
def resend(request: DeskRequest, citizen_id: uuid.UUID) -> HttpResponse:
    form = ResendForm(request.POST)
    if form.is_valid():
        try:
            where = desk.desk_resend_code(
                actor=request.actor, citizen_id=citizen_id, channel=form.cleaned_data["channel"]
            )
            messages.success(request, f"Nouveau code provisoire envoyé : {where}.")
        except EnrolmentRefused as refused:
            messages.error(request, str(refused))
    return _back(citizen_id)


@require_POST
@support_view
def oppose(request: DeskRequest, citizen_id: uuid.UUID) -> HttpResponse:
    try:
        desk.desk_oppose(actor=request.actor, citizen_id=citizen_id)
        messages.success(request, "Opposition enregistrée.")
    except EnrolmentRefused as refused:
        messages.error(request, str(refused))
    return _back(citizen_id)


@require_POST
@support_view
def close(request: DeskRequest, citizen_id: uuid.UUID) -> HttpResponse:
    form = CloseForm(request.POST)
    form.is_valid()
    try:
        desk.desk_close(
            actor=request.actor,
            citizen_id=citizen_id,
            express_deletion=bool(form.cleaned_data.get("express_deletion")),
        )
        messages.success(request, "Clôture enregistrée.")
    except EnrolmentRefused as refused:
        messages.error(request, str(refused))
    return _back(citizen_id)


def _pdf(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET"])
@support_view
def opposition_proof(request: DeskRequest, citizen_id: uuid.UUID) -> HttpResponse:
    """The PDF proof of an opposition, asked on the phone: the agent sends or prints it."""
    pdf = desk.desk_opposition_proof(actor=request.actor, citizen_id=citizen_id)
    return _pdf(pdf, "justificatif-opposition-mon-espace-sante.pdf")


@require_http_methods(["GET"])
@support_view
def closure_proof(request: DeskRequest, citizen_id: uuid.UUID) -> HttpResponse:
    """The PDF proof of a closure, recorded at the desk or done online with the code: the
    agent sends or prints it for the holder."""
    pdf = desk.desk_closure_proof(actor=request.actor, citizen_id=citizen_id)
    return _pdf(pdf, "justificatif-cloture-mon-espace-sante.pdf")


def _with_reason(request: DeskRequest, citizen_id: uuid.UUID, step: Any, done: str) -> HttpResponse:
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Indiquez le motif.")
        return _back(citizen_id)
    try:
        step(actor=request.actor, citizen_id=citizen_id, reason=form.cleaned_data["reason"])
        messages.success(request, done)
    except EnrolmentRefused as refused:
        messages.error(request, str(refused))
    return _back(citizen_id)


@require_POST
@support_view
def suspend(request: DeskRequest, citizen_id: uuid.UUID) -> HttpResponse:
    """A suspension decided by the Assurance Maladie (R1111-36), with its reason."""
    return _with_reason(request, citizen_id, desk.desk_suspend, "Suspension enregistrée.")


@require_POST
@support_view
def lift(request: DeskRequest, citizen_id: uuid.UUID) -> HttpResponse:
    """The holder objects to the suspension on the phone, the cause being settled."""
    return _with_reason(
        request, citizen_id, desk.desk_lift_suspension, "Suspension levée : le profil est actif."
    )

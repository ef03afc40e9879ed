"""The support desk (the 3422): an agent finds an espace by NIR, sees its state and history,
resends a code, records an opposition or a closure asked on the phone. No health content is
ever shown here (the desk has no standing on any dossier)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import logout
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.enrolment import desk
from mes.enrolment.lifecycle import EnrolmentRefused
from mes.identity.actions import (
    BAD_CREDENTIALS,
    LoginRefused,
    login_check_password,
    one_time_code_send,
)
from mes.identity.models import OneTimeCode, User
from mes.identity.throttle import client_address
from mes.lib.errors import InvalidInput, NotFound
from mes.web.access import public_view
from mes.web.login_code import OneTimeCodeStep

from .access import DeskRequest, support_view
from .forms import CloseForm, DeskLoginForm, NirForm, ResendForm
from .models_desk import SupportAgent

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


@require_http_methods(["GET", "POST"])
@public_view
def desk_login(request: HttpRequest) -> HttpResponse:
    """Step 1 of the agents' own login: identifiant and password (with the service's
    lock-out); on success a one-time code is e-mailed to the agent, as for the Web PS."""
    form = DeskLoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = login_check_password(
                identifier=form.cleaned_data["identifier"],
                password=form.cleaned_data["password"],
                kind=User.Kind.OPERATOR,
                address=client_address(request),
            )
            if not SupportAgent.objects.filter(user=user, active=True).exists():
                # The same message as a wrong password: the form never tells who exists.
                raise LoginRefused(BAD_CREDENTIALS)
            one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
        except LoginRefused as refused:
            form.add_error(None, str(refused))
        else:
            return LOGIN_CODE.begin(request, user)
    return render(request, "backoffice/login.html", {"form": form})


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

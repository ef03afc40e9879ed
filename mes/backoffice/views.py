"""The support desk (the 3422): an agent finds an espace by NIR, sees its state and history,
resends a code, records an opposition or a closure asked on the phone. No health content is
ever shown here (the desk has no standing on any dossier)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.enrolment import desk
from mes.enrolment.lifecycle import EnrolmentRefused
from mes.identity.actions import (
    BAD_CREDENTIALS,
    LoginRefused,
    email_address_of,
    login_check_password,
    one_time_code_send,
    one_time_code_verify,
)
from mes.identity.models import OneTimeCode, User
from mes.identity.throttle import client_address
from mes.lib.errors import InvalidInput, NotFound
from mes.web.access import public_view
from mes.web.forms import OneTimeCodeForm

from .access import DeskRequest, support_view
from .forms import CloseForm, DeskLoginForm, NirForm, ResendForm
from .models_desk import SupportAgent

PENDING_LOGIN_KEY = "desk_pending_login"
RESEND_ACTION = "renvoyer"


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
            request.session[PENDING_LOGIN_KEY] = user.pk
            return redirect("backoffice:login_code")
    return render(request, "backoffice/login.html", {"form": form})


def _pending_agent(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_LOGIN_KEY)
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(
        pk=user_id,
        kind=User.Kind.OPERATOR,
        is_active=True,
        support_agent__active=True,
    ).first()
    if user is None:
        request.session.pop(PENDING_LOGIN_KEY, None)
    return user


def _masked_email(user: User) -> str:
    local, _, domain = email_address_of(user).partition("@")
    return f"l'adresse {local[:1]}•••@{domain}"


@require_http_methods(["GET", "POST"])
@public_view
def desk_login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the one-time code (attempts counted per code and per address by the identity
    module). « Renvoyer un code » sends a fresh one, at most one a minute."""
    user = _pending_agent(request)
    if user is None:
        return redirect("backoffice:login")
    form = OneTimeCodeForm()
    if request.method == "POST" and request.POST.get("action") == RESEND_ACTION:
        try:
            one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
        except LoginRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, f"Un nouveau code a été envoyé à {_masked_email(user)}.")
        return redirect("backoffice:login_code")
    if request.method == "POST":
        form = OneTimeCodeForm(request.POST)
        if form.is_valid():
            try:
                one_time_code_verify(
                    user=user, code=form.cleaned_data["code"], address=client_address(request)
                )
            except LoginRefused as refused:
                form.add_error(None, str(refused))
            else:
                # login() gives the session a new key (no session fixation).
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                request.session.pop(PENDING_LOGIN_KEY, None)
                return redirect("backoffice:search")
    return render(
        request,
        "backoffice/login_code.html",
        {
            "form": form,
            "destination": _masked_email(user),
            "resend_action": RESEND_ACTION,
            "validity_minutes": int(settings.MES_OTP_VALIDITY.total_seconds() // 60),
        },
    )


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

"""The account pages (portal.md §5.7): my information, password change, forgotten password,
e-mail and phone change confirmed on the new channel, my other sessions. The rules are in
mes.enrolment.account; every change is notified, on the old channel too."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.enrolment import account
from mes.identity.throttle import client_address
from mes.lib.errors import InvalidInput
from mes.web.access import public_view

from ..access import PortalRequest, patient_view
from .manage_forms import (
    CodeForm,
    ContactForm,
    ForgottenFinishForm,
    ForgottenStartForm,
    PasswordChangeForm,
)

CONTACT_KEY = "mes_account_contact"
FORGOTTEN_KEY = "mes_account_forgotten"
SENT = "Si cet identifiant existe, un code vient d'être envoyé à l'adresse ou au numéro du compte."


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


@require_http_methods(["GET"])
@patient_view
def information(request: PortalRequest) -> HttpResponse:
    """« Informations de connexion » and « Mes sessions »."""
    sessions = account.sessions_of(request.user)  # type: ignore[arg-type]
    return render(
        request,
        "portal/account/manage/information.html",
        {"sessions": sessions, "current_key": request.session.session_key},
    )


@require_http_methods(["GET", "POST"])
@patient_view
def password_change(request: PortalRequest) -> HttpResponse:
    form = PasswordChangeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            account.password_change(
                actor=request.actor,
                user=request.user,  # type: ignore[arg-type]
                current=form.cleaned_data["current"],
                new=form.cleaned_data["new"],
            )
        except InvalidInput as error:
            form.add_input_error(error)
        else:
            update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
            messages.success(request, "Votre mot de passe est modifié.")
            return redirect("portal:account_information")
    return render(
        request,
        "portal/account/manage/form.html",
        _page(form, "Modifier mon mot de passe", "Enregistrer"),
    )


@require_http_methods(["GET", "POST"])
@patient_view
def contact_change(request: PortalRequest) -> HttpResponse:
    """Step 1: the new e-mail or phone (a code is sent there); step 2: the code."""
    user = request.user
    pending = request.session.get(CONTACT_KEY)
    if request.method == "POST" and "code" in request.POST and isinstance(pending, dict):
        code_form = CodeForm(request.POST)
        if code_form.is_valid():
            try:
                account.contact_change_finish(
                    user=user,  # type: ignore[arg-type]
                    channel=pending["channel"],
                    value=pending["value"],
                    code=code_form.cleaned_data["code"],
                    address=client_address(request),
                )
            except InvalidInput as error:
                code_form.add_input_error(error)
            else:
                request.session.pop(CONTACT_KEY, None)
                messages.success(request, "Vos coordonnées sont modifiées.")
                return redirect("portal:account_information")
        return render(
            request,
            "portal/account/manage/form.html",
            _page(
                code_form,
                "Confirmer la modification",
                "Confirmer",
                f"Saisissez le code envoyé à {pending['value']}.",
            ),
        )
    form = ContactForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account.contact_change_start(user=user, channel=data["channel"], value=data["value"])  # type: ignore[arg-type]
        except InvalidInput as error:
            form.add_input_error(error)
        else:
            request.session[CONTACT_KEY] = {"channel": data["channel"], "value": data["value"]}
            return render(
                request,
                "portal/account/manage/form.html",
                _page(
                    CodeForm(),
                    "Confirmer la modification",
                    "Confirmer",
                    f"Saisissez le code envoyé à {data['value']}.",
                ),
            )
    return render(
        request,
        "portal/account/manage/form.html",
        _page(form, "Modifier mon e-mail ou mon téléphone", "Recevoir un code"),
    )


@require_POST
@patient_view
def sessions_end(request: PortalRequest) -> HttpResponse:
    n = account.sessions_end_others(user=request.user, keep=request.session.session_key or "")  # type: ignore[arg-type]
    messages.success(request, f"{n} autre(s) session(s) fermée(s).")
    return redirect("portal:account_information")


@require_http_methods(["GET", "POST"])
@public_view
def password_forgotten(request: HttpRequest) -> HttpResponse:
    """« Mot de passe oublié » without being logged in: a code, then the new password."""
    pending = request.session.get(FORGOTTEN_KEY)
    if (isinstance(pending, str) and request.GET.get("etape") == "code") or (
        request.method == "POST" and "code" in request.POST and isinstance(pending, str)
    ):
        form: Any = ForgottenFinishForm(_posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                account.password_reset_finish(
                    username=str(pending),
                    code=form.cleaned_data["code"],
                    new=form.cleaned_data["new"],
                    address=client_address(request),
                )
            except InvalidInput as error:
                form.add_input_error(error)
            else:
                request.session.pop(FORGOTTEN_KEY, None)
                messages.success(request, "Votre mot de passe est modifié : connectez-vous.")
                return redirect("portal:login")
        return render(
            request,
            "portal/account/manage/form.html",
            _page(form, "Choisir un nouveau mot de passe", "Enregistrer", SENT),
        )
    form = ForgottenStartForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        account.password_reset_start(
            username=form.cleaned_data["username"], channel=form.cleaned_data["channel"]
        )
        request.session[FORGOTTEN_KEY] = form.cleaned_data["username"].strip()
        return redirect(request.path + "?etape=code")
    return render(
        request,
        "portal/account/manage/form.html",
        _page(form, "Mot de passe oublié", "Recevoir un code"),
    )


def _page(form: Any, title: str, submit: str, intro: str = "") -> dict[str, Any]:
    return {"form": form, "title": title, "submit": submit, "intro": intro}

"""The professionals' login: identifiant (RPPS) + mot de passe, then a one-time code by e-mail;
the « code first » road when the RPPS is under attack; a passkey; and the professional's
« appareils associés ».

Real professionals sign in to the DMP with their CPS / e-CPS card or Pro Santé Connect
(mes-spec §5.7); this self-hosted version uses the same steps as the citizens' login, through
the same identity actions (throttling without lock-out, single-use codes, passkeys). Between the
two steps the session holds only the pending user's id: nobody is logged in until the code is
right.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from mes.fhir.oauth import redirect_origin_of
from mes.identity import passkeys
from mes.identity.actions import (
    BAD_CREDENTIALS,
    LoginRefused,
    email_address_of,
    login_check_code_first,
    login_check_password,
    one_time_code_send,
    one_time_code_send_first,
    one_time_code_verify,
)
from mes.identity.models import OneTimeCode, Professional, User
from mes.identity.throttle import client_address
from mes.web import passkeys as web_passkeys
from mes.web.forms import OneTimeCodeForm
from mes.web.middleware import allow_form_action
from mes.web.passkey_pages import PasskeyPages

from .access import professional_view, public_view
from .forms import ProCodeFirstForm, ProCodeFirstStartForm, ProLoginForm
from .rendering import render_pro

PENDING_LOGIN_KEY = "mes_pro_pending_login"
CODE_FIRST_KEY = "mes_pro_code_first_login"
PASSKEY_LOGIN = "pro-login"
PASSKEY_REGISTER = "pro-register"
RESEND_ACTION = "renvoyer"


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    """`next` only when it stays on this site (the OAuth authorize endpoint sends professionals
    here with it); anything else is dropped (no open redirect)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _masked_email(user: User) -> str:
    local, _, domain = email_address_of(user).partition("@")
    return f"l'adresse {local[:1]}•••@{domain}"


def _is_professional(user: Any) -> bool:
    return bool(user.is_authenticated and Professional.objects.filter(user_id=user.pk).exists())


def _pending_user(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING_LOGIN_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("user_id"), int):
        return None
    user = User.objects.filter(
        pk=pending["user_id"], kind=User.Kind.PROFESSIONAL, is_active=True
    ).first()
    if user is None:
        request.session.pop(PENDING_LOGIN_KEY, None)
        return None
    return user, pending


@require_http_methods(["GET", "POST"])
@public_view
def login_view(request: HttpRequest) -> HttpResponse:
    """Step 1: RPPS and password; on success a code is e-mailed and step 2 asked for."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if _is_professional(request.user):
        return redirect(next_url or "pro:home")
    form = ProLoginForm(request.POST or None, initial={"next": next_url})
    if request.method == "POST" and form.is_valid():
        try:
            user = login_check_password(
                identifier=form.cleaned_data["identifier"],
                password=form.cleaned_data["password"],
                kind=User.Kind.PROFESSIONAL,
                address=client_address(request),
            )
            if not Professional.objects.filter(user=user).exists():
                # A professional login without a professional behind it: the same message as
                # a wrong password, so the form never tells which accounts exist.
                raise LoginRefused(BAD_CREDENTIALS)
            one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
        except LoginRefused as refused:
            form.add_error(None, str(refused))
        else:
            request.session[PENDING_LOGIN_KEY] = {"user_id": user.pk, "next": next_url}
            return redirect("pro:login_code")
    return render(request, "pro/account/login.html", {"form": form, "next": next_url})


@require_http_methods(["GET", "POST"])
@public_view
def login_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the one-time code. « Renvoyer un code » sends a fresh one."""
    found = _pending_user(request)
    if found is None:
        return redirect("pro:login")
    user, pending = found
    form = OneTimeCodeForm()
    if request.method == "POST" and request.POST.get("action") == RESEND_ACTION:
        try:
            one_time_code_send(user=user, channel=OneTimeCode.Channel.EMAIL)
        except LoginRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, f"Un nouveau code a été envoyé à {_masked_email(user)}.")
        return redirect("pro:login_code")
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
                return redirect(pending.get("next") or "pro:home")
    response = render(
        request,
        "pro/account/login_code.html",
        {
            "form": form,
            "destination": _masked_email(user),
            "resend_action": RESEND_ACTION,
            "validity_minutes": int(settings.MES_OTP_VALIDITY.total_seconds() // 60),
        },
    )
    # Signing in for practice software ends at its redirect URI, through this form's post.
    return allow_form_action(response, redirect_origin_of(pending.get("next") or ""))


@require_POST
@public_view
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST only, so that no link or image can log a professional out."""
    logout(request)
    messages.success(request, "Vous êtes déconnecté de l'espace professionnel.")
    return redirect("pro:login")


# --- « Recevoir un code d'abord » -------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@public_view
def login_code_first(request: HttpRequest) -> HttpResponse:
    """The RPPS only: a code is e-mailed if a professional has it; the next page says the
    same either way."""
    next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next"))
    form = ProCodeFirstStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"]
        try:
            user = one_time_code_send_first(
                identifier=identifier,
                address=client_address(request),
                kind=User.Kind.PROFESSIONAL,
            )
        except LoginRefused as refused:
            form.add_error(None, str(refused))
        else:
            request.session.pop(PENDING_LOGIN_KEY, None)
            request.session[CODE_FIRST_KEY] = {
                "user_id": user.pk if user else None,
                "identifier": identifier,
                "next": next_url,
            }
            return redirect("pro:login_code_first_check")
    return render(request, "pro/account/login_code_first.html", {"form": form, "next": next_url})


@require_http_methods(["GET", "POST"])
@public_view
def login_code_first_check(request: HttpRequest) -> HttpResponse:
    """The code received, then the password."""
    pending = request.session.get(CODE_FIRST_KEY)
    if not isinstance(pending, dict) or "identifier" not in pending:
        return redirect("pro:login_code_first")
    user_id = pending.get("user_id")
    user = (
        User.objects.filter(pk=user_id, kind=User.Kind.PROFESSIONAL, is_active=True).first()
        if isinstance(user_id, int)
        else None
    )
    form = ProCodeFirstForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signed_in = login_check_code_first(
                user=user,
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password"],
                address=client_address(request),
                identifier=str(pending["identifier"]),
            )
        except LoginRefused as refused:
            form.add_error(None, str(refused))
        else:
            login(request, signed_in, backend="django.contrib.auth.backends.ModelBackend")
            request.session.pop(CODE_FIRST_KEY, None)
            return redirect(pending.get("next") or "pro:home")
    response = render(
        request,
        "pro/account/login_code_first_check.html",
        {"form": form, "validity_minutes": int(settings.MES_OTP_VALIDITY.total_seconds() // 60)},
    )
    return allow_form_action(response, redirect_origin_of(str(pending.get("next") or "")))


# --- Passkeys ----------------------------------------------------------------------------------


@require_POST
@public_view
def passkey_login_options(request: HttpRequest) -> HttpResponse:
    """The options of a passkey sign-in; its challenge is kept in the session, once."""
    options, challenge = passkeys.authentication_options(rp=web_passkeys.relying_party(request))
    web_passkeys.keep_challenge(request, PASSKEY_LOGIN, challenge)
    return web_passkeys.options_response(options)


@require_POST
@public_view
def passkey_login(request: HttpRequest) -> HttpResponse:
    """The browser's answer: signed in when the key is a professional's and checks pass."""
    body = web_passkeys.posted_json(request)
    challenge = web_passkeys.take_challenge(request, PASSKEY_LOGIN)
    if body is None or challenge is None or not isinstance(body.get("credential"), dict):
        return web_passkeys.refusal(passkeys.PASSKEY_REFUSED)
    try:
        user = passkeys.passkey_sign_in(
            credential=body["credential"],
            challenge=challenge,
            rp=web_passkeys.relying_party(request),
            kind=User.Kind.PROFESSIONAL,
        )
        if not Professional.objects.filter(user=user).exists():
            raise LoginRefused(passkeys.PASSKEY_REFUSED)
    except LoginRefused as refused:
        return web_passkeys.refusal(str(refused))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.pop(PENDING_LOGIN_KEY, None)
    next_url = _safe_next(request, str(body.get("next") or ""))
    return JsonResponse({"ok": True, "redirect": next_url or reverse("pro:home")})


# « Appareils associés »: the pages shared with the citizen portal (mes/web/passkey_pages.py).
PASSKEY_PAGES = PasskeyPages(
    namespace="pro",
    template="pro/account/passkeys.html",
    protect=professional_view,
    example="Poste du cabinet",
    render=render_pro,
)

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

from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from mes.fhir.oauth import redirect_origin_of
from mes.identity import passkeys
from mes.identity.actions import (
    BAD_CREDENTIALS,
    LoginRefused,
    login_check_code_first,
    login_check_password,
    one_time_code_send,
    one_time_code_send_first,
)
from mes.identity.models import OneTimeCode, Professional, User
from mes.identity.throttle import client_address
from mes.web import passkeys as web_passkeys
from mes.web.login_code import (
    MODEL_BACKEND,
    OneTimeCodeStep,
    otp_validity_minutes,
    safe_next,
)
from mes.web.passkey_pages import PasskeyPages

from .access import professional_view, public_view
from .forms import ProCodeFirstForm, ProCodeFirstStartForm, ProLoginForm
from .rendering import render_pro

PENDING_LOGIN_KEY = "mes_pro_pending_login"
CODE_FIRST_KEY = "mes_pro_code_first_login"
PASSKEY_LOGIN = "pro-login"
PASSKEY_REGISTER = "pro-register"

# Step 2 of the login, shared with the citizen portal and the desk (mes/web/login_code.py). It
# signs in for practice software too (the OAuth authorization request in `next`).
LOGIN_CODE = OneTimeCodeStep(
    namespace="pro",
    kind=User.Kind.PROFESSIONAL,
    session_key=PENDING_LOGIN_KEY,
    template="pro/account/login_code.html",
    home="pro:home",
    client_origin=redirect_origin_of,
)


def _is_professional(user: Any) -> bool:
    return bool(user.is_authenticated and Professional.objects.filter(user_id=user.pk).exists())


@require_http_methods(["GET", "POST"])
@public_view
def login_view(request: HttpRequest) -> HttpResponse:
    """Step 1: RPPS and password; on success a code is e-mailed and step 2 asked for."""
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
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
            return LOGIN_CODE.begin(request, user, next_url=next_url)
    return render(request, "pro/account/login.html", {"form": form, "next": next_url})


login_code = LOGIN_CODE.view()


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
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
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
            login(request, signed_in, backend=MODEL_BACKEND)
            request.session.pop(CODE_FIRST_KEY, None)
            return redirect(pending.get("next") or "pro:home")
    response = render(
        request,
        "pro/account/login_code_first_check.html",
        {"form": form, "validity_minutes": otp_validity_minutes()},
    )
    return LOGIN_CODE.widen_form_action(response, str(pending.get("next") or ""))


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
    login(request, user, backend=MODEL_BACKEND)
    request.session.pop(PENDING_LOGIN_KEY, None)
    next_url = safe_next(request, str(body.get("next") or ""))
    return JsonResponse({"ok": True, "redirect": next_url or reverse("pro:home")})


# « Appareils associés »: the pages shared with the citizen portal (mes/web/passkey_pages.py).
PASSKEY_PAGES = PasskeyPages(
    namespace="pro",
    template="pro/account/passkeys.html",
    protect=professional_view,
    example="Poste du cabinet",
    render=render_pro,
)

"""The professionals' login: identifiant (RPPS) + mot de passe, then a one-time code by e-mail.

Real professionals sign in to the DMP with their CPS / e-CPS card or Pro Santé Connect
(mes-spec §5.7); this self-hosted version uses the same two steps as the citizens' login, through
the same identity actions (lock-out, single-use codes). Between the two steps the session holds
only the pending user's id: nobody is logged in until the code is right.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from mes.identity.actions import (
    BAD_CREDENTIALS,
    LoginRefused,
    email_address_of,
    login_check_password,
    one_time_code_send,
    one_time_code_verify,
)
from mes.identity.models import OneTimeCode, Professional, User
from mes.web.forms import OneTimeCodeForm

from .access import public_view
from .forms import ProLoginForm

PENDING_LOGIN_KEY = "mes_pro_pending_login"
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
    return render(request, "pro/account/login.html", {"form": form})


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
            if refused.locked:
                request.session.pop(PENDING_LOGIN_KEY, None)
                messages.error(request, str(refused))
                return redirect("pro:login")
            messages.error(request, str(refused))
        else:
            messages.success(request, f"Un nouveau code a été envoyé à {_masked_email(user)}.")
        return redirect("pro:login_code")
    if request.method == "POST":
        form = OneTimeCodeForm(request.POST)
        if form.is_valid():
            try:
                one_time_code_verify(user=user, code=form.cleaned_data["code"])
            except LoginRefused as refused:
                if refused.locked:
                    request.session.pop(PENDING_LOGIN_KEY, None)
                    messages.error(request, str(refused))
                    return redirect("pro:login")
                form.add_error(None, str(refused))
            else:
                # login() gives the session a new key (no session fixation).
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                request.session.pop(PENDING_LOGIN_KEY, None)
                return redirect(pending.get("next") or "pro:home")
    return render(
        request,
        "pro/account/login_code.html",
        {
            "form": form,
            "destination": _masked_email(user),
            "resend_action": RESEND_ACTION,
            "validity_minutes": int(settings.MES_OTP_VALIDITY.total_seconds() // 60),
        },
    )


@require_POST
@public_view
def logout_view(request: HttpRequest) -> HttpResponse:
    """POST only, so that no link or image can log a professional out."""
    logout(request)
    messages.success(request, "Vous êtes déconnecté de l'espace professionnel.")
    return redirect("pro:login")

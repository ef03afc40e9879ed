"""The two steps of a login, for the citizen portal, the Web PS and the support desk (mes-spec
§3.3: identifiant + mot de passe, then a code valid settings.MES_OTP_VALIDITY): the password step
and the one-time-code step, each one view built once per portal with its own user kind, URL
namespace, form, page template and landing page; and the « Recevoir un code d'abord » road of the
two portals, the code before the password.

Between the two steps the session holds only the pending user's id (and the channel and `next`
of step 1): nobody is signed in until the code is right. Counting attempts per code and per
address is the identity module's (one_time_code_verify); this view only translates it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

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
from mes.identity.models import OneTimeCode, User
from mes.identity.throttle import client_address

from .access import View, public_view
from .forms import OneTimeCodeForm, ResendCodeForm
from .middleware import allow_form_action

RESEND_ACTION = "renvoyer"
# The session backend of every portal: login() gives the session a new key (no fixation).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """`next` only when it stays on this site (the OAuth authorize endpoint sends people to the
    logins with it); anything else is dropped (no open redirect)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def otp_validity_minutes() -> int:
    """How long a code stays valid, as the pages say it (settings.MES_OTP_VALIDITY)."""
    return int(settings.MES_OTP_VALIDITY.total_seconds() // 60)


def masked_destination(user: User, channel: str) -> str:
    """Enough of the address or number to recognise it, not enough to learn it."""
    if channel == OneTimeCode.Channel.SMS:
        digits = "".join(ch for ch in user.phone if ch.isdigit())
        return f"votre mobile se terminant par {digits[-2:]}"
    local, _, domain = email_address_of(user).partition("@")
    return f"l'adresse {local[:1]}•••@{domain}"


@dataclass(frozen=True)
class OneTimeCodeStep:
    namespace: str  # the portal's URL namespace: step 1 is <namespace>:login, this <ns>:login_code
    kind: User.Kind  # the kind of account this login signs in
    session_key: str  # where step 1 leaves the pending login
    template: str  # the portal's page (form, « Renvoyer un code »)
    home: str  # the URL name a signed-in person lands on when step 1 had no `next`
    accepts: Q = field(default_factory=Q)  # further conditions on the pending user
    offers_sms: bool = False  # the citizen may have the new code sent by SMS
    # The origin of the OAuth client an authorization request in `next` ends at
    # (mes.fhir.auth.oauth.redirect_origin_of), for a portal that signs in for OAuth clients.
    client_origin: Callable[[str], str | None] | None = None

    def url(self, name: str) -> str:
        """The URL name of one of this login's pages (`login`, `login_code`...)."""
        return f"{self.namespace}:{name}"

    def begin(
        self,
        request: HttpRequest,
        user: User,
        *,
        channel: str = OneTimeCode.Channel.EMAIL,
        next_url: str = "",
    ) -> HttpResponse:
        """Step 1 passed and its code sent: remember who is signing in, and ask for the code."""
        request.session[self.session_key] = {
            "user_id": user.pk,
            "channel": channel,
            "next": next_url,
        }
        return redirect(self.url("login_code"))

    def widen_form_action(self, response: HttpResponse, next_url: str) -> HttpResponse:
        """Signing in for an OAuth client ends at its redirect URI, through this page's form
        post: the page's `form-action` must name that origin (mes.web.middleware)."""
        if self.client_origin is None:
            return response
        return allow_form_action(response, self.client_origin(next_url))

    def users(self) -> QuerySet[User]:
        """The accounts this login signs in: active, of its kind, meeting `accepts`."""
        return User.objects.filter(self.accepts, kind=self.kind, is_active=True)

    def _pending(self, request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
        pending = request.session.get(self.session_key)
        if not isinstance(pending, dict) or not isinstance(pending.get("user_id"), int):
            return None
        user = self.users().filter(pk=pending["user_id"]).first()
        if user is None:
            request.session.pop(self.session_key, None)
            return None
        return user, pending

    def _resend_form(self, user: User, **kwargs: Any) -> ResendCodeForm | None:
        return ResendCodeForm(has_phone=bool(user.phone), **kwargs) if self.offers_sms else None

    def _resend(
        self, request: HttpRequest, user: User, pending: dict[str, Any], channel: str
    ) -> HttpResponse:
        try:
            one_time_code_send(user=user, channel=channel)
        except LoginRefused as refused:
            messages.error(request, str(refused))
        else:
            request.session[self.session_key] = {**pending, "channel": channel}
            messages.success(
                request, f"Un nouveau code a été envoyé à {masked_destination(user, channel)}."
            )
        return redirect(self.url("login_code"))

    def _page(
        self,
        request: HttpRequest,
        form: OneTimeCodeForm,
        resend_form: ResendCodeForm | None,
        user: User,
        pending: dict[str, Any],
    ) -> HttpResponse:
        channel = pending.get("channel", OneTimeCode.Channel.EMAIL)
        response = render(
            request,
            self.template,
            {
                "form": form,
                "resend_form": resend_form,
                "destination": masked_destination(user, channel),
                "resend_action": RESEND_ACTION,
                "validity_minutes": otp_validity_minutes(),
                "code_url": reverse(self.url("login_code")),
                "restart_url": reverse(self.url("login")),
            },
        )
        return self.widen_form_action(response, str(pending.get("next") or ""))

    def view(self) -> View:
        @require_http_methods(["GET", "POST"])
        @public_view
        def login_code(request: HttpRequest) -> HttpResponse:
            """Step 2: the one-time code. « Renvoyer un code » sends a fresh one (at most one a
            minute, by the identity module)."""
            found = self._pending(request)
            if found is None:
                return redirect(self.url("login"))
            user, pending = found
            form = OneTimeCodeForm()
            resend_form = self._resend_form(
                user, initial={"channel": pending.get("channel", OneTimeCode.Channel.EMAIL)}
            )
            if request.method == "POST" and request.POST.get("action") == RESEND_ACTION:
                resend_form = self._resend_form(user, data=request.POST)
                if resend_form is None:
                    return self._resend(request, user, pending, OneTimeCode.Channel.EMAIL)
                if resend_form.is_valid():
                    return self._resend(request, user, pending, resend_form.cleaned_data["channel"])
            elif request.method == "POST":
                form = OneTimeCodeForm(request.POST)
                if form.is_valid():
                    try:
                        one_time_code_verify(
                            user=user,
                            code=form.cleaned_data["code"],
                            address=client_address(request),
                        )
                    except LoginRefused as refused:
                        form.add_error(None, str(refused))
                    else:
                        # login() gives the session a new key (no session fixation).
                        login(request, user, backend=MODEL_BACKEND)
                        request.session.pop(self.session_key, None)
                        return redirect(pending.get("next") or self.home)
            return self._page(request, form, resend_form, user, pending)

        return login_code


# A citizen who asked for the code by SMS without a mobile number on the account.
NO_MOBILE = (
    "Aucun numéro de mobile n'est enregistré sur votre compte : le code vous est envoyé par e-mail."
)


@dataclass(frozen=True)
class PasswordStep:
    """Step 1 of a login: the identifiant and the password, checked by the identity module
    (login_check_password: throttling per address and per identifier, traces, one message for
    every failure); then a code is sent and `step` asks for it. Its page is <namespace>:login."""

    step: OneTimeCodeStep  # the same login: its kind, accepted users, landing page, channels
    form: type[forms.Form]  # identifier and password (and, for citizens, the channel; `next`)
    template: str
    # Whether someone already signed in to this portal skips the page (to `next` or home).
    signed_in: Callable[[Any], bool] | None = None
    follows_next: bool = True  # the portals come back to `next`; the desk always lands home

    def _check(self, request: HttpRequest, data: dict[str, Any]) -> User:
        """The user whose identifier and password match, and who this login accepts. Raises
        LoginRefused."""
        user = login_check_password(
            identifier=data["identifier"],
            password=data["password"],
            kind=self.step.kind,
            address=client_address(request),
        )
        if not self.step.users().filter(pk=user.pk).exists():
            # An account this login does not accept (a professional login without a
            # professional behind it, an agent no longer active): the same message as a wrong
            # password, so the form never tells which accounts exist.
            raise LoginRefused(BAD_CREDENTIALS)
        return user

    def _channel(self, request: HttpRequest, user: User, data: dict[str, Any]) -> str:
        """The code's channel: e-mail, or the SMS a citizen chose when a mobile is known."""
        if not self.step.offers_sms or data.get("channel") != OneTimeCode.Channel.SMS:
            return OneTimeCode.Channel.EMAIL
        if not user.phone:
            messages.info(request, NO_MOBILE)
            return OneTimeCode.Channel.EMAIL
        return OneTimeCode.Channel.SMS

    def view(self) -> View:
        @require_http_methods(["GET", "POST"])
        @public_view
        def login_view(request: HttpRequest) -> HttpResponse:
            """Step 1: identifiant and password; on success a code is sent and step 2 asked
            for."""
            next_url = (
                safe_next(request, request.POST.get("next") or request.GET.get("next"))
                if self.follows_next
                else ""
            )
            if self.signed_in is not None and self.signed_in(request.user):
                return redirect(next_url or self.step.home)
            form = self.form(request.POST or None, initial={"next": next_url})
            if request.method == "POST" and form.is_valid():
                try:
                    user = self._check(request, form.cleaned_data)
                    channel = self._channel(request, user, form.cleaned_data)
                    one_time_code_send(user=user, channel=channel)
                except LoginRefused as refused:
                    form.add_error(None, str(refused))
                else:
                    return self.step.begin(request, user, channel=channel, next_url=next_url)
            return render(request, self.template, {"form": form, "next": next_url})

        return login_view


@dataclass(frozen=True)
class CodeFirstRoad:
    """« Recevoir un code d'abord »: the identifier only, a code sent if an account has it, then
    the code and the password. The road that stays open to the owner of an identifier under
    attack (mes.identity.actions.one_time_code_send_first). Its pages are <namespace>:
    login_code_first and <namespace>:login_code_first_check of the step's namespace."""

    step: OneTimeCodeStep  # the same login: its kind, accepted users, landing page
    session_key: str  # where the first page leaves the identifier asked for
    start_form: type[forms.Form]  # the identifier (and, for citizens, the channel)
    check_form: type[forms.Form]  # the code, then the password
    start_template: str
    check_template: str

    def _urls(self) -> dict[str, str]:
        return {
            "start_url": reverse(self.step.url("login_code_first")),
            "check_url": reverse(self.step.url("login_code_first_check")),
            "login_url": reverse(self.step.url("login")),
        }

    def start_view(self) -> View:
        @require_http_methods(["GET", "POST"])
        @public_view
        def login_code_first(request: HttpRequest) -> HttpResponse:
            """The identifier only: a code is sent if an account has it; the page that follows
            says the same either way."""
            next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
            form = self.start_form(request.POST or None)
            if request.method == "POST" and form.is_valid():
                identifier = form.cleaned_data["identifier"]
                try:
                    user = one_time_code_send_first(
                        identifier=identifier,
                        address=client_address(request),
                        kind=self.step.kind,
                        channel=form.cleaned_data.get("channel", OneTimeCode.Channel.EMAIL),
                    )
                except LoginRefused as refused:
                    form.add_error(None, str(refused))
                else:
                    request.session.pop(self.step.session_key, None)
                    request.session[self.session_key] = {
                        "user_id": user.pk if user else None,
                        "identifier": identifier,
                        "next": next_url,
                    }
                    return redirect(self.step.url("login_code_first_check"))
            return render(
                request, self.start_template, {"form": form, "next": next_url, **self._urls()}
            )

        return login_code_first

    def check_view(self) -> View:
        @require_http_methods(["GET", "POST"])
        @public_view
        def login_code_first_check(request: HttpRequest) -> HttpResponse:
            """The code received, then the password: both right, the person is signed in."""
            pending = request.session.get(self.session_key)
            if not isinstance(pending, dict) or "identifier" not in pending:
                return redirect(self.step.url("login_code_first"))
            user_id = pending.get("user_id")
            # An unknown identifier goes on as None: refused like a wrong code, and alike.
            user = (
                self.step.users().filter(pk=user_id).first() if isinstance(user_id, int) else None
            )
            form = self.check_form(request.POST or None)
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
                    request.session.pop(self.session_key, None)
                    return redirect(pending.get("next") or self.step.home)
            response = render(
                request,
                self.check_template,
                {"form": form, "validity_minutes": otp_validity_minutes(), **self._urls()},
            )
            return self.step.widen_form_action(response, str(pending.get("next") or ""))

        return login_code_first_check

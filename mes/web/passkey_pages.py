"""« Appareils associés » for either portal: one set of views, built once per portal with its own
access decorator, page template, URL namespace and wording example (portal.md §11.3 for
citizens; the Web PS menu for professionals). Always about the signed-in person's own login.
And the passkey sign-in of either portal's login page, for the accounts its login signs in.

Adding a device is a WebAuthn ceremony run by the static script identity/passkeys.js: it asks
for the options, lets the browser make the key, and posts the answer back as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_POST

from mes.identity import passkeys
from mes.identity.actions import LoginRefused
from mes.lib.errors import InvalidInput

from . import passkeys as web_passkeys
from .access import public_view
from .forms import BootstrapFormMixin
from .login_code import MODEL_BACKEND, OneTimeCodeStep, safe_next

REGISTER = "register"
View = Callable[..., HttpResponse]
Render = Callable[[Any, str, dict[str, Any]], HttpResponse]


class PasskeyNameForm(BootstrapFormMixin):
    """The name a person gives to an associated device (« Mon téléphone »)."""

    name = forms.CharField(
        label="Nom de l'appareil",
        max_length=60,
        error_messages={"required": "Donnez un nom à cet appareil."},
    )

    def __init__(self, *args: Any, example: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "name"
        ].help_text = f"Pour le reconnaître dans la liste, par exemple « {example} »."


@dataclass(frozen=True)
class PasskeyPages:
    namespace: str  # the portal's URL namespace: its pages are <namespace>:passkeys, ...
    template: str  # the portal's page, which includes web/_passkeys.html
    protect: Callable[[View], View]  # the portal's access declaration (signed-in person)
    example: str  # a device name that speaks to this portal's people
    render: Render = render

    def _form(self, *args: Any, **kwargs: Any) -> PasskeyNameForm:
        return PasskeyNameForm(*args, example=self.example, **kwargs)

    def _url(self, name: str) -> str:
        return f"{self.namespace}:{name}"

    def list_view(self) -> View:
        @require_GET
        def passkey_list(request: HttpRequest) -> HttpResponse:
            """The associated devices, each with « Renommer » and « Retirer », and « Associer »."""
            keys = passkeys.passkeys_of(web_passkeys.signed_in_user(request))
            return self.render(
                request,
                self.template,
                {
                    "keys": [
                        (key, self._form(prefix=f"k{key.pk}", initial={"name": key.name}))
                        for key in keys
                    ],
                    "add_form": self._form(prefix="nouveau"),
                    "passkey_urls": {
                        name: self._url(f"passkey_{name}")
                        for name in ("rename", "remove", "register", "register_options")
                    },
                },
            )

        return self.protect(passkey_list)

    def register_options_view(self) -> View:
        @require_POST
        def passkey_register_options(request: HttpRequest) -> HttpResponse:
            """The options to make a new key for this login; the challenge is kept, once."""
            options, challenge = passkeys.registration_options(
                user=web_passkeys.signed_in_user(request), rp=web_passkeys.relying_party(request)
            )
            web_passkeys.keep_challenge(request, REGISTER, challenge)
            return web_passkeys.options_response(options)

        return self.protect(passkey_register_options)

    def register_view(self) -> View:
        @require_POST
        def passkey_register(request: HttpRequest) -> HttpResponse:
            """The browser's new key and its name: checked, then kept (JSON in, JSON out)."""
            body = web_passkeys.posted_json(request)
            challenge = web_passkeys.take_challenge(request, REGISTER)
            if body is None or challenge is None or not isinstance(body.get("credential"), dict):
                return web_passkeys.refusal(
                    "L'appareil n'a pas pu être associé. Rechargez la page et réessayez."
                )
            try:
                key = passkeys.passkey_register(
                    user=web_passkeys.signed_in_user(request),
                    credential=body["credential"],
                    challenge=challenge,
                    rp=web_passkeys.relying_party(request),
                    name=str(body.get("name") or ""),
                )
            except InvalidInput as exc:
                return web_passkeys.refusal(str(exc))
            messages.success(request, f"L'appareil « {key.name} » est associé à votre compte.")
            return JsonResponse({"ok": True, "redirect": reverse(self._url("passkeys"))})

        return self.protect(passkey_register)

    def rename_view(self) -> View:
        @require_POST
        def passkey_rename(request: HttpRequest, passkey_id: int) -> HttpResponse:
            form = self._form(request.POST, prefix=f"k{passkey_id}")
            if form.is_valid():
                try:
                    passkeys.passkey_rename(
                        user=web_passkeys.signed_in_user(request),
                        passkey_id=passkey_id,
                        name=form.cleaned_data["name"],
                    )
                except InvalidInput as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(request, "L'appareil est renommé.")
            else:
                messages.error(request, "Donnez à l'appareil un nom de 60 caractères au plus.")
            return redirect(self._url("passkeys"))

        return self.protect(passkey_rename)

    def remove_view(self) -> View:
        @require_POST
        def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
            passkeys.passkey_remove(
                user=web_passkeys.signed_in_user(request), passkey_id=passkey_id
            )
            messages.success(
                request, "L'appareil n'est plus associé : il ne permet plus de vous connecter."
            )
            return redirect(self._url("passkeys"))

        return self.protect(passkey_remove)


def passkey_urls(pages: PasskeyPages, prefix: str) -> list[URLPattern]:
    """The five pages under `prefix` (e.g. "mon-compte/appareils-associes/"), named
    passkeys, passkey_register_options, passkey_register, passkey_rename, passkey_remove."""
    return [
        path(prefix, pages.list_view(), name="passkeys"),
        path(f"{prefix}options/", pages.register_options_view(), name="passkey_register_options"),
        path(f"{prefix}ajouter/", pages.register_view(), name="passkey_register"),
        path(f"{prefix}<int:passkey_id>/renommer/", pages.rename_view(), name="passkey_rename"),
        path(f"{prefix}<int:passkey_id>/retirer/", pages.remove_view(), name="passkey_remove"),
    ]


@dataclass(frozen=True)
class PasskeySignIn:
    """Sign in with a passkey from a portal's login page: the options (a challenge kept in the
    session, once), then the browser's answer, checked by mes.identity.passkeys."""

    step: OneTimeCodeStep  # the portal's login: the accounts it signs in, its landing page
    challenge: str  # the session name of this sign-in's challenge

    def options_view(self) -> View:
        @require_POST
        @public_view
        def passkey_login_options(request: HttpRequest) -> HttpResponse:
            """The options of a passkey sign-in; its challenge is kept in the session, once."""
            options, challenge = passkeys.authentication_options(
                rp=web_passkeys.relying_party(request)
            )
            web_passkeys.keep_challenge(request, self.challenge, challenge)
            return web_passkeys.options_response(options)

        return passkey_login_options

    def view(self) -> View:
        @require_POST
        @public_view
        def passkey_login(request: HttpRequest) -> HttpResponse:
            """The browser's answer: signed in when the key is of an account this login signs
            in and every check passes."""
            body = web_passkeys.posted_json(request)
            challenge = web_passkeys.take_challenge(request, self.challenge)
            if body is None or challenge is None or not isinstance(body.get("credential"), dict):
                return web_passkeys.refusal(passkeys.PASSKEY_REFUSED)
            try:
                user = passkeys.passkey_sign_in(
                    credential=body["credential"],
                    challenge=challenge,
                    rp=web_passkeys.relying_party(request),
                    kind=self.step.kind,
                )
                if not self.step.users().filter(pk=user.pk).exists():
                    raise LoginRefused(passkeys.PASSKEY_REFUSED)
            except LoginRefused as refused:
                return web_passkeys.refusal(str(refused))
            login(request, user, backend=MODEL_BACKEND)
            request.session.pop(self.step.session_key, None)
            next_url = safe_next(request, str(body.get("next") or ""))
            return JsonResponse({"ok": True, "redirect": next_url or reverse(self.step.home)})

        return passkey_login

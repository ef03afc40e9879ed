"""« Appareils associés » (portal.md §11.3): the citizen's passkeys, listed, added, renamed and
removed. Always about the signed-in citizen's own login, whichever profile is being viewed.

Adding one is a WebAuthn ceremony run by the static script identity/passkeys.js: it asks for
the options, lets the browser make the key, and posts the answer back here as JSON.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from mes.identity import passkeys
from mes.lib.errors import InvalidInput
from mes.web import passkeys as web_passkeys

from ..access import PortalRequest, patient_view
from .forms import PasskeyNameForm

REGISTER = "register"


@require_GET
@patient_view
def passkey_list(request: PortalRequest) -> HttpResponse:
    """The associated devices, each with « Renommer » and « Retirer », and « Associer »."""
    keys = passkeys.passkeys_of(web_passkeys.signed_in_user(request))
    return render(
        request,
        "portal/account/passkeys.html",
        {
            "keys": [
                (key, PasskeyNameForm(prefix=f"k{key.pk}", initial={"name": key.name}))
                for key in keys
            ],
            "add_form": PasskeyNameForm(prefix="nouveau"),
        },
    )


@require_POST
@patient_view
def passkey_register_options(request: PortalRequest) -> HttpResponse:
    """The options to make a new key for this login; the challenge is kept, once."""
    options, challenge = passkeys.registration_options(
        user=web_passkeys.signed_in_user(request), rp=web_passkeys.relying_party(request)
    )
    web_passkeys.keep_challenge(request, REGISTER, challenge)
    return web_passkeys.options_response(options)


@require_POST
@patient_view
def passkey_register(request: PortalRequest) -> HttpResponse:
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
    return JsonResponse({"ok": True, "redirect": reverse("portal:passkeys")})


@require_POST
@patient_view
def passkey_rename(request: PortalRequest, passkey_id: int) -> HttpResponse:
    form = PasskeyNameForm(request.POST, prefix=f"k{passkey_id}")
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
    return redirect("portal:passkeys")


@require_POST
@patient_view
def passkey_remove(request: PortalRequest, passkey_id: int) -> HttpResponse:
    passkeys.passkey_remove(user=web_passkeys.signed_in_user(request), passkey_id=passkey_id)
    messages.success(
        request, "L'appareil n'est plus associé : il ne permet plus de vous connecter."
    )
    return redirect("portal:passkeys")

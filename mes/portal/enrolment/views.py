"""The espace's life seen by the citizen (portal.md §5.6, mes-spec §3, wave2 §1.6): activation
without an account (code provisoire + card, then identifiant, password and a confirmed contact),
a new provisional code, opposition with its PDF proof, closure (signed in, or with the code for
an espace created and never activated, with its PDF proof), and a parent activating a child's
espace from their own account.

Between steps the session holds only ids (the checked code, the pending login): nothing is
activated until the last step, and the provisional code is used up only then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from mes.access.actors import citizen_actor
from mes.enrolment import lifecycle
from mes.enrolment.lifecycle import EnrolmentRefused
from mes.enrolment.models import EnrolmentCode, Espace, EspaceEvent, EspaceState
from mes.enrolment.notices import closure_proof_of, opposition_proof_of
from mes.identity import throttle
from mes.identity.actions import LoginRefused, one_time_code_send, one_time_code_verify
from mes.identity.models import User
from mes.identity.throttle import client_address
from mes.lib.errors import NotFound
from mes.web.access import public_view
from mes.web.forms import OneTimeCodeForm

from ..access import PortalRequest, patient_view
from .forms import (
    ChildCodeForm,
    ClosureChoiceForm,
    ClosureForm,
    CodeForm,
    ConfirmForm,
    CredentialsForm,
    RegenerateForm,
    archive_years,
)

ACTIVATION_KEY = "mes_enrolment_activation"
OPPOSITION_KEY = "mes_enrolment_opposition"
CLOSURE_KEY = "mes_enrolment_closure"
PROOF_KEY = "mes_enrolment_proof"
FAILURES_KEY = "mes_enrolment_failures"
SESSION_MAX_FAILURES = 10  # on top of the per-espace lock: one browser cannot spray codes
TOO_MANY = "Trop d'essais infructueux depuis ce navigateur. Réessayez plus tard ou appelez le 3422."


def _posted(request: HttpRequest) -> Any:
    """The POST data of a POST (even empty: an unticked box is still an answer), else None."""
    return request.POST if request.method == "POST" else None


def _int(value: object) -> int:
    """An id kept in the session (never trusted to be one)."""
    return value if isinstance(value, int) else -1


def _throttled(request: HttpRequest, attempt: throttle.Attempt = throttle.Attempt.CODE) -> str:
    """Why this browser, or its internet connection, must not try again now ("" when it may).

    Per browser, a ceiling; per client address, the sign-in's own counter and doubling delay
    (mes.identity.throttle), so that a script starting a new session for each try, or guessing
    sign-ins and codes in turn, slows down all the same, while people elsewhere are untouched."""
    if int(request.session.get(FAILURES_KEY, 0)) >= SESSION_MAX_FAILURES:
        return TOO_MANY
    wait = throttle.address_wait(client_address(request))
    return throttle.wait_message(wait, attempt) if wait.required else ""


def _failed(request: HttpRequest) -> None:
    request.session[FAILURES_KEY] = int(request.session.get(FAILURES_KEY, 0)) + 1
    throttle.record_failure(throttle.Scope.ADDRESS, client_address(request))


def _checked_code(
    request: HttpRequest,
    form: CodeForm,
    check: Callable[..., EnrolmentCode] = lifecycle.code_check,
) -> EnrolmentCode | None:
    """Step 1 shared by activation, opposition and closure with the code (`check`: the
    lifecycle's check for that step); the error goes on the form."""
    if too_many := _throttled(request):
        form.add_error(None, too_many)
        return None
    data = form.cleaned_data
    try:
        return check(
            nir=data["nir"],
            vitale_serial=data["vitale_serial"],
            birth_date=data["birth_date"],
            code=data["code"],
        )
    except EnrolmentRefused as refused:
        _failed(request)
        form.add_input_error(refused)
        return None


@require_http_methods(["GET"])
@public_view
def home(request: HttpRequest) -> HttpResponse:
    """« Mon profil Mon espace santé » before any account: activate, oppose, close without
    activating, a new code. In demo mode, the card data of the demo's person to activate and
    of the one whose created espace may be closed (their codes are in the outbox)."""
    demo = None
    if settings.MES_DEMO:
        from mes.demo import story_enrolment as story

        demo = {
            "nir": story.INES_INS,
            "serial": story.INES_SERIAL,
            "born": story.INES_BIRTH,
            "closure": {
                "nir": story.NADIA_INS,
                "serial": story.NADIA_SERIAL,
                "born": story.NADIA_BIRTH,
            },
        }
    return render(request, "portal/enrolment/home.html", {"demo": demo})


@require_http_methods(["GET", "POST"])
@public_view
def activation(request: HttpRequest) -> HttpResponse:
    """Step 1: the provisional code, the NIR, the card serial and the birth date."""
    form = CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid() and (row := _checked_code(request, form)):
        espace = Espace.objects.select_related("citizen").get(pk=row.espace_id)
        if lifecycle.activated_by_a_representative(espace):
            # A child's espace gets no login of its own: the parent activates it from their
            # account (the code stays unused for that).
            form.add_error(None, lifecycle.MINOR_FROM_PARENT_ACCOUNT)
        elif espace.citizen.user_id is not None:
            # A closed (or opposed) espace that had a login: reopening needs no new account.
            try:
                lifecycle.espace_activate(
                    actor=citizen_actor(espace.citizen), code_id=row.pk, user=None
                )
            except EnrolmentRefused as refused:
                form.add_input_error(refused)
            else:
                messages.success(
                    request,
                    "Votre profil est rouvert et vos données sont restaurées. Connectez-vous "
                    "avec votre identifiant habituel.",
                )
                return redirect("portal:login")
        else:
            request.session[ACTIVATION_KEY] = {"code_id": row.pk, "espace": str(espace.pk)}
            return redirect("portal:enrolment_credentials")
    return render(request, "portal/enrolment/activation.html", {"form": form})


def _pending(request: HttpRequest) -> tuple[dict[str, Any], Espace] | None:
    pending = request.session.get(ACTIVATION_KEY)
    if not isinstance(pending, dict):
        return None
    row = EnrolmentCode.objects.filter(
        pk=_int(pending.get("code_id")), used_at__isnull=True
    ).first()
    if row is None or str(row.espace_id) != pending.get("espace"):
        request.session.pop(ACTIVATION_KEY, None)
        return None
    return pending, Espace.objects.select_related("citizen").get(pk=row.espace_id)


@require_http_methods(["GET", "POST"])
@public_view
def credentials(request: HttpRequest) -> HttpResponse:
    """Step 2: identifiant, password and the contact confirmed by a one-time code."""
    found = _pending(request)
    if found is None:
        return redirect("portal:enrolment_activation")
    pending, espace = found
    citizen = espace.citizen
    personal = [citizen.birth_name, citizen.first_name, citizen.used_name]
    initial = {"email": citizen.email, "phone": espace.phone}
    form = CredentialsForm(_posted(request), initial=initial, personal=personal)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["username"].casefold() in data["password"].casefold():
            form.add_error("password", "Le mot de passe ne doit pas contenir l'identifiant.")
        else:
            # Not active until the last step: the login page cannot be used with it meanwhile.
            old = User.objects.filter(pk=_int(pending.get("user_id")), is_active=False).first()
            if old is not None and not hasattr(old, "citizen"):
                old.delete()
            user = User.objects.create_user(
                username=data["username"],
                password=data["password"],
                email=data["email"],
                phone=data["phone"],
                is_active=False,
            )
            try:
                one_time_code_send(user=user, channel=data["channel"])
            except LoginRefused as refused:
                user.delete()
                form.add_error(None, str(refused))
            else:
                request.session[ACTIVATION_KEY] = {
                    **pending,
                    "user_id": user.pk,
                    "channel": data["channel"],
                }
                return redirect("portal:enrolment_confirm")
    return render(request, "portal/enrolment/credentials.html", {"form": form, "person": citizen})


@require_http_methods(["GET", "POST"])
@public_view
def confirm(request: HttpRequest) -> HttpResponse:
    """Step 3: the one-time code received; then the espace is active and the person in it."""
    found = _pending(request)
    if found is None:
        return redirect("portal:enrolment_activation")
    pending, espace = found
    user = User.objects.filter(pk=_int(pending.get("user_id")), is_active=False).first()
    if user is None:
        return redirect("portal:enrolment_credentials")
    form = OneTimeCodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            one_time_code_verify(
                user=user, code=form.cleaned_data["code"], address=client_address(request)
            )
            lifecycle.espace_activate(
                actor=citizen_actor(espace.citizen), code_id=pending["code_id"], user=user
            )
        except (LoginRefused, EnrolmentRefused) as refused:
            form.add_error(None, str(refused))
        else:
            User.objects.filter(pk=user.pk).update(is_active=True)
            user.is_active = True
            request.session.pop(ACTIVATION_KEY, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Votre profil Mon espace santé est activé. Bienvenue !")
            return redirect("portal:onboarding")
    channel = pending.get("channel", "email")
    where = "votre adresse e-mail" if channel == "email" else "votre téléphone mobile"
    return render(request, "portal/enrolment/confirm.html", {"form": form, "destination": where})


@require_http_methods(["GET", "POST"])
@public_view
def regenerate(request: HttpRequest) -> HttpResponse:
    """« Générer un nouveau code provisoire »: NIR + card serial + birth date (+ first name for
    twins); the code goes by e-mail or SMS to the contact on file."""
    form = RegenerateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        if too_many := _throttled(request, throttle.Attempt.CARD):
            form.add_error(None, too_many)
        else:
            data = form.cleaned_data
            try:
                _, destination = lifecycle.code_regenerate(
                    nir=data["nir"],
                    vitale_serial=data["vitale_serial"],
                    birth_date=data["birth_date"],
                    first_name=data["first_name"],
                    channel=data["channel"],
                )
            except EnrolmentRefused as refused:
                _failed(request)
                form.add_input_error(refused)
            else:
                messages.success(
                    request, f"Un nouveau code provisoire a été envoyé à {destination}."
                )
                return redirect("portal:enrolment_activation")
    return render(request, "portal/enrolment/regenerate.html", {"form": form})


@require_http_methods(["GET", "POST"])
@public_view
def opposition(request: HttpRequest) -> HttpResponse:
    """Opposition before creation, online, with the code (mes-spec §3.2): step 1."""
    form = CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid() and (row := _checked_code(request, form)):
        request.session[OPPOSITION_KEY] = {"code_id": row.pk, "espace": str(row.espace_id)}
        return redirect("portal:enrolment_opposition_confirm")
    return render(request, "portal/enrolment/opposition.html", {"form": form})


@require_http_methods(["GET", "POST"])
@public_view
def opposition_confirm(request: HttpRequest) -> HttpResponse:
    """Step 2: who the opposition is for, and the confirmation."""
    row = _pending_code(request, OPPOSITION_KEY)
    if row is None:
        return redirect("portal:enrolment_opposition")
    espace = row.espace
    form = ConfirmForm(_posted(request))
    form.fields[
        "confirm"
    ].label = (
        f"Je m'oppose à la création du profil Mon espace santé de {espace.citizen.display_name}"
    )
    if request.method == "POST" and form.is_valid():
        try:
            event = lifecycle.espace_oppose(
                actor=citizen_actor(espace.citizen), espace=espace, channel=lifecycle.ONLINE
            )
        except EnrolmentRefused as refused:
            form.add_error(None, str(refused))
        else:
            request.session.pop(OPPOSITION_KEY, None)
            request.session[PROOF_KEY] = {"espace": str(espace.pk), "event": event.pk}
            return redirect("portal:enrolment_opposition_done")
    return render(
        request,
        "portal/enrolment/opposition_confirm.html",
        {"form": form, "person": espace.citizen},
    )


def _pending_code(request: HttpRequest, key: str) -> EnrolmentCode | None:
    """The code checked at step 1 of this walk in this browser, while still unused."""
    pending = request.session.get(key)
    if not isinstance(pending, dict):
        return None
    row = (
        EnrolmentCode.objects.select_related("espace__citizen")
        .filter(pk=_int(pending.get("code_id")), used_at__isnull=True)
        .first()
    )
    if row is None or str(row.espace_id) != pending.get("espace"):
        request.session.pop(key, None)
        return None
    return row


def _proof_event(request: HttpRequest, state: EspaceState) -> EspaceEvent:
    """The opposition or closure just recorded in this browser (never another's)."""
    proof = request.session.get(PROOF_KEY)
    if not isinstance(proof, dict):
        raise NotFound()
    event = (
        EspaceEvent.objects.select_related("espace__citizen")
        .filter(pk=_int(proof.get("event")), to_state=state)
        .first()
    )
    if event is None or str(event.espace_id) != proof.get("espace"):
        raise NotFound()
    return event


@require_http_methods(["GET"])
@public_view
def opposition_done(request: HttpRequest) -> HttpResponse:
    event = _proof_event(request, EspaceState.OPPOSED)
    return render(
        request, "portal/enrolment/opposition_done.html", {"person": event.espace.citizen}
    )


@require_http_methods(["GET"])
@public_view
def opposition_proof(request: HttpRequest) -> HttpResponse:
    """The PDF proof of the opposition just recorded in this browser."""
    event = _proof_event(request, EspaceState.OPPOSED)
    response = HttpResponse(opposition_proof_of(event), content_type="application/pdf")
    response["Content-Disposition"] = (
        'attachment; filename="justificatif-opposition-mon-espace-sante.pdf"'
    )
    return response


def _closure_terms() -> dict[str, int]:
    """What closure means, from the settings the closure applies (lifecycle.espace_close)."""
    return {
        "archive_years": archive_years(),
        "deletion_days": settings.MES_ENROLMENT_DELETION_GRACE.days,
    }


@require_http_methods(["GET", "POST"])
@public_view
def closure_with_code(request: HttpRequest) -> HttpResponse:
    """Closing an espace created and never activated, without activating it (mes-spec §3.4
    « at any time, directly »): step 1, the provisional code with the card data, as for
    opposition. An active espace signs in to close: its code is answered as an unknown one."""
    form = CodeForm(_posted(request))
    if (
        request.method == "POST"
        and form.is_valid()
        and (row := _checked_code(request, form, lifecycle.closure_code_check))
    ):
        request.session[CLOSURE_KEY] = {"code_id": row.pk, "espace": str(row.espace_id)}
        return redirect("portal:enrolment_closure_code_confirm")
    return render(request, "portal/enrolment/closure_code.html", {"form": form, **_closure_terms()})


@require_http_methods(["GET", "POST"])
@public_view
def closure_with_code_confirm(request: HttpRequest) -> HttpResponse:
    """Step 2: whose profile, what closure means, express deletion or not, the confirmation."""
    row = _pending_code(request, CLOSURE_KEY)
    if row is None:
        return redirect("portal:enrolment_closure_code")
    espace = row.espace
    form = ClosureChoiceForm(_posted(request))
    form.fields[
        "confirm"
    ].label = f"Je veux clôturer le profil Mon espace santé de {espace.citizen.display_name}"
    if request.method == "POST" and form.is_valid():
        try:
            event = lifecycle.espace_close_with_code(
                actor=citizen_actor(espace.citizen),
                code_id=row.pk,
                express_deletion=form.cleaned_data["express_deletion"],
            )
        except EnrolmentRefused as refused:
            form.add_error(None, str(refused))
        else:
            request.session.pop(CLOSURE_KEY, None)
            request.session[PROOF_KEY] = {"espace": str(espace.pk), "event": event.pk}
            return redirect("portal:enrolment_closure_code_done")
    return render(
        request,
        "portal/enrolment/closure_code_confirm.html",
        {"form": form, "person": espace.citizen, **_closure_terms()},
    )


@require_http_methods(["GET"])
@public_view
def closure_with_code_done(request: HttpRequest) -> HttpResponse:
    event = _proof_event(request, EspaceState.CLOSED)
    espace = event.espace
    return render(
        request,
        "portal/enrolment/closure_code_done.html",
        {
            "person": espace.citizen,
            "deleted_on": espace.purge_due_at if espace.deletion_requested_at else None,
            **_closure_terms(),
        },
    )


@require_http_methods(["GET"])
@public_view
def closure_with_code_proof(request: HttpRequest) -> HttpResponse:
    """The PDF proof of the closure just recorded in this browser."""
    event = _proof_event(request, EspaceState.CLOSED)
    response = HttpResponse(closure_proof_of(event), content_type="application/pdf")
    response["Content-Disposition"] = (
        'attachment; filename="justificatif-cloture-mon-espace-sante.pdf"'
    )
    return response


@require_http_methods(["GET", "POST"])
@patient_view
def closure(request: PortalRequest) -> HttpResponse:
    """« Clôture du profil » (portal.md §5.6): the holder closes their own espace, or a
    representative the child's; data archived 10 years unless express deletion is asked."""
    profile = request.profile
    form = ClosureForm(_posted(request))
    form.fields["confirm"].label = (
        "Je veux clôturer mon profil Mon espace santé"
        if request.is_own_profile
        else f"Je veux clôturer le profil Mon espace santé de {profile.display_name}"
    )
    if request.method == "POST" and form.is_valid():
        if not request.user.check_password(form.cleaned_data["password"]):
            form.add_error("password", "Mot de passe incorrect.")
            return render(
                request,
                "portal/enrolment/closure.html",
                {
                    "form": form,
                    "profile": profile,
                    "own": request.is_own_profile,
                    **_closure_terms(),
                },
            )
        try:
            lifecycle.espace_close(
                actor=request.actor,
                citizen=profile,
                channel=lifecycle.ONLINE,
                express_deletion=form.cleaned_data["express_deletion"],
            )
        except EnrolmentRefused as refused:
            form.add_error(None, str(refused))
        else:
            if request.is_own_profile:
                logout(request)
                messages.success(
                    request,
                    f"Votre profil est clôturé. Vous pouvez le rouvrir pendant {archive_years()} "
                    "ans depuis « Activer mon profil », sauf si vous avez demandé la suppression.",
                )
                return redirect("portal:enrolment")
            messages.success(request, f"Le profil de {profile.display_name} est clôturé.")
            return redirect("portal:home")
    return render(
        request,
        "portal/enrolment/closure.html",
        {
            "form": form,
            "profile": profile,
            "own": request.is_own_profile,
            **_closure_terms(),
        },
    )


@require_http_methods(["GET", "POST"])
@patient_view
def children(request: PortalRequest) -> HttpResponse:
    """A parent activates a child's espace from their own account, with the child's code."""
    waiting = lifecycle.children_to_activate(request.citizen)
    form = ChildCodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        if too_many := _throttled(request, throttle.Attempt.CODE):
            form.add_error(None, too_many)
        else:
            try:
                row = lifecycle.match_code(waiting, form.cleaned_data["code"])
                espace = lifecycle.espace_activate_for_child(actor=request.actor, code_id=row.pk)
            except EnrolmentRefused as refused:
                _failed(request)
                form.add_input_error(refused)
            else:
                messages.success(
                    request,
                    f"Le profil de {espace.citizen.display_name} est activé : choisissez-le "
                    "dans le sélecteur de profil.",
                )
                return redirect("portal:enrolment_children")
    return render(request, "portal/enrolment/children.html", {"form": form, "waiting": waiting})

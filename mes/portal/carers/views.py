"""Proches aidants (portal.md §5.8): « Donner accès à mon profil » for the aidé, « Les personnes
que j'aide » and the answer to an invitation for the aidant."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.carers import actions
from mes.lib.errors import InvalidInput

from ..access import PortalRequest, patient_view
from .forms import CarerConfirmForm, CarerSearchForm


def _traits(form: CarerSearchForm) -> dict[str, object]:
    data = form.cleaned_data
    return {k: data[k] for k in ("birth_name", "first_name", "birth_date", "ins")}


@require_http_methods(["GET"])
@patient_view
def carers(request: PortalRequest) -> HttpResponse:
    """The holder's aidants (not found for an aidant or a representative acting for someone),
    and their own aidés and pending invitations."""
    overview = actions.carers_overview(actor=request.actor, aided_id=request.profile.pk)
    return render(
        request,
        "portal/carers/carers.html",
        {"overview": overview, "aided": actions.aided_of(actor=request.actor)},
    )


@require_http_methods(["GET", "POST"])
@patient_view
def invite(request: PortalRequest) -> HttpResponse:
    """Step 1 « Je recherche mon proche aidant », step 2 « Je vérifie l'identité de mon proche
    aidant » with the declaration, then « Envoyer ma demande »."""
    # The page itself is the holder's: an aidant gets "not found", traced.
    overview = actions.carers_overview(actor=request.actor, aided_id=request.profile.pk)
    step = request.POST.get("etape", "")
    if request.method == "POST" and step == "envoyer":
        confirm = CarerConfirmForm(request.POST)
        if confirm.is_valid():
            try:
                invitation = actions.carer_invite(
                    actor=request.actor,
                    aided_id=request.profile.pk,
                    declared=confirm.cleaned_data["declaration"],
                    **_traits(confirm),  # type: ignore[arg-type]
                )
            except InvalidInput as exc:
                confirm.add_input_error(exc)
            else:
                messages.success(
                    request,
                    f"Votre demande a été envoyée à {invitation.carer.display_name}. Elle est "
                    f"valable jusqu'au {invitation.expires_at:%d/%m/%Y}.",
                )
                return redirect("portal:carers")
        return render(
            request,
            "portal/carers/confirm.html",
            {"form": confirm, "candidate_name": request.POST.get("candidate_name", "")},
        )
    form = CarerSearchForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            candidate = actions.carer_match(
                actor=request.actor,
                aided_id=request.profile.pk,
                **_traits(form),  # type: ignore[arg-type]
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            confirm = CarerConfirmForm(initial=form.cleaned_data)
            return render(
                request,
                "portal/carers/confirm.html",
                {"form": confirm, "candidate_name": candidate.display_name},
            )
    return render(
        request,
        "portal/carers/invite.html",
        {"form": form, "overview": overview},
    )


@require_POST
@patient_view
def invitation_cancel(request: PortalRequest, invitation_id: int) -> HttpResponse:
    try:
        actions.carer_invitation_cancel(actor=request.actor, invitation_id=invitation_id)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Votre demande est annulée.")
    return redirect("portal:carers")


@require_http_methods(["GET", "POST"])
@patient_view
def invitation(request: PortalRequest, invitation_id: int) -> HttpResponse:
    """The aidant reads the request and accepts or declines it."""
    found = actions.invitation_for(actor=request.actor, invitation_id=invitation_id)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("reponse") == "accepter":
                delegation = actions.carer_accept(actor=request.actor, invitation_id=found.pk)
                messages.success(
                    request,
                    f"Vous êtes désormais le proche aidant de {delegation.aided.display_name} "
                    "jusqu'au "
                    f"{delegation.ends_at:%d/%m/%Y} : choisissez son profil dans le menu des "
                    "profils. Le justificatif d'accès est dans vos documents.",
                )
            else:
                actions.carer_refuse(actor=request.actor, invitation_id=found.pk)
                messages.success(request, "Vous avez refusé la demande.")
        except InvalidInput as exc:
            error = str(exc)
        else:
            return redirect("portal:carers_mine")
    return render(
        request,
        "portal/carers/invitation.html",
        {"invitation": found, "error": error},
    )


@require_http_methods(["GET"])
@patient_view
def mine(request: PortalRequest) -> HttpResponse:
    """« Les personnes que j'aide »: the aidant's own side, from their own profile."""
    return render(
        request, "portal/carers/mine.html", {"aided": actions.aided_of(actor=request.actor)}
    )


@require_POST
@patient_view
def revoke(request: PortalRequest, delegation_id: int) -> HttpResponse:
    """Either side ends an access."""
    delegation = actions.carer_revoke(actor=request.actor, delegation_id=delegation_id)
    if delegation.revoked_by == delegation.EndedBy.CARER:
        messages.success(
            request, f"Vous n'avez plus accès au profil de {delegation.aided.display_name}."
        )
        return redirect("portal:carers_mine")
    messages.success(request, f"{delegation.carer.display_name} n'a plus accès à votre profil.")
    return redirect("portal:carers")

"""« Partage du profil » (portal.md §6): a legal representative shares the management of a
child's profile with the second parent or the guardian; the invitee answers."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.enrolment import actions
from mes.lib.errors import InvalidInput

from ..access import PortalRequest, patient_view
from .forms import ShareProfileForm


@require_http_methods(["GET", "POST"])
@patient_view
def share_profile(request: PortalRequest) -> HttpResponse:
    """Who manages the current (represented) profile, pending requests, and the sharing form.
    On one's own profile, or for anyone who is not a representative, this is not found."""
    profile = request.profile
    managers = actions.managers_of(actor=request.actor, represented_id=profile.pk)
    form = ShareProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = actions.profile_share_request(
                actor=request.actor,
                represented_id=profile.pk,
                birth_name=data["birth_name"],
                first_name=data["first_name"],
                birth_date=data["birth_date"],
                ins=data["ins"],
                role=data["role"],
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(
                request,
                f"Demande de partage envoyée à {invitation.invitee.display_name}. "
                "Le partage sera effectif quand elle ou il l'aura acceptée.",
            )
            return redirect("portal:share_profile")
    return render(
        request,
        "portal/family/share.html",
        {
            "form": form,
            "managers": managers,
            "pending": actions.pending_requests_for(represented_id=profile.pk),
        },
        status=422 if form.errors else 200,
    )


@require_POST
@patient_view
def share_cancel(request: PortalRequest, request_id: int) -> HttpResponse:
    actions.profile_share_cancel(actor=request.actor, request_id=request_id)
    messages.success(request, "La demande de partage est annulée.")
    return redirect("portal:share_profile")


@require_http_methods(["GET", "POST"])
@patient_view
def share_invitation(request: PortalRequest, request_id: int) -> HttpResponse:
    """The invitee accepts « en tant que représentant légal », or declines."""
    invitation = actions.invitation_for(actor=request.actor, request_id=request_id)
    if request.method == "POST":
        if request.POST.get("reponse") == "accepter":
            actions.profile_share_accept(actor=request.actor, request_id=invitation.pk)
            messages.success(
                request,
                f"Vous gérez désormais le profil de {invitation.represented.display_name} : "
                "choisissez-le dans le menu des profils.",
            )
        else:
            actions.profile_share_decline(actor=request.actor, request_id=invitation.pk)
            messages.success(request, "Vous avez refusé la demande de partage.")
        return redirect("portal:home")
    return render(request, "portal/family/invitation.html", {"invitation": invitation})

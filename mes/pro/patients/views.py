"""Web PS: finding a patient, the dossier status the professional may know (TD0.2), their own
authorisation (TD0.3) and the emergency access (mes-spec §5.4, §5.5).

Each view resolves the actor (mes.pro.access), calls one domain function and renders.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from mes.access.actions import (
    authorisation_declare,
    authorisation_withdraw,
    emergency_access_open,
    professional_standing,
)
from mes.access.actors import AccessMode, professional_actor
from mes.identity.lookup import SearchResult, patient_search_by_ins, patient_search_by_traits
from mes.lib.errors import Forbidden, InvalidInput, NotFound

from ..access import (
    ProRequest,
    end_emergency,
    may_use_centre_15,
    normal_actor,
    professional_view,
    remember_emergency,
)
from ..rendering import patient_of, remember_found, render_pro
from .forms import CENTRE_15, ConsentForm, EmergencyForm, InsSearchForm, TraitsSearchForm

INS_SEARCH, TRAITS_SEARCH = "ins", "traits"

# The one answer to a refused emergency access, whatever the reason (the patient's opposition,
# « tout masquer », a block): it must not tell the professional which one.
EMERGENCY_REFUSED = (
    "L'accès en urgence à ce dossier n'est pas possible. Cette tentative a été enregistrée."
)


@require_http_methods(["GET", "POST"])
@professional_view
def home(request: ProRequest) -> HttpResponse:
    """Accueil: find a patient by INS, or by identity traits (TD0.5). POST keeps the INS and
    the names out of URLs and server logs; each identity shown is traced."""
    which = request.POST.get("recherche") if request.method == "POST" else None
    ins_form = InsSearchForm(request.POST if which == INS_SEARCH else None, prefix="ins")
    traits_form = TraitsSearchForm(request.POST if which == TRAITS_SEARCH else None, prefix="id")
    result: SearchResult | None = None
    if which == INS_SEARCH and ins_form.is_valid():
        try:
            result = patient_search_by_ins(actor=request.actor, ins=ins_form.cleaned_data["ins"])
        except InvalidInput as exc:
            ins_form.add_input_error(exc)
        else:
            remember_found(request, result.patients)
            if len(result.patients) == 1:
                return redirect("pro:patient", result.patients[0].pk)
    elif which == TRAITS_SEARCH and traits_form.is_valid():
        data = traits_form.cleaned_data
        try:
            result = patient_search_by_traits(
                actor=request.actor,
                last_name=data["last_name"],
                first_name=data["first_name"],
                birth_date=data["birth_date"],
            )
        except InvalidInput as exc:
            traits_form.add_input_error(exc)
        else:
            remember_found(request, result.patients)
    return render_pro(
        request,
        "pro/home.html",
        {
            "ins_form": ins_form,
            "traits_form": traits_form,
            "result": result,
            "searched": which,
            "ins_search": INS_SEARCH,
            "traits_search": TRAITS_SEARCH,
        },
    )


@require_http_methods(["GET"])
@professional_view
def patient(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The patient page: identity, the professional's standing (TD0.2) and what they may do."""
    person = patient_of(request, patient_id)
    standing = professional_standing(professional_id=request.professional.pk, patient=person)
    is_medecin = request.professional.profession == "10"
    return render_pro(
        request,
        "pro/patient.html",
        {
            "standing": standing,
            "age": person.age_on(timezone.localdate()),
            "consent_form": ConsentForm(may_be_treating=is_medecin),
            "centre_15": may_use_centre_15(request.professional),
        },
        patient=person,
    )


@require_POST
@professional_view
def consent_declare(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """« Le patient m'a donné son accord » (TD0.3 Add), optionally as médecin traitant."""
    person = patient_of(request, patient_id)
    form = ConsentForm(request.POST, may_be_treating=request.professional.profession == "10")
    if not form.is_valid():
        for error in form.errors.get("attestation", []):
            messages.error(request, str(error))
        return redirect("pro:patient", person.pk)
    treating = bool(form.cleaned_data.get("treating_physician"))
    try:
        # Declaring consent is a consultation in the normal mode, whatever emergency was open.
        authorisation_declare(
            actor=normal_actor(request.professional),
            patient_id=person.pk,
            treating_physician=treating,
        )
    except Forbidden as exc:
        messages.error(request, exc.message)
        return redirect("pro:patient", person.pk)
    end_emergency(request, person.pk)
    if treating:
        messages.success(
            request,
            "Votre autorisation d'accès est enregistrée, et vous êtes déclaré(e) médecin "
            "traitant de ce patient.",
        )
    else:
        messages.success(request, "Votre autorisation d'accès au dossier est enregistrée.")
    return redirect("pro:patient", person.pk)


@require_POST
@professional_view
def consent_withdraw(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """« Retirer mon autorisation » (TD0.3 Remove)."""
    person = patient_of(request, patient_id)
    try:
        authorisation_withdraw(actor=normal_actor(request.professional), patient_id=person.pk)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Votre autorisation d'accès à ce dossier est retirée.")
    return redirect("pro:patient", person.pk)


@require_http_methods(["GET", "POST"])
@professional_view
def emergency(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The emergency access: bris de glace, or Centre 15 for a médecin régulateur."""
    person = patient_of(request, patient_id)
    if request.emergency is not None:
        return redirect("pro:documents", person.pk)
    centre_15 = may_use_centre_15(request.professional)
    form = EmergencyForm(request.POST or None, centre_15=centre_15)
    refused = False
    if request.method == "POST" and form.is_valid():
        mode = (
            AccessMode.CENTRE_15
            if form.cleaned_data["mode"] == CENTRE_15
            else AccessMode.BREAK_GLASS
        )
        actor = professional_actor(
            request.professional, mode=mode, justification=form.cleaned_data["justification"]
        )
        try:
            emergency_access_open(actor=actor, patient_id=person.pk)
        except NotFound:
            refused = True
        else:
            remember_emergency(request, person.pk, mode)
            messages.success(request, "Accès en urgence ouvert.")
            return redirect("pro:documents", person.pk)
    return render_pro(
        request,
        "pro/emergency.html",
        {"form": form, "refused": refused, "refused_message": EMERGENCY_REFUSED},
        patient=person,
    )


@require_POST
@professional_view
def emergency_end(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """« Quitter l'accès en urgence »: back to the normal mode in this browser session."""
    person = patient_of(request, patient_id)
    end_emergency(request, person.pk)
    messages.success(request, "Vous avez quitté l'accès en urgence à ce dossier.")
    return redirect("pro:patient", person.pk)

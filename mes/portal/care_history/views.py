"""Mon histoire de santé (portal.md §2.2): the timeline grouped by day, month or year and
filtered by category, one line's details with « Ajouter ce traitement » / « Ajouter à mes
vaccinations », and the history's own confidentiality choice."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.audit.models import TraceAction
from mes.lib.errors import InvalidInput
from mes.reimbursements import actions
from mes.reimbursements.models import Category, Episode
from mes.reimbursements.policies import access_care_history, access_episode, is_masked
from mes.reimbursements.selectors import Grouping, episodes_of, timeline

from ..access import PortalRequest, patient_view

PAGE = 50  # « Afficher plus »

# The detail fields of each category (portal.md §2.2), as (label, attribute).
DETAILS: dict[str, tuple[tuple[str, str], ...]] = {
    Category.DRUG: (
        ("Professionnel de santé", "professional"),
        ("Date de délivrance", "date"),
        ("Nom du médicament", "label"),
        ("Quantité délivrée", "quantity"),
        ("Groupe thérapeutique", "therapeutic_group"),
        ("Prescrit par", "prescriber"),
        ("Spécialité du prescripteur", "prescriber_specialty"),
    ),
    Category.VACCINE: (
        ("Professionnel de santé", "professional"),
        ("Date de délivrance", "date"),
        ("Nom du vaccin", "label"),
        ("Valence vaccinale", "valence"),
    ),
    Category.CARE: (
        ("Professionnel de santé", "professional"),
        ("Date de consultation", "date"),
        ("Spécialité du prescripteur", "prescriber_specialty"),
        ("Nom de l'acte", "label"),
    ),
    Category.HOSPITAL: (
        ("Professionnel de santé", "professional"),
        ("Date de sortie", "date"),
        ("Nature du séjour", "stay"),
    ),
    Category.DEVICE: (
        ("Professionnel de santé", "professional"),
        ("Date de prescription", "date"),
        ("Dispositif médical", "label"),
        ("Quantité délivrée", "quantity"),
    ),
    Category.RADIOLOGY: (
        ("Professionnel de santé", "professional"),
        ("Date de consultation", "date"),
    ),
    Category.BIOLOGY: (
        ("Professionnel de santé", "professional"),
        ("Date de consultation", "date"),
    ),
}


def details_of(episode: Episode) -> list[tuple[str, object]]:
    """The category's fields that have a value."""
    rows = []
    for label, attr in DETAILS[episode.category]:
        value = getattr(episode, attr)
        if value not in ("", None):
            rows.append((label, value))
    return rows


def _int(raw: str | None, default: int) -> int:
    try:
        return max(int(raw or default), 1)
    except ValueError:
        return default


@require_http_methods(["GET"])
@patient_view
def care_history(request: PortalRequest) -> HttpResponse:
    patient, _ = access_care_history(
        request.actor, request.profile.pk, trace_action=TraceAction.CONSULT_CARE_HISTORY
    )
    try:
        grouping = Grouping(request.GET.get("regrouper", Grouping.MONTH))
    except ValueError:
        grouping = Grouping.MONTH
    chosen = [c for c in request.GET.getlist("categorie") if c in Category.values]
    shown = _int(request.GET.get("nombre"), PAGE)
    episodes = list(episodes_of(patient, chosen)[: shown + 1])
    return render(
        request,
        "portal/care_history/timeline.html",
        {
            "groups": timeline(episodes[:shown], grouping),
            "has_more": len(episodes) > shown,
            "more": shown + PAGE,
            "grouping": grouping.value,
            "groupings": [
                (Grouping.DAY.value, "Jour"),
                (Grouping.MONTH.value, "Mois"),
                (Grouping.YEAR.value, "Année"),
            ],
            "categories": Category.choices,
            "chosen": chosen,
            "masked": is_masked(patient),
            "any_episode": episodes_of(patient).exists(),
        },
    )


@require_http_methods(["GET"])
@patient_view
def episode(request: PortalRequest, episode_id: uuid.UUID) -> HttpResponse:
    found = access_episode(request.actor, episode_id)
    if found.patient_id != request.profile.pk:
        # A link to another profile's line: show it only within that profile.
        return redirect("portal:care_history")
    vaccine = actions.matching_vaccine(found) if found.category == Category.VACCINE else None
    return render(
        request,
        "portal/care_history/episode.html",
        {
            "episode": found,
            "details": details_of(found),
            "is_drug": found.category == Category.DRUG,
            "is_vaccine": found.category == Category.VACCINE,
            "vaccine": vaccine,
        },
    )


@require_POST
@patient_view
def add_treatment(request: PortalRequest, episode_id: uuid.UUID) -> HttpResponse:
    try:
        actions.episode_add_treatment(actor=request.actor, episode_id=episode_id)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Le traitement a été ajouté à la rubrique Traitements.")
    return redirect("portal:care_history_episode", episode_id=episode_id)


@require_POST
@patient_view
def add_vaccination(request: PortalRequest, episode_id: uuid.UUID) -> HttpResponse:
    try:
        actions.episode_add_vaccination(actor=request.actor, episode_id=episode_id)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Le vaccin a été ajouté à vos vaccinations.")
    return redirect("portal:care_history_episode", episode_id=episode_id)


@require_http_methods(["GET", "POST"])
@patient_view
def confidentiality(request: PortalRequest) -> HttpResponse:
    """« Modifier la confidentialité »: MASQUE_PS or visible to the authorised professionals."""
    patient, _ = access_care_history(request.actor, request.profile.pk, trace_action=None)
    if request.method == "POST":
        choice = request.POST.get("visibilite")
        if choice in ("masquee", "visible"):
            actions.care_history_set_masked(
                actor=request.actor, patient_id=patient.pk, masked=choice == "masquee"
            )
            messages.success(request, "Votre choix de confidentialité est enregistré.")
            return redirect("portal:care_history")
        messages.error(request, "Choisissez qui peut voir Mon histoire de santé.")
    return render(
        request, "portal/care_history/confidentiality.html", {"masked": is_masked(patient)}
    )

"""Habitudes de vie: the sections, their questions, the removal of an answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.medical_profile import actions, policies, rubrics
from mes.medical_profile.actions import current_answers
from mes.medical_profile.lifestyle import catalogue
from mes.medical_profile.models import LifestyleAnswer

from ...access import PortalRequest, patient_view
from ..forms import LifestyleSectionForm
from .common import third_person_name


@dataclass(frozen=True)
class AnsweredQuestion:
    name: str
    label: str
    answer: str


@dataclass(frozen=True)
class SectionCard:
    name: str
    label: str
    prompt: str
    updated: LifestyleAnswer | None
    answered: list[AnsweredQuestion]


def _cards(patient: Citizen, other: str | None) -> list[SectionCard]:
    current = current_answers(patient)
    cards = []
    for sec in catalogue().sections:
        answered = [
            AnsweredQuestion(q.name, q.label_for(other), q.option_label(current[q.name].value))
            for q in sec.questions
            if q.name in current
        ]
        dated = [current[q.name] for q in sec.questions if q.name in current]
        cards.append(
            SectionCard(
                name=sec.name,
                label=sec.label,
                prompt=sec.prompt_for(other),
                updated=max(dated, key=lambda a: a.answered_at) if dated else None,
                answered=answered,
            )
        )
    return cards


@patient_view
def lifestyle(request: PortalRequest) -> HttpResponse:
    """Habitudes de vie: one card per section, « Mis à jour le … » or « Non renseignée »."""
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.LIFESTYLE
    )
    return render(
        request,
        "portal/profile/lifestyle.html",
        {"cards": _cards(patient, third_person_name(request))},
    )


def _section_or_404(name: str) -> Any:
    try:
        return catalogue().section(name)
    except KeyError as exc:
        raise Http404("Introuvable.") from exc


@patient_view
def lifestyle_section(request: PortalRequest, section: str) -> HttpResponse:
    """The questions of one section, with the history of the answers."""
    sec = _section_or_404(section)
    other = third_person_name(request)
    if request.method == "POST":
        form = LifestyleSectionForm(request.POST, section=sec, first_name=other)
        if form.is_valid():
            try:
                actions.lifestyle_save_section(
                    actor=request.actor,
                    patient_id=request.profile.pk,
                    section=sec.name,
                    answers={k: str(v or "") for k, v in form.cleaned_data.items()},
                )
            except InvalidInput as exc:
                form.add_input_error(exc)
            else:
                messages.success(request, "Habitudes de vie enregistrées")
                return redirect("portal:profile_lifestyle")
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.LIFESTYLE
    )
    current = current_answers(patient)
    if request.method != "POST":
        initial = {name: a.value for name, a in current.items()}
        form = LifestyleSectionForm(initial=initial, section=sec, first_name=other)
    names = {q.name for q in sec.questions}
    history = [
        (a, sec.questions[[q.name for q in sec.questions].index(a.question)])
        for a in LifestyleAnswer.objects.filter(patient=patient, question__in=names)
    ]
    return render(
        request,
        "portal/profile/lifestyle_section.html",
        {
            "section": sec,
            "prompt": sec.prompt_for(other),
            "form": form,
            "answered": [(q.name, q.label_for(other)) for q in sec.questions if q.name in current],
            "history": [
                (a.answered_at, q.label_for(other), q.option_label(a.value)) for a, q in history
            ],
            "other": other,
        },
    )


@patient_view
def lifestyle_delete(request: PortalRequest, section: str, question: str) -> HttpResponse:
    """« Supprimer cette réponse ? »."""
    sec = _section_or_404(section)
    try:
        q = catalogue().question(question)
    except KeyError as exc:
        raise Http404("Introuvable.") from exc
    if q.section != sec.name:
        raise Http404("Introuvable.")
    if request.method == "POST":
        try:
            actions.lifestyle_delete_answer(
                actor=request.actor, patient_id=request.profile.pk, question=q.name
            )
        except InvalidInput as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Réponse supprimée")
        return redirect("portal:profile_lifestyle_section", sec.name)
    policies.access_profile(request.actor, request.profile.pk, write=False, label=rubrics.LIFESTYLE)
    return render(
        request,
        "portal/profile/lifestyle_delete.html",
        {"section": sec, "question": q, "label": q.label_for(third_person_name(request))},
    )

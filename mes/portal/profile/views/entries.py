"""The list rubrics (maladies, traitements, hospitalisations, handicaps, allergies,
antécédents familiaux, entourage): list, add, edit, delete, « rien à ajouter »."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mes.audit.models import TraceAction
from mes.enrolment.models import LegalRepresentation
from mes.lib.errors import InvalidInput
from mes.medical_profile import actions, policies, rubrics
from mes.medical_profile.models import ProfileEntry, Treatment
from mes.medical_profile.rubrics import Rubric

from ...access import PortalRequest, patient_view
from ..forms import FORMS, ProfileForm
from .common import first_name, show_entry_profile, third_person_name
from .words import PREFETCH, UI, EntryView, RubricUI, describe


@patient_view
def rubric_list(request: PortalRequest, rubric: Rubric) -> HttpResponse:
    """One rubric: its entries, or its empty state with « Je n'ai pas de … à ajouter »."""
    ui = UI[rubric]
    page = policies.rubric_entries(request.actor, request.profile.pk, rubric)
    declared = page.not_concerned.declared_on if page.not_concerned else None
    entries = page.entries.prefetch_related(*PREFETCH.get(rubric, ()))
    views = [describe(e) for e in entries]
    context: dict[str, Any] = {
        "ui": ui,
        "words": ui.words(third_person_name(request), declared),
        "entries": views,
        "not_concerned": page.not_concerned,
        "offers_none": rubric in rubrics.NOT_CONCERNED,
    }
    if rubric is Rubric.CONTACTS:
        context["blocks"] = _entourage_blocks(views, own=request.is_own_profile)
        context["people"] = _entourage_people(views)
        context["adult"] = not page.patient.is_minor()
        context["trusted"] = next((v for v in views if v.entry.is_trusted), None)  # type: ignore[attr-defined]
    return render(request, ui.template, context)


@dataclass(frozen=True)
class Person:
    """One member of the entourage, shown once with every role they hold."""

    view: EntryView
    roles: list[str]


ROLE_LABELS = {
    "is_emergency": "Contact d'urgence",
    "is_trusted": "Personne de confiance",
    "is_caregiver": "Proche aidant",
    "is_helped": "Proche aidé",
}


def _entourage_people(views: list[EntryView]) -> list[Person]:
    return [
        Person(view, [label for role, label in ROLE_LABELS.items() if getattr(view.entry, role)])
        for view in views
    ]


@dataclass(frozen=True)
class ContactBlock:
    role: str
    title: str
    meaning: str
    add_label: str
    entries: list[EntryView]


def _entourage_blocks(views: list[EntryView], *, own: bool) -> list[ContactBlock]:
    """The four blocks of « Entourage » (portal.md §2.14); one contact may sit in several."""
    me, my = ("je", "mes") if own else ("il ou elle", "ses")
    specs = [
        (
            "is_emergency",
            "Contacts d'urgence",
            f"Les personnes à prévenir si {me} suis en situation d'urgence médicale."
            if own
            else "Les personnes à prévenir en cas d'urgence médicale.",
            "Ajouter un contact d'urgence",
        ),
        (
            "is_trusted",
            "Personne de confiance",
            f"La personne qui connaît {my} volontés et peut être consultée si "
            + ("je ne peux plus m'exprimer." if own else "il ou elle ne peut plus s'exprimer."),
            "Ajouter une personne de confiance",
        ),
        (
            "is_caregiver",
            "Proches aidants",
            "Les proches qui aident au quotidien. Les déclarer ne leur donne pas accès à "
            "Mon espace santé.",
            "Ajouter un proche aidant",
        ),
        (
            "is_helped",
            "Proches aidés",
            "Les proches en situation de dépendance que "
            + ("j'aide" if own else "cette personne aide")
            + " dans leurs activités quotidiennes.",
            "Ajouter un proche aidé",
        ),
    ]
    return [
        ContactBlock(
            role=role,
            title=title,
            meaning=meaning,
            add_label=add,
            entries=[v for v in views if getattr(v.entry, role)],
        )
        for role, title, meaning, add in specs
    ]


def _treatments(request: PortalRequest, rubric: Rubric) -> list[Treatment]:
    """The treatments to offer for linking, read once the profile policy has passed."""
    form_class = FORMS[rubric.value]
    if not form_class.has_treatments:
        return []
    return list(Treatment.objects.filter(patient=request.profile).order_by("name"))


def _form_page(
    request: PortalRequest, ui: RubricUI, form: ProfileForm, entry: ProfileEntry | None
) -> HttpResponse:
    return render(
        request,
        "portal/profile/entry_form.html",
        {
            "ui": ui,
            "form": form,
            "entry": entry,
            "title": ui.edit_title if entry else ui.add_label,
        },
    )


def _save(
    request: PortalRequest, form: ProfileForm, entry: ProfileEntry | None
) -> ProfileEntry | None:
    try:
        if entry is None:
            return actions.entry_add(
                actor=request.actor, patient_id=request.profile.pk, data=form.to_input()
            )
        return actions.entry_update(actor=request.actor, entry_id=entry.pk, data=form.to_input())
    except InvalidInput as exc:
        _show_error(form, exc)
        return None


def _show_error(form: ProfileForm, exc: InvalidInput) -> None:
    # Contact roles are four checkboxes: an error about them shows on the first.
    if exc.field == "roles":
        exc = InvalidInput(str(exc), field="is_emergency")
    form.add_input_error(exc)


def _contact_initial(request: PortalRequest) -> dict[str, Any]:
    """« Ajouter un contact d'urgence » ticks its role; on a child's profile, « M'ajouter comme
    contact d'urgence » fills in the parent's own name and contact details."""
    initial: dict[str, Any] = {}
    role = request.GET.get("role", "")
    if role in {"is_emergency", "is_trusted", "is_caregiver", "is_helped"}:
        initial[role] = True
    if request.GET.get("moi") and not request.is_own_profile:
        me = request.citizen
        link = (
            LegalRepresentation.objects.current()
            .filter(representative=me, represented=request.profile)
            .values_list("role", flat=True)
            .first()
        )
        initial.update(
            is_emergency=True,
            last_name=me.used_name or me.birth_name,
            first_name=first_name(me),
            link={"mother": "MOTHER", "father": "FATHER", "guardian": "GUARDIAN"}.get(
                link or "", "OTHER"
            ),
            phone1=me.user.phone if me.user else "",
            email=me.email,
        )
    return initial


@patient_view
def entry_add(request: PortalRequest, rubric: Rubric) -> HttpResponse:
    """« Ajouter … »: nothing is stored unless every rule passes."""
    ui = UI[rubric]
    form_class = FORMS[rubric.value]
    if request.method == "POST":
        form = form_class(
            request.POST,
            treatments=_treatments(request, rubric),
            birth_date=request.profile.birth_date,
        )
        if form.is_valid() and _save(request, form, None) is not None:
            messages.success(request, ui.added)
            return redirect(ui.list_url)
        policies.access_profile(
            request.actor, request.profile.pk, write=False, label=rubrics.LABELS[rubric]
        )
    else:
        policies.access_profile(
            request.actor, request.profile.pk, write=False, label=rubrics.LABELS[rubric]
        )
        initial = _contact_initial(request) if rubric is Rubric.CONTACTS else {}
        form = form_class(initial=initial, treatments=_treatments(request, rubric))
    return _form_page(request, ui, form, None)


def _entry_to_change(request: PortalRequest, rubric: Rubric, entry_id: uuid.UUID) -> ProfileEntry:
    """The entry about to be changed or deleted, through the policy (a 404 for anything not
    on the citizen's side), its own profile shown."""
    entry = policies.access_entry(
        request.actor,
        rubrics.MODELS[rubric],
        entry_id,
        write=True,
        label=rubrics.LABELS[rubric],
        trace_action=TraceAction.CONSULT_PROFILE,
    )
    show_entry_profile(request, entry)
    return entry


@patient_view
def entry_edit(request: PortalRequest, rubric: Rubric, entry_id: uuid.UUID) -> HttpResponse:
    """« Modifier »: only the citizen side's own entries; anything else is a 404."""
    ui = UI[rubric]
    form_class = FORMS[rubric.value]
    entry = _entry_to_change(request, rubric, entry_id)
    treatments = [t for t in _treatments(request, rubric) if t.pk != entry.pk]
    if request.method == "POST":
        form = form_class(request.POST, treatments=treatments, birth_date=entry.patient.birth_date)
        if form.is_valid() and _save(request, form, entry) is not None:
            messages.success(request, ui.updated)
            return redirect(ui.list_url)
    else:
        form = form_class(initial=form_class.initial_from(entry), treatments=treatments)
    return _form_page(request, ui, form, entry)


@patient_view
def entry_delete(request: PortalRequest, rubric: Rubric, entry_id: uuid.UUID) -> HttpResponse:
    """« Supprimer cette … ? »: a confirmation page, then the deletion (POST)."""
    ui = UI[rubric]
    if request.method == "POST":
        actions.entry_delete(actor=request.actor, rubric=rubric, entry_id=entry_id)
        messages.success(request, ui.deleted)
        return redirect(ui.list_url)
    entry = _entry_to_change(request, rubric, entry_id)
    return render(request, "portal/profile/entry_delete.html", {"ui": ui, "view": describe(entry)})


@require_POST
@patient_view
def not_concerned(request: PortalRequest, rubric: Rubric) -> HttpResponse:
    """« Je n'ai pas de … à ajouter »."""
    ui = UI[rubric]
    try:
        actions.declare_not_concerned(
            actor=request.actor, patient_id=request.profile.pk, rubric=rubric
        )
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Votre déclaration est enregistrée.")
    return redirect(ui.list_url)

"""Profil médical: the home, the identity card and every rubric (portal.md §2, §6).

Each view resolves through one policy or action of mes.medical_profile; refusals raise NotFound
and look exactly like an entry that does not exist. Texts speak in the first person on one's own
profile, in the third person when a parent acts for a child (request.is_own_profile False).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from mes.access.actions import treating_declaration
from mes.audit.models import TraceAction
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.lib.phone import grouped
from mes.medical_profile import actions, directory, policies, rubrics
from mes.medical_profile.actions import ROLE_PROFESSIONS, current_answers
from mes.medical_profile.lifestyle import catalogue
from mes.medical_profile.models import (
    Allergy,
    BloodGroup,
    Contact,
    Disability,
    Disease,
    FamilyHistory,
    Hospitalisation,
    LifestyleAnswer,
    OrganDonationAcknowledgement,
    ProfileEntry,
    ProfileProfessional,
    Treatment,
)
from mes.medical_profile.overview import overview
from mes.medical_profile.rubrics import Rubric

from ..access import PROFILE_SESSION_KEY, PortalRequest, patient_view
from .forms import (
    FORMS,
    BloodGroupForm,
    LifestyleSectionForm,
    OrganDonationForm,
    ProfessionalSearchForm,
    ProfileForm,
    StructureSearchForm,
)

# Directives anticipées are for adults only (portal.md §4.1).
MAJORITY = 18


def first_name(profile: Citizen) -> str:
    return profile.used_first_name or profile.first_name


def _other(request: PortalRequest) -> str | None:
    """The first name to speak of in the third person, None on one's own profile."""
    return None if request.is_own_profile else first_name(request.profile)


# --- the rubrics' words ------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricUI:
    rubric: Rubric
    list_url: str  # url name of the rubric page
    item: str  # url names profile_<item>_add, _edit, _delete, _none
    title: str
    plural: str  # « mes / ses / les … de Léo »
    add_label: str
    edit_title: str
    delete_question: str  # « Supprimer cette <X> ? »
    delete_warning: str
    added: str  # toasts
    updated: str
    deleted: str
    none_of: str  # « Je n'ai pas <none_of> à ajouter »
    why_own: str
    why_other: str  # {prenom}
    examples: str = ""
    template: str = "portal/profile/rubric_list.html"

    @property
    def add_url(self) -> str:
        return f"portal:profile_{self.item}_add"

    @property
    def edit_url(self) -> str:
        return f"portal:profile_{self.item}_edit"

    @property
    def delete_url(self) -> str:
        return f"portal:profile_{self.item}_delete"

    @property
    def none_url(self) -> str:
        return f"portal:profile_{self.item}_none"

    def words(self, other: str | None, declared_on: date | None = None) -> dict[str, str]:
        """The texts of the page, first or third person."""
        when = declared_on.strftime("%d/%m/%Y") if declared_on else ""
        if other is None:
            return {
                "empty_title": f"J'ajoute mes {self.plural}",
                "why": self.why_own,
                "none_button": f"Je n'ai pas {self.none_of} à ajouter",
                "declared": f"J'ai déclaré ne pas avoir {self.none_of} le {when}",
                "heading": f"Mes {self.plural}",
            }
        return {
            "empty_title": f"J'ajoute les {self.plural} de {other}",
            "why": self.why_other.replace("{prenom}", other),
            "none_button": f"{other} n'a pas {self.none_of} à ajouter",
            "declared": f"J'ai déclaré que {other} n'a pas {self.none_of} le {when}",
            "heading": f"Les {self.plural} de {other}",
        }


UI: dict[Rubric, RubricUI] = {
    Rubric.DISEASES: RubricUI(
        rubric=Rubric.DISEASES,
        list_url="portal:profile_diseases",
        item="disease",
        title="Maladies et sujets de santé",
        plural="maladies et sujets de santé",
        add_label="Ajouter une maladie ou un sujet de santé",
        edit_title="Modifier la maladie ou le sujet de santé",
        delete_question="Supprimer cette maladie ou ce sujet de santé ?",
        delete_warning="Cette maladie ou ce sujet de santé sera supprimé définitivement. "
        "Les traitements associés sont conservés dans la rubrique Traitements.",
        added="Maladie ou sujet de santé ajouté",
        updated="Maladie ou sujet de santé modifié",
        deleted="Maladie ou sujet de santé supprimé",
        none_of="de maladie ou de sujet de santé",
        why_own="Pour suivre les événements qui comptent pour ma santé, d'hier et d'aujourd'hui.",
        why_other="Pour suivre les événements qui comptent pour la santé de {prenom}.",
        examples="Ex. : maladie chronique, grossesse, suivi dentaire, douleurs, opération…",
    ),
    Rubric.TREATMENTS: RubricUI(
        rubric=Rubric.TREATMENTS,
        list_url="portal:profile_treatments",
        item="treatment",
        title="Traitements",
        plural="traitements",
        add_label="Ajouter un traitement",
        edit_title="Modifier le traitement",
        delete_question="Supprimer ce traitement ?",
        delete_warning="Ce traitement sera supprimé définitivement, et retiré des maladies et "
        "allergies auxquelles il est associé.",
        added="Traitement ajouté",
        updated="Traitement modifié",
        deleted="Traitement supprimé",
        none_of="de traitement",
        why_own="Pour garder la liste des médicaments que je prends, leur posologie et les "
        "effets ressentis.",
        why_other="Pour garder la liste des médicaments de {prenom}, leur posologie et les "
        "effets ressentis.",
        examples="Ex. : médicaments, soins, dispositifs médicaux…",
    ),
    Rubric.HOSPITALIZATIONS: RubricUI(
        rubric=Rubric.HOSPITALIZATIONS,
        list_url="portal:profile_hospitalisations",
        item="hospitalisation",
        title="Hospitalisations",
        plural="hospitalisations",
        add_label="Ajouter une hospitalisation",
        edit_title="Modifier l'hospitalisation",
        delete_question="Supprimer cette hospitalisation ?",
        delete_warning="Cette hospitalisation sera supprimée définitivement.",
        added="Hospitalisation ajoutée",
        updated="Hospitalisation modifiée",
        deleted="Hospitalisation supprimée",
        none_of="d'hospitalisation ou d'acte chirurgical",
        why_own="Pour garder une trace de mes séjours à l'hôpital et des soins reçus.",
        why_other="Pour garder une trace des séjours de {prenom} à l'hôpital et des soins reçus.",
        examples="Ex. : chirurgie, accouchement, séjour aux urgences…",
    ),
    Rubric.DISABILITIES: RubricUI(
        rubric=Rubric.DISABILITIES,
        list_url="portal:profile_disabilities",
        item="disability",
        title="Handicaps",
        plural="handicaps",
        add_label="Ajouter un handicap",
        edit_title="Modifier le handicap",
        delete_question="Supprimer ce handicap ?",
        delete_warning="Ce handicap sera supprimé définitivement.",
        added="Handicap ajouté",
        updated="Handicap modifié",
        deleted="Handicap supprimé",
        none_of="de handicap",
        why_own="Pour que les professionnels de santé adaptent leurs soins à mes besoins, "
        "en particulier en urgence.",
        why_other="Pour que les professionnels de santé adaptent leurs soins aux besoins de "
        "{prenom}, en particulier en urgence.",
        examples="Ex. : handicap moteur, sensoriel, psychique…",
    ),
    Rubric.ALLERGIES: RubricUI(
        rubric=Rubric.ALLERGIES,
        list_url="portal:profile_allergies",
        item="allergy",
        title="Allergies",
        plural="allergies",
        add_label="Ajouter une allergie",
        edit_title="Modifier l'allergie",
        delete_question="Supprimer cette allergie ?",
        delete_warning="Cette allergie sera supprimée définitivement. Les traitements associés "
        "sont conservés.",
        added="Allergie ajoutée",
        updated="Allergie modifiée",
        deleted="Allergie supprimée",
        none_of="d'allergie",
        why_own="Pour que mes prescriptions et mes soins en tiennent compte, notamment en urgence.",
        why_other="Pour que les prescriptions et les soins de {prenom} en tiennent compte, "
        "notamment en urgence.",
        examples="Ex. : allergies alimentaires, médicamenteuses, intolérances…",
    ),
    Rubric.FAMILY_HISTORIES: RubricUI(
        rubric=Rubric.FAMILY_HISTORIES,
        list_url="portal:profile_family_histories",
        item="family_history",
        title="Antécédents familiaux",
        plural="antécédents familiaux",
        add_label="Ajouter un antécédent familial",
        edit_title="Modifier l'antécédent familial",
        delete_question="Supprimer cet antécédent familial ?",
        delete_warning="Cet antécédent familial sera supprimé définitivement.",
        added="Antécédent familial ajouté",
        updated="Antécédent familial modifié",
        deleted="Antécédent familial supprimé",
        none_of="d'antécédent familial",
        why_own="Pour repérer les maladies de ma famille qui pourraient concerner ma santé.",
        why_other="Pour repérer les maladies de la famille qui pourraient concerner la santé "
        "de {prenom}.",
        examples="Ex. : diabète, maladie cardiaque, cancer d'un parent…",
    ),
    Rubric.CONTACTS: RubricUI(
        rubric=Rubric.CONTACTS,
        list_url="portal:profile_entourage",
        item="contact",
        title="Entourage",
        plural="contacts",
        add_label="Ajouter un contact",
        edit_title="Modifier le contact",
        delete_question="Supprimer ce contact ?",
        delete_warning="Ce contact sera supprimé définitivement, avec tous ses rôles.",
        added="Contact ajouté",
        updated="Contact modifié",
        deleted="Contact supprimé",
        none_of="de contact",
        why_own="Les personnes à prévenir, ma personne de confiance et mes proches aidants ou "
        "aidés. Les professionnels de santé autorisés peuvent les consulter.",
        why_other="Les personnes à prévenir et les proches de {prenom}. Les professionnels de "
        "santé autorisés peuvent les consulter.",
        template="portal/profile/entourage.html",
    ),
}


# --- how an entry is shown ---------------------------------------------------------------------


@dataclass
class EntryView:
    entry: ProfileEntry
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    badge: str = ""

    def add(self, label: str, value: object) -> None:
        if value not in (None, "", [], ()):
            self.facts.append((label, str(value)))


def _names(items: Any) -> str:
    return ", ".join(i.name for i in items.all())


def _period(view: EntryView, entry: Disease | Treatment, ongoing: str, ended: str) -> None:
    view.badge = ongoing if entry.ongoing else ended
    view.add("Date de début", entry.start)
    view.add("Date de fin", entry.end)


def describe(entry: ProfileEntry) -> EntryView:
    """The title and the facts of one entry, as the rubric page lists them."""
    if isinstance(entry, Disease):
        view = EntryView(entry, entry.name)
        _period(view, entry, "En cours", "Terminée")
        view.add("Traitements associés", _names(entry.treatments))
    elif isinstance(entry, Treatment):
        view = EntryView(entry, entry.name)
        _period(view, entry, "En cours", "Terminé")
        view.add("Posologie", entry.dosage)
        view.add("Maladie associée", _names(entry.diseases))
        view.add("Allergie associée", _names(entry.allergies))
    elif isinstance(entry, Hospitalisation):
        view = EntryView(entry, entry.reason)
        view.add("Date d'admission", entry.admission)
        view.add("Durée du séjour", entry.stay_display)
    elif isinstance(entry, Disability):
        view = EntryView(entry, entry.name)
        view.add("Type de handicap", ", ".join(entry.kind_labels))
        view.add("Taux d'incapacité", entry.get_incapacity_rate_display())
        view.add("Aide technique", entry.technical_aid)
        view.add("Aide humaine", entry.get_human_aid_display())
    elif isinstance(entry, Allergy):
        view = EntryView(entry, entry.name)
        view.add("Réaction", entry.reaction)
        view.add("Sévérité", entry.get_severity_display())
        view.add("Date de début", entry.start)
        view.add("Traitements associés", _names(entry.treatments))
    elif isinstance(entry, FamilyHistory):
        view = EntryView(entry, entry.name)
        view.add("Lien familial", entry.get_relative_display())
    elif isinstance(entry, Contact):
        view = EntryView(entry, entry.display_name, badge=", ".join(entry.role_labels))
        view.add("Lien", entry.get_link_display())
        view.add("Téléphone", " · ".join(grouped(p) for p in (entry.phone1, entry.phone2) if p))
        view.add("Adresse e-mail", entry.email)
        place = " ".join(p for p in (entry.postal_code, entry.city) if p)
        view.add("Adresse", ", ".join(p for p in (entry.address, place, entry.country) if p))
        return view
    else:
        raise TypeError(type(entry))
    view.add("Informations complémentaires", getattr(entry, "comment", ""))
    return view


# The links each rubric's page shows with its entries.
PREFETCH = {
    Rubric.DISEASES: ("treatments",),
    Rubric.ALLERGIES: ("treatments",),
    Rubric.TREATMENTS: ("diseases", "allergies"),
}


# --- home and identity -------------------------------------------------------------------------


@patient_view
def profile(request: PortalRequest) -> HttpResponse:
    """Profil médical: every rubric with what it holds (portal.md §2.1)."""
    patient = policies.access_profile(request.actor, request.profile.pk, write=False)
    return render(
        request,
        "portal/profile/home.html",
        {
            "overview": overview(patient),
            "adult": patient.age_on(timezone.localdate()) >= MAJORITY,
            "prenom": first_name(patient),
        },
    )


@patient_view
def identity(request: PortalRequest) -> HttpResponse:
    """« Ma carte d'identité santé »: the INS and its traits, read only (portal.md §1.2)."""
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.IDENTITY
    )
    return render(request, "portal/profile/identity.html", {"patient": patient})


# --- the list rubrics --------------------------------------------------------------------------


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
        "words": ui.words(_other(request), declared),
        "entries": views,
        "not_concerned": page.not_concerned,
        "offers_none": rubric in rubrics.NOT_CONCERNED,
    }
    if rubric is Rubric.CONTACTS:
        context["blocks"] = _entourage_blocks(views, own=request.is_own_profile)
        context["people"] = _entourage_people(views)
        context["adult"] = page.patient.age_on(timezone.localdate()) >= MAJORITY
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


@patient_view
def entry_edit(request: PortalRequest, rubric: Rubric, entry_id: uuid.UUID) -> HttpResponse:
    """« Modifier »: only the citizen side's own entries; anything else is a 404."""
    ui = UI[rubric]
    form_class = FORMS[rubric.value]
    entry = policies.access_entry(
        request.actor,
        rubrics.MODELS[rubric],
        entry_id,
        write=True,
        label=rubrics.LABELS[rubric],
        trace_action=TraceAction.CONSULT_PROFILE,
    )
    _check_profile(request, entry)
    treatments = [t for t in _treatments(request, rubric) if t.pk != entry.pk]
    if request.method == "POST":
        form = form_class(request.POST, treatments=treatments, birth_date=entry.patient.birth_date)
        if form.is_valid() and _save(request, form, entry) is not None:
            messages.success(request, ui.updated)
            return redirect(ui.list_url)
    else:
        form = form_class(initial=form_class.initial_from(entry), treatments=treatments)
    return _form_page(request, ui, form, entry)


def _check_profile(request: PortalRequest, entry: ProfileEntry) -> None:
    """An entry reached by a link from another of the citizen's profiles shows its own profile.

    The policy already allowed it, so its patient is the citizen or someone they represent.
    """
    if entry.patient_id != request.profile.pk:
        request.profile = entry.patient
        request.is_own_profile = entry.patient_id == request.citizen.pk
        request.session[PROFILE_SESSION_KEY] = str(entry.patient_id)


@patient_view
def entry_delete(request: PortalRequest, rubric: Rubric, entry_id: uuid.UUID) -> HttpResponse:
    """« Supprimer cette … ? »: a confirmation page, then the deletion (POST)."""
    ui = UI[rubric]
    if request.method == "POST":
        actions.entry_delete(actor=request.actor, rubric=rubric, entry_id=entry_id)
        messages.success(request, ui.deleted)
        return redirect(ui.list_url)
    entry = policies.access_entry(
        request.actor,
        rubrics.MODELS[rubric],
        entry_id,
        write=True,
        label=rubrics.LABELS[rubric],
        trace_action=TraceAction.CONSULT_PROFILE,
    )
    _check_profile(request, entry)
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


# --- groupe sanguin ----------------------------------------------------------------------------


@patient_view
def blood_group(request: PortalRequest) -> HttpResponse:
    """Groupe sanguin: one value; a value a professional set is shown, not changed (§2.7)."""
    form = BloodGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.blood_group_set(
                actor=request.actor,
                patient_id=request.profile.pk,
                value=form.cleaned_data["value"],
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, "Groupe sanguin enregistré")
            return redirect("portal:profile_blood_group")
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.BLOOD_GROUP
    )
    current = BloodGroup.objects.filter(patient=patient).first()
    if current is not None and not form.is_bound:
        form = BloodGroupForm(initial={"value": current.value})
    return render(request, "portal/profile/blood_group.html", {"form": form, "current": current})


@require_POST
@patient_view
def blood_group_delete(request: PortalRequest) -> HttpResponse:
    try:
        actions.blood_group_delete(actor=request.actor, patient_id=request.profile.pk)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Groupe sanguin supprimé")
    return redirect("portal:profile_blood_group")


# --- Mes professionnels de santé ---------------------------------------------------------------


def _professionals_post(request: PortalRequest) -> HttpResponse:
    op = request.POST.get("op", "")
    try:
        if op == "add":
            actions.profile_professional_add(
                actor=request.actor,
                patient_id=request.profile.pk,
                professional_id=_uuid(request.POST.get("professional")),
                organisation_id=_int(request.POST.get("organisation")),
            )
            messages.success(request, "Professionnel de santé ajouté")
        elif op == "role":
            entry = actions.profile_professional_set_role(
                actor=request.actor,
                entry_id=_uuid_or_404(request.POST.get("entry")),
                role=request.POST.get("role", ""),
            )
            messages.success(
                request,
                f"Rôle de {entry.get_role_display().lower()} attribué"
                if entry.role
                else "Rôle retiré",
            )
        else:
            raise Http404("Introuvable.")
    except InvalidInput as exc:
        messages.error(request, str(exc))
    return redirect("portal:profile_professionals")


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        return None


def _uuid_or_404(raw: str | None) -> uuid.UUID:
    value = _uuid(raw)
    if value is None:
        raise Http404("Introuvable.")
    return value


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@patient_view
def professionals(request: PortalRequest) -> HttpResponse:
    """« Mes professionnels de santé »: the list, the médecin traitant, roles and the directory
    search (portal.md §2.13)."""
    if request.method == "POST":
        return _professionals_post(request)
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.PROFESSIONALS
    )
    search = ProfessionalSearchForm(request.GET if "nom" in request.GET else None)
    structures = StructureSearchForm(request.GET if "etablissement" in request.GET else None)
    entries = list(
        ProfileProfessional.objects.filter(patient=patient).select_related(
            "professional__organisation", "organisation"
        )
    )
    return render(
        request,
        "portal/profile/professionals.html",
        {
            "entries": entries,
            "treating": directory.treating_physician(patient),
            "treating_row": treating_declaration(patient),
            "search": search,
            "structures": structures,
            "found": _found_professionals(search),
            "found_structures": _found_structures(structures),
            "present": {e.professional_id for e in entries} | {e.organisation_id for e in entries},
            "role_professions": {str(r): p for r, p in ROLE_PROFESSIONS.items()},
        },
    )


def _found_professionals(form: ProfessionalSearchForm) -> list[Any] | None:
    if not form.is_bound or not form.is_valid():
        return None
    d = form.cleaned_data
    return directory.search_professionals(
        name=d["nom"], city=d["commune"], profession=d["profession"]
    )


def _found_structures(form: StructureSearchForm) -> list[Any] | None:
    if not form.is_bound or not form.is_valid():
        return None
    d = form.cleaned_data
    return directory.search_organisations(name=d["etablissement"], city=d["ville"], kind=d["type"])


@patient_view
def professional_delete(request: PortalRequest, entry_id: uuid.UUID) -> HttpResponse:
    """« Supprimer le professionnel de santé » of the list, after confirmation."""
    if request.method == "POST":
        actions.profile_professional_remove(actor=request.actor, entry_id=entry_id)
        messages.success(request, "Professionnel de santé supprimé de la liste")
        return redirect("portal:profile_professionals")
    entry = policies.access_entry(
        request.actor,
        ProfileProfessional,
        entry_id,
        write=True,
        label=rubrics.PROFESSIONALS,
        trace_action=TraceAction.CONSULT_PROFILE,
    )
    _check_profile(request, entry)
    return render(request, "portal/profile/professional_delete.html", {"entry": entry})


# --- don d'organes -----------------------------------------------------------------------------


@patient_view
def organ_donation(request: PortalRequest) -> HttpResponse:
    """Don d'organes: the information and the one checkbox, dated and traced (§2.15)."""
    if request.method == "POST":
        form = OrganDonationForm(request.POST)
        form.is_valid()
        ack = actions.organ_donation_set(
            actor=request.actor,
            patient_id=request.profile.pk,
            acknowledged=bool(form.cleaned_data.get("acknowledged")),
        )
        messages.success(request, "Déclaration enregistrée" if ack else "Déclaration retirée")
        return redirect("portal:profile_organ_donation")
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.ORGAN_DONATION
    )
    current = OrganDonationAcknowledgement.objects.filter(patient=patient).first()
    form = OrganDonationForm(initial={"acknowledged": current is not None})
    if not request.is_own_profile:
        form.fields["acknowledged"].label = (
            "Je déclare avoir pris connaissance des dispositions réglementaires relatives au "
            f"don d'organes et de tissus, pour {first_name(patient)}."
        )
    return render(
        request,
        "portal/profile/organ_donation.html",
        {"form": form, "current": current, "prenom": first_name(patient)},
    )


# --- habitudes de vie --------------------------------------------------------------------------


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
        request, "portal/profile/lifestyle.html", {"cards": _cards(patient, _other(request))}
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
    other = _other(request)
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
        {"section": sec, "question": q, "label": q.label_for(_other(request))},
    )

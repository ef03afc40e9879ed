"""The rubrics' words (titles, empty states, help) and how an entry is shown in a list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mes.lib.phone import grouped
from mes.medical_profile.models import (
    Allergy,
    Contact,
    Disability,
    Disease,
    FamilyHistory,
    Hospitalisation,
    ProfileEntry,
    Treatment,
)
from mes.medical_profile.rubrics import Rubric

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

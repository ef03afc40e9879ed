"""« Synthèse de mes vaccinations »: the carnet as a PDF (portal.md §2.11).

The person's identity, the vaccinations done (with who added them), and what the vaccination
calendar says is due. Laid out by the profil médical's PDF renderer, so that every document the
profil produces looks the same.
"""

from __future__ import annotations

from mes.medical_profile import pdf as layout
from mes.prevention.calendar import default_calendar

from .carnet import Carnet, status_text


def _done_rows(carnet: Carnet) -> tuple[tuple[str, ...], ...]:
    header = ("Date", "Vaccin", "Maladies", "Type", "Lot", "Source")
    rows = [header]
    for v in carnet.vaccinations:
        diseases = ", ".join(_diseases(v.valences))
        rows.append(
            (
                f"{v.date:%d/%m/%Y}",
                v.vaccine_label,
                diseases,
                v.get_kind_display(),
                v.lot or "—",
                v.added_by[0].upper() + v.added_by[1:],
            )
        )
    return tuple(rows)


def _diseases(valences: list[str]) -> list[str]:
    cal = default_calendar()
    return [cal.valence_label(v) for v in valences]


def _due_rows(carnet: Carnet) -> tuple[tuple[str, ...], ...]:
    header = ("Vaccination", "Niveau", "Statut", "Âge prévu", "Source de la règle")
    rows = [header]
    for item in carnet.due():
        rows.append(
            (
                f"{item.label} – {item.dose_label}",
                "Obligatoire" if item.mandatory else "Recommandée",
                status_text(item),
                item.age_label,
                ", ".join(s.key for s in item.sources),
            )
        )
    return tuple(rows)


def render(carnet: Carnet, *, own: bool) -> bytes:
    """The synthesis of one carnet; `own`: the holder downloads it (else a representative)."""
    patient = carnet.patient
    title = (
        "Synthèse de mes vaccinations"
        if own
        else f"Synthèse des vaccinations de {patient.display_name}"
    )
    blocks: list[layout.Block] = [layout.Heading("Vaccinations réalisées")]
    if carnet.vaccinations:
        blocks.append(layout.Rows(_done_rows(carnet)))
    else:
        blocks.append(layout.Note("Aucune vaccination n'a encore été renseignée."))
    blocks.append(layout.Heading("Vaccinations à réaliser"))
    due = carnet.due()
    if due:
        blocks.append(
            layout.Note(
                "D'après le calendrier des vaccinations en vigueur, pour l'âge et le sexe de la "
                "personne et les vaccinations renseignées ci-dessus."
            )
        )
        blocks.append(layout.Rows(_due_rows(carnet)))
    else:
        blocks.append(layout.Note("Aucune vaccination n'est à réaliser pour le moment."))
    sources = sorted(
        {(s.key, s.label) for item in due for s in item.sources},
        key=lambda s: int(s[0].split(":")[1]),
    )
    if sources:
        blocks.append(layout.Heading("Sources des règles", level=2))
        blocks.extend(layout.Note(f"{key} : {label}") for key, label in sources)
    blocks.append(
        layout.Note(
            f"{carnet.calendar_title}. Édité le {layout.french_date(carnet.today)} depuis Mon "
            "espace santé. Ce document ne remplace pas l'avis d'un professionnel de santé."
        )
    )
    return layout.render(
        title=title,
        identity=layout.Identity.of(patient),
        blocks=blocks,
        subtitle=f"Au {layout.french_date(carnet.today)}",
        footer=f"{title} – {patient.display_name}",
    )

"""Louise's « Mon histoire de santé » (portal.md §2.2): two years of reimbursed care, fed by the
Assurance Maladie through the real import (mes.reimbursements.actions.import_file), as the
command `mes reimbursements import FILE` does.

Louise Dupont, type 2 diabetes then heart failure: her médecin traitant every three months, the
diabetologist twice a year, a blood test (HbA1c) each quarter at the BioParc laboratory, her
metformin every month at the Pharmacie des Tilleuls, the flu vaccine each autumn, then the
cardiac stay at Villeneuve, the échocardiographie, and the heart-failure treatment after it.

Idempotent: every line has a stable `id_ligne` (DEMO-MHS-…), so a second load adds nothing.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.identity.models import Citizen
from mes.reimbursements.actions import COLUMNS, import_file

from .dataset import PEOPLE, LoadReport

HISTORY_DAYS = 730
HOSPITAL_DAYS_AGO = 128  # the cardiac stay (dataset: Louise left hospital on day 412 of 540)
INSURER = Actor(
    kind=ActorKind.INSURER, display_name="Assurance Maladie", national_id="assurance-maladie"
)
PHARMACY = ("Pharmacie des Tilleuls", "750029991")
LAB = ("Laboratoire de biologie médicale BioParc", "750019990")
MT = ("Dr Bernard Léon", "10100012345")
DIABETO = ("Dr Sophie Cara", "10100023456")
CARDIO = ("Dr Antoine Delosto", "10100034567")
HOSPITAL = ("Centre hospitalier de Villeneuve", "940019998")


def _row(n: int, nir: str, day: date, category: str, who: tuple[str, str], **extra: str) -> dict:
    return {
        "id_ligne": f"DEMO-MHS-{n:04d}",
        "nir": nir,
        "date": day.isoformat(),
        "categorie": category,
        "professionnel": who[0],
        "id_professionnel": who[1],
        **extra,
    }


def louise_lines(nir: str, today: date) -> list[dict]:
    """Two years of Louise's reimbursement lines, oldest first."""
    start = today - timedelta(days=HISTORY_DAYS)
    hospital = today - timedelta(days=HOSPITAL_DAYS_AGO)
    rows: list[dict] = []

    def add(day: date, category: str, who: tuple[str, str], **extra: str) -> None:
        if day <= today:
            rows.append(_row(len(rows) + 1, nir, day, category, who, **extra))

    gp = {"prescripteur": "Dr Bernard Léon", "specialite_prescripteur": "Médecine générale"}
    for month in range(0, 24):
        day = start + timedelta(days=30 * month + 3)
        add(
            day,
            "MEDICAMENT",
            PHARMACY,
            acte="METFORMINE 1000 MG CPR PELLIC",
            code="3400935955838",
            quantite="3",
            groupe_therapeutique="Antidiabétiques oraux (biguanides)",
            **gp,
        )
        if month % 3 == 0:
            add(
                day - timedelta(days=2),
                "SOINS",
                MT,
                acte="Consultation de médecine générale",
                code="G",
                specialite_prescripteur="Médecine générale",
            )
            add(
                day + timedelta(days=5),
                "BIOLOGIE",
                LAB,
                acte="Hémoglobine glyquée (HbA1c)",
                code="1577",
                **gp,
            )
        if month % 6 == 1:
            add(
                day,
                "SOINS",
                DIABETO,
                acte="Consultation de spécialiste",
                code="CS",
                specialite_prescripteur="Endocrinologie et métabolisme",
            )
    for year_back in (1, 0):
        autumn = date(today.year - year_back, 10, 15)
        if autumn > today:
            autumn = date(autumn.year - 1, 10, 15)
        add(
            autumn,
            "VACCIN",
            PHARMACY,
            acte="VAXIGRIPTETRA",
            code="3400930106159",
            quantite="1",
            valence="Grippe saisonnière",
            **gp,
        )
    add(
        hospital - timedelta(days=6),
        "RADIOLOGIE",
        CARDIO,
        acte="Échocardiographie transthoracique",
        code="DZQM006",
        specialite_prescripteur="Médecine générale",
    )
    add(hospital, "HOSPITALISATION", HOSPITAL, sejour="Séjour en cardiologie (5 jours)")
    cardio = {"prescripteur": "Dr Antoine Delosto", "specialite_prescripteur": "Cardiologie"}
    for month in range(0, 4):
        day = hospital + timedelta(days=2 + 30 * month)
        add(
            day,
            "MEDICAMENT",
            PHARMACY,
            acte="BISOPROLOL 2,5 MG CPR",
            code="3400936574830",
            quantite="1",
            groupe_therapeutique="Bêtabloquants",
            **cardio,
        )
        add(
            day,
            "MEDICAMENT",
            PHARMACY,
            acte="FUROSEMIDE 40 MG CPR",
            code="3400931563418",
            quantite="1",
            groupe_therapeutique="Diurétiques de l'anse",
            **cardio,
        )
        add(
            day + timedelta(days=20),
            "SOINS",
            CARDIO,
            acte="Consultation de cardiologie",
            code="CSC",
            specialite_prescripteur="Cardiologie",
        )
    add(
        hospital + timedelta(days=3),
        "DISPOSITIF",
        PHARMACY,
        acte="Pèse-personne électronique",
        quantite="1",
        **cardio,
    )
    return rows


def load_care_history_stories(today: date | None = None) -> LoadReport:
    """Feed Louise's care history (once: the lines are keyed on their id_ligne)."""
    today = today or timezone.localdate()
    report = LoadReport()
    louise_spec = next(p for p in PEOPLE if p.key == "louise")
    louise = Citizen.objects.filter(ins=louise_spec.ins).first()
    if louise is None:
        raise RuntimeError("Chargez d'abord le jeu de démonstration (mes.demo.dataset.load).")
    folder = settings.VAR_DIR / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    # Written under a name of its own, then renamed: two processes may load the demo into one
    # VAR_DIR at once (the test workers, `mes demo --load-only` beside a running demo), and
    # one must never read the file the other is rewriting (an empty header, a refused import).
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", newline="", dir=folder, suffix=".csv", delete=False
    ) as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS), delimiter=";")
        writer.writeheader()
        writer.writerows(louise_lines(louise.ins, today))
    written = Path(f.name)
    try:
        batch = import_file(actor=INSURER, path=written)
    finally:
        written.replace(folder / "remboursements-louise-dupont.csv")  # kept, as the insurer sent it
    if batch.loaded:
        report.add("lignes de Mon histoire de santé", batch.loaded)
    return report

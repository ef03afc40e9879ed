"""The proches aidants of the demo stories (portal.md §5.8).

- Jacqueline Moreau, 80, invited her daughter Isabelle as proche aidante after her fall; Isabelle
  accepted the next day, and the « justificatif d'accès » is in both their Documents.
- Since then Isabelle acts for her mother from her own account: she filed the kinésithérapie
  prescription her mother was given, and Jacqueline's Historique d'activité shows it as done by
  « Isabelle Moreau (proche aidant) ».

Every step goes through mes.carers.actions and mes.records.actions with the clock set to its day.
Idempotent: nothing happens once a delegation from Jacqueline to Isabelle exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone

from mes.access.actors import carer_actor, citizen_actor
from mes.carers import actions
from mes.carers.models import CarerDelegation
from mes.identity.models import Citizen
from mes.medical_profile import pdf
from mes.records.actions import document_deposit

from .dataset import PEOPLE, LoadReport

INVITED_DAYS_AGO = 40
PRESCRIPTION_DAYS_AGO = 20


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    with mock.patch.object(timezone, "now", return_value=at):
        yield


def _citizen(key: str) -> Citizen:
    person = next(p for p in PEOPLE if p.key == key)
    citizen = Citizen.objects.filter(ins=person.ins).first()
    if citizen is None:
        raise RuntimeError("Chargez d'abord le jeu de démonstration (mes.demo.dataset.load).")
    return citizen


def _prescription(jacqueline: Citizen, day: date) -> bytes:
    return pdf.render(
        title="Ordonnance de kinésithérapie",
        subtitle="Document fictif produit pour la démonstration de Mon espace santé.",
        identity=pdf.Identity.of(jacqueline),
        blocks=[
            pdf.Fields((("Prescripteur", "Dr Bernard Léon, médecin généraliste"),)),
            pdf.Para(
                "Vingt séances de rééducation à la marche et de prévention des chutes, à domicile."
            ),
            pdf.Note(f"Fait le {pdf.french_date(day)}."),
        ],
        author="Dr Bernard Léon",
    )


def load_carer_stories(today: date | None = None) -> LoadReport:
    """Jacqueline gives Isabelle access, Isabelle acts for her; once (keyed on the pair)."""
    today = today or timezone.localdate()
    report = LoadReport()
    jacqueline, isabelle = _citizen("jacqueline"), _citizen("isabelle")
    if CarerDelegation.objects.filter(aided=jacqueline, carer=isabelle).exists():
        return report

    def at(days_ago: int, hour: int) -> datetime:
        return timezone.make_aware(datetime.combine(today - timedelta(days=days_ago), time(hour)))

    with transaction.atomic():
        with _clock(at(INVITED_DAYS_AGO, 18)):
            invitation = actions.carer_invite(
                actor=citizen_actor(jacqueline),
                aided_id=jacqueline.pk,
                birth_name=isabelle.birth_name,
                first_name=isabelle.first_name,
                birth_date=isabelle.birth_date,
                ins=isabelle.ins,
                declared=True,
            )
        with _clock(at(INVITED_DAYS_AGO - 1, 9)):
            actions.carer_accept(actor=citizen_actor(isabelle), invitation_id=invitation.pk)
        report.add("délégations de proche aidant")
        day = today - timedelta(days=PRESCRIPTION_DAYS_AGO)
        with _clock(at(PRESCRIPTION_DAYS_AGO, 11)):
            document_deposit(
                actor=carer_actor(isabelle, aided=jacqueline),
                patient_id=jacqueline.pk,
                content=_prescription(jacqueline, day),
                title="Ordonnance de kinésithérapie",
                category="ORD_SOIN",
                service_date=day,
            )
        report.add("documents ajoutés par une aidante")
    return report

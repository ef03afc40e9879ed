"""The médecin traitant declared by a professional (issue 8 item 9), told in the demo.

Three days ago Dr Emma Rousseau, Léo's paediatrician, recorded Claire's consent and declared
herself Claire's médecin traitant from her practice software, by mistake: she is Léo's doctor,
not his mother's. Claire finds the DECLARATION_MT notification (who, when) and « Vérifier ou
contester » on « Accès des professionnels ». Idempotent: nothing is done once Dr Rousseau was
ever declared for Claire (the DECLARATION_MEDECIN_TRAITANT trace exists), contested or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from unittest import mock

from django.db import transaction
from django.utils import timezone

from mes.access.actions import authorisation_declare
from mes.access.actors import professional_actor
from mes.audit.models import Trace, TraceAction
from mes.identity.models import Citizen, Professional

from .dataset import PARIS, PEOPLE, PROS

DECLARED_DAYS_AGO = 3


@contextmanager
def _clock(at: datetime) -> Iterator[None]:
    with mock.patch.object(timezone, "now", return_value=at):
        yield


def load_signin_stories(today: date | None = None) -> dict[str, int]:
    """Dr Rousseau declares herself Claire's médecin traitant, once. Returns what was created."""
    today = today or timezone.localdate()
    claire_ins = next(p.ins for p in PEOPLE if p.key == "claire")
    rousseau_rpps = next(p.rpps for p in PROS if p.key == "pediatre")
    claire = Citizen.objects.filter(ins=claire_ins).first()
    rousseau = Professional.objects.filter(rpps=rousseau_rpps).first()
    if claire is None or rousseau is None:
        return {}
    actor = professional_actor(rousseau)
    if Trace.objects.filter(
        patient_id=claire.pk, action=TraceAction.DECLARE_TREATING, actor_id=actor.national_id
    ).exists():
        return {}
    at = datetime.combine(today - timedelta(days=DECLARED_DAYS_AGO), time(10, 15), tzinfo=PARIS)
    with transaction.atomic(), _clock(at):
        authorisation_declare(actor=actor, patient_id=claire.pk, treating_physician=True)
    return {"médecins traitants déclarés par un professionnel": 1}

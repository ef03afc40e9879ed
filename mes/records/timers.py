"""The R1111-53 timers of INVISIBLE_PATIENT documents (mes-spec §4.6, §4.7).

A professional may deposit a document « non visible par le patient » when it must not reach the
patient without a consultation d'annonce. A professional releases it after that consultation;
failing that, the patient is told after 2 weeks that their dossier was updated (without saying
what), and the document becomes visible by itself 1 month after its deposit.

The access decision already counts the month (Document.released_to_patient), so the document is
visible on time even if the sweep is late; the sweep records the release (date, trace) and sends
the notifications.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import AccessMode, Actor, ActorKind
from mes.access.decision import Action
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.lib.errors import InvalidInput
from mes.notifications.actions import notify
from mes.notifications.models import Notification

from .models import Document
from .policies import access_document

SWEEP_ACTOR_NAME = "rappels-documents-invisibles"

# The 2-week reminder must not reveal the document (not even its title): the patient is asked to
# see a professional, who will explain it (R1111-53).
PENDING_LABEL = (
    "Un document a été ajouté à votre dossier. Il vous sera présenté par un professionnel de "
    "santé : prenez rendez-vous avec lui ou avec votre médecin traitant."
)
AUTO_RELEASE_LABEL = "Un document est désormais visible dans vos documents : « {title} »"
RELEASE_LABEL = "{author} a rendu visible le document « {title} »"


@dataclass(frozen=True)
class SweepResult:
    alerted: int = 0  # reminders sent after 2 weeks
    released: int = 0  # documents made visible after 1 month


def _pending() -> QuerySet[Document]:
    """Current documents still hidden from the patient."""
    return Document.objects.filter(
        status=Document.Status.CURRENT,
        hidden_from_patient=True,
        hidden_from_patient_released_at__isnull=True,
    )


def hidden_documents_sweep(*, actor: Actor, now: datetime | None = None) -> SweepResult:
    """Send the 2-week reminders and apply the 1-month release of INVISIBLE_PATIENT documents.

    Precondition: actor is the system actor of this job. Side effects, per document and in its
    own transaction (a failure leaves the others done): at 2 weeks, hidden_from_patient_alerted_at
    and a RAPPEL_DOC_INVISIBLE notification that names no document; at 1 month,
    hidden_from_patient_released_at, a REMISE_VISIBILITE_AUTO notification and a MODIF_DOC trace
    (no reminder is sent any more then: the document is visible). Idempotent: each step is a
    conditional update, so a second run, or a concurrent one, does nothing more.
    """
    if actor.kind is not ActorKind.SYSTEM:
        raise PermissionError("Ce traitement s'exécute sous un acteur système.")
    now = now or timezone.now()
    release_before = now - settings.MES_HIDDEN_FROM_PATIENT_RELEASE_AFTER
    alert_before = now - settings.MES_HIDDEN_FROM_PATIENT_ALERT_AFTER
    released = alerted = 0

    to_release = _pending().filter(deposited_at__lte=release_before)
    for doc_id in to_release.values_list("pk", flat=True).iterator(chunk_size=500):
        released += _release_automatically(actor, doc_id, now)

    to_alert = _pending().filter(
        deposited_at__lte=alert_before, hidden_from_patient_alerted_at__isnull=True
    )
    for doc_id in to_alert.values_list("pk", flat=True).iterator(chunk_size=500):
        alerted += _alert(doc_id, now)
    return SweepResult(alerted=alerted, released=released)


@transaction.atomic
def _release_automatically(actor: Actor, doc_id: uuid.UUID, now: datetime) -> int:
    # The conditional update is the lock: only one run releases a given document.
    done = _pending().filter(pk=doc_id).update(hidden_from_patient_released_at=now)
    if not done:
        return 0
    doc = Document.objects.select_related("patient").get(pk=doc_id)
    trace.record(
        actor=actor,
        action=TraceAction.RELEASE_DOC,
        patient_id=doc.patient_id,
        document_id=doc.pk,
        document_title=doc.title,
        reason="visible par le patient un mois après son dépôt (R1111-53)",
        hidden_from_representatives=doc.hidden_from_representatives,
    )
    notify(
        profile=doc.patient,
        code=Notification.Code.AUTO_RELEASE,
        label=AUTO_RELEASE_LABEL.format(title=doc.title),
        url=reverse("portal:document", args=[doc.pk]),
        link_label="Voir le document",
        hidden_from_representatives=doc.hidden_from_representatives,
    )
    return 1


@transaction.atomic
def _alert(doc_id: uuid.UUID, now: datetime) -> int:
    done = (
        _pending()
        .filter(pk=doc_id, hidden_from_patient_alerted_at__isnull=True)
        .update(hidden_from_patient_alerted_at=now)
    )
    if not done:
        return 0
    doc = Document.objects.select_related("patient").get(pk=doc_id)
    notify(
        profile=doc.patient,
        code=Notification.Code.HIDDEN_DOCUMENT_PENDING,
        label=PENDING_LABEL,
        hidden_from_representatives=doc.hidden_from_representatives,
    )
    return 1


@traced_action
def document_release_to_patient(*, actor: Actor, document_id: uuid.UUID) -> Document:
    """A professional shows an INVISIBLE_PATIENT document to the patient (consultation d'annonce).

    Precondition: the actor is a professional in normal mode who may read the document (its
    author or any authorised professional, within the matrix); anyone else gets NotFound and a
    refused trace. InvalidInput when the document is already visible to the patient. Side
    effects: hidden_from_patient_released_at, a REMISE_DOC_PATIENT trace, a notification to the
    patient.
    """
    doc = access_document(
        actor, document_id, action=Action.READ, trace_action=TraceAction.RELEASE_DOC
    )
    if actor.kind is not ActorKind.PROFESSIONAL or actor.mode is not AccessMode.NORMAL:
        # An emergency access is no consultation d'annonce. The allowed trace written above is
        # rolled back with this action; @traced_action writes this refusal instead.
        raise Refused.because(
            actor,
            TraceAction.RELEASE_DOC,
            doc.patient_id,
            "réservé à un professionnel en consultation (mode normal)",
            document_id=doc.pk,
            hidden_from_representatives=doc.hidden_from_representatives,
        )
    now = timezone.now()
    if not doc.hidden_from_patient or not _pending().filter(pk=doc.pk).update(
        hidden_from_patient_released_at=now
    ):
        raise InvalidInput("Ce document est déjà visible par le patient.")
    doc.hidden_from_patient_released_at = now
    notify(
        profile=doc.patient,
        code=Notification.Code.NEW_DOCUMENT,
        label=RELEASE_LABEL.format(author=actor.display_name, title=doc.title),
        url=reverse("portal:document", args=[doc.pk]),
        link_label="Voir le document",
        hidden_from_representatives=doc.hidden_from_representatives,
    )
    return doc

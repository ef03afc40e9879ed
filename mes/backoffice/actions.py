"""The citizen side of the support desk: sending a request from « Nous contacter »."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from mes.access.actors import Actor
from mes.audit import trace
from mes.audit.guard import traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.preferences.policies import access_preferences

from .models import SupportRequest

RATE_LIMITED = (
    "Vous avez dépassé le nombre de demandes autorisées. Réessayez demain ou appelez le {phone}."
)


def _notify_desk(request_id: int) -> None:
    """An e-mail to the desk's address, if one is set: the reference and the reason only,
    never the message (it may hold health data) nor who sent it."""
    address = getattr(settings, "MES_SUPPORT_EMAIL", "")
    if not address:
        return
    req = SupportRequest.objects.get(pk=request_id)
    send_mail(
        subject=f"Nouvelle demande au support {req.reference}",
        message=(
            f"Une nouvelle demande ({req.get_reason_display()}) attend une réponse dans "
            "le back-office du support."
        ),
        from_email=None,
        recipient_list=[address],
    )


@traced_action
def support_request_send(
    *,
    actor: Actor,
    requester: Citizen,
    patient_id: uuid.UUID,
    reason: str,
    message: str,
    agents_may_access_profile: bool,
) -> SupportRequest:
    """« Nous contacter »: a request about one profile reaches the support desk.

    Precondition: the actor manages the profile concerned (their own, or one they represent).
    At most settings.MES_SUPPORT_REQUESTS_PER_DAY per account in 24 hours. Bad input raises
    InvalidInput and stores nothing. Side effects: one SupportRequest (kept one year), a
    DEMANDE_SUPPORT trace in the profile's history, an e-mail to the desk (no content).
    """
    patient = access_preferences(actor, patient_id, action=TraceAction.SUPPORT_REQUEST)
    if reason not in SupportRequest.Reason.values:
        raise InvalidInput("Choisissez le motif de votre demande.", field="reason")
    text = message.strip()
    if not text:
        raise InvalidInput("Écrivez votre message.", field="message")
    limit = settings.MES_SUPPORT_MESSAGE_MAX_LENGTH
    if len(text) > limit:
        raise InvalidInput(
            f"Votre message dépasse {limit} caractères ({len(text)}) : raccourcissez-le.",
            field="message",
        )
    now = timezone.now()
    recent = SupportRequest.objects.filter(
        requester=requester, created_at__gte=now - timedelta(days=1)
    ).count()
    if recent >= settings.MES_SUPPORT_REQUESTS_PER_DAY:
        raise InvalidInput(RATE_LIMITED.format(phone=settings.MES_SUPPORT_PHONE))
    req = SupportRequest.objects.create(
        requester=requester,
        profile=patient,
        reason=reason,
        message=text,
        agents_may_access_profile=agents_may_access_profile,
        created_at=now,
        purge_after=now + timedelta(days=settings.MES_SUPPORT_RETENTION_DAYS),
    )
    trace.record(
        actor=actor,
        action=TraceAction.SUPPORT_REQUEST,
        patient_id=patient.pk,
        document_title=req.get_reason_display(),
    )
    transaction.on_commit(lambda: _notify_desk(req.pk))
    return req

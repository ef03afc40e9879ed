"""Background work of the catalogue (thin: the rules live in mes.catalogue.policies/actions).

A pairing past its re-approval deadline already allows nothing (the policies read the clock);
this sweep only records it as « Arrêté », revokes its tokens and tells the holders. Run it every
hour or so; running it twice changes nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from mes.access.actors import system_actor
from mes.audit import trace
from mes.audit.models import TraceAction
from mes.notifications.channels.many import Event, notify_many
from mes.notifications.models import Notification

from .models import Pairing

SWEEPER = system_actor("catalogue-reapproval")


def lapse_overdue_pairings(*, limit: int = 1000) -> int:
    """Stop the active pairings whose re-approval deadline passed: status LAPSED, tokens
    revoked, an ARRET_SYNCHRONISATION_SERVICE trace on the espace and a notification. Returns
    how many were stopped."""
    from django.urls import reverse

    from .actions.citizen import revoke_pairing_tokens

    stopped = 0
    with transaction.atomic():
        overdue = list(
            Pairing.objects.select_for_update(skip_locked=True)
            .filter(status=Pairing.Status.ACTIVE, reapproval_deadline__lte=timezone.now())
            .select_related("service", "patient")[:limit]
        )
        events = []
        for pairing in overdue:
            pairing.status = Pairing.Status.LAPSED
            pairing.ended_at = timezone.now()
            pairing.save(update_fields=["status", "ended_at"])
            revoke_pairing_tokens(pairing)
            trace.record(
                actor=SWEEPER,
                action=TraceAction.PAIRING_LAPSED,
                patient_id=pairing.patient_id,
                document_title=pairing.service.name,
            )
            events.append(
                Event(
                    profile=pairing.patient,
                    code=Notification.Code.SYNCED_SERVICES,
                    label=(
                        f"La synchronisation avec {pairing.service.name} est arrêtée : ses "
                        "nouvelles autorisations n'ont pas été approuvées à temps."
                    ),
                    key=f"catalogue-lapsed:{pairing.pk}",
                    url=reverse("portal:catalogue_synced"),
                    link_label="Voir mes services synchronisés",
                )
            )
            stopped += 1
        notify_many(events)
    return stopped


@task()
def sweep_lapsed_pairings() -> int:
    """The hourly sweep of pairings past their re-approval deadline."""
    return lapse_overdue_pairings()

"""The notification centre seen from the portal: list, mark read or unread, delete (portal.md §7.4).

Every action checks that the notification belongs to a profile the actor manages (the holder, or
a legal representative of the profile); a representative never reaches a notification about a
minor's secret care (R1111-50). Refusals look like "not found" and are traced.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.utils import timezone

from mes.access.actors import Actor
from mes.access.decision import Action, Role, decide
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen

from .models import Notification, NotificationQuerySet

# A refused attempt on the notification centre is traced like any refused access.
REFUSAL_TRACE_ACTION = TraceAction.NOTIFICATIONS


def _managing_role(actor: Actor, profile: Citizen) -> Role | None:
    decision = decide(actor, Action.MANAGE, profile)
    return decision.standing.role if decision.allowed else None


def _managed_profile(actor: Actor, profile_id: uuid.UUID) -> tuple[Citizen, Role]:
    profile = Citizen.objects.filter(pk=profile_id).first()
    role = _managing_role(actor, profile) if profile is not None else None
    if profile is None or role is None:
        raise Refused.because(
            actor,
            REFUSAL_TRACE_ACTION,
            profile.pk if profile else None,
            "centre de notifications : profil non géré par cet usager",
        )
    return profile, role


def _visible(qs: NotificationQuerySet, role: Role) -> NotificationQuerySet:
    return qs.shown_to(representative=role is not Role.HOLDER)


def _access_notification(actor: Actor, notification_id: int) -> Notification:
    notification = (
        Notification.objects.select_for_update()
        .select_related("profile")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        raise Refused.because(
            actor, REFUSAL_TRACE_ACTION, None, "centre de notifications : notification inconnue"
        )
    role = _managing_role(actor, notification.profile)
    if role is None or (role is not Role.HOLDER and notification.hidden_from_representatives):
        raise Refused.because(
            actor,
            REFUSAL_TRACE_ACTION,
            notification.profile_id,
            "centre de notifications : notification d'un profil non géré",
        )
    return notification


@traced_action
def notifications_of(*, actor: Actor, profile_id: uuid.UUID) -> QuerySet[Notification]:
    """The notifications of a profile the actor manages, newest first (NotFound otherwise).

    A legal representative does not see those hidden from the representatives.
    """
    profile, role = _managed_profile(actor, profile_id)
    return _visible(Notification.objects.filter(profile=profile), role).order_by(
        "-created_at", "-pk"
    )


@traced_action
def notification_set_read(*, actor: Actor, notification_id: int, read: bool) -> Notification:
    """Mark one notification read (now) or unread. NotFound if not the actor's to manage."""
    notification = _access_notification(actor, notification_id)
    notification.read_at = timezone.now() if read else None
    notification.save(update_fields=["read_at"])
    return notification


@traced_action
def notifications_mark_all_read(*, actor: Actor, profile_id: uuid.UUID) -> int:
    """Mark every unread notification of the profile that the actor sees as read; how many."""
    profile, role = _managed_profile(actor, profile_id)
    unread = _visible(Notification.objects.filter(profile=profile, read_at__isnull=True), role)
    return unread.update(read_at=timezone.now())


@traced_action
def notification_delete(*, actor: Actor, notification_id: int) -> None:
    """Delete one notification for every account that can see this profile (portal.md §6)."""
    notification = _access_notification(actor, notification_id)
    notification.delete()

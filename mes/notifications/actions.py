"""Notifying a profile. Called by domain actions inside their transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Count

from mes.identity.models import Citizen
from mes.lib import prepared

from .models import Notification


def notify(
    *,
    profile: Citizen,
    code: Notification.Code,
    label: str,
    url: str = "",
    link_label: str = "",
    hidden_from_representatives: bool = False,
    key: str | None = None,
) -> Notification:
    """Add one notification to the profile's centre. key: the event's idempotency key, when
    it has one (a reminder's): a second notification with the same key raises IntegrityError
    and leaves nothing written (`notify_through_channels` callers claim it in a savepoint)."""
    notification = Notification(
        profile=profile,
        code=code,
        label=label,
        url=url,
        link_label=link_label,
        hidden_from_representatives=hidden_from_representatives,
        key=key or None,
    )
    # One INSERT compiled once per process: every deposit notifies (issue 12 §6).
    prepared.insert(notification)
    return notification


def speaks_to_holder(profile: Citizen) -> bool:
    """Is a profile's notification read by its holder? A profile without an account of its
    own (a child) is read by its legal representatives: its texts then name the person, in the
    third person (« … a ajouté le document « X » au profil de Léo »), never « vous »."""
    return profile.user_id is not None


def their_dossier(profile: Citizen) -> str:
    """« votre dossier », or « le dossier de Léo » when representatives read it."""
    if speaks_to_holder(profile):
        return "votre dossier"
    return f"le dossier de {profile.used_first_name or profile.first_name}"


def unread_count(*, profile: Citizen, for_representative: bool) -> int:
    return (
        Notification.objects.filter(profile=profile, read_at__isnull=True)
        .shown_to(representative=for_representative)
        .count()
    )


def unread_counts(*, viewer: Citizen, profile_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Unread notifications of several profiles at once (one query), as `viewer` sees them:
    all of their own, and for a represented person only what representatives may see."""
    unread = Notification.objects.filter(profile_id__in=list(profile_ids), read_at__isnull=True)
    own = unread.filter(profile=viewer).shown_to(representative=False)
    represented = unread.exclude(profile=viewer).shown_to(representative=True)
    rows = (own | represented).values("profile_id").annotate(n=Count("pk"))
    return {row["profile_id"]: row["n"] for row in rows}

"""Notifying a profile. Called by domain actions inside their transaction."""

from __future__ import annotations

from mes.identity.models import Citizen

from .models import Notification


def notify(
    *,
    profile: Citizen,
    code: Notification.Code,
    label: str,
    url: str = "",
    link_label: str = "",
    hidden_from_representatives: bool = False,
) -> Notification:
    """Add one notification to the profile's centre."""
    return Notification.objects.create(
        profile=profile,
        code=code,
        label=label,
        url=url,
        link_label=link_label,
        hidden_from_representatives=hidden_from_representatives,
    )


def unread_count(*, profile: Citizen, for_representative: bool) -> int:
    return (
        Notification.objects.filter(profile=profile, read_at__isnull=True)
        .shown_to(representative=for_representative)
        .count()
    )

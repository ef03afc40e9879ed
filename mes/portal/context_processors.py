from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from mes.notifications.actions import unread_count

from .access import profiles_of


def portal(request: HttpRequest) -> dict[str, Any]:
    """The header: the profile switcher and the bell's unread count, once the view resolved them."""
    context: dict[str, Any] = {"demo_mode": settings.MES_DEMO}
    citizen = getattr(request, "citizen", None)
    profile = getattr(request, "profile", None)
    if citizen is not None and profile is not None:
        own = profile.pk == citizen.pk
        context.update(
            citizen=citizen,
            profile=profile,
            own_profile=own,
            profiles=profiles_of(citizen),
            unread_notifications=unread_count(profile=profile, for_representative=not own),
        )
    return context

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from mes.notifications.actions import unread_count, unread_counts

from .access import profiles_of
from .navigation import navigation


def portal(request: HttpRequest) -> dict[str, Any]:
    """The shell: the sections (navigation.py), the profile switcher and the bell's unread
    count, once the view resolved the citizen and the profile."""
    context: dict[str, Any] = {
        "demo_mode": settings.MES_DEMO,
        "accessibility_status": settings.MES_ACCESSIBILITY_STATUS,
    }
    citizen = getattr(request, "citizen", None)
    profile = getattr(request, "profile", None)
    if citizen is not None and profile is not None:
        own = profile.pk == citizen.pk
        # An aidant acts « on behalf of » the aidé; a legal representative acts as themselves.
        actor = getattr(request, "actor", None)
        as_carer = not own and getattr(actor, "on_behalf_of", None) is not None
        profiles = profiles_of(citizen)
        others = (
            unread_counts(viewer=citizen, profile_ids=[p.pk for p in profiles])
            if len(profiles) > 1
            else {}
        )
        context.update(
            citizen=citizen,
            profile=profile,
            own_profile=own,
            # « Partage du profil » is the legal representatives' (a child's second parent):
            # an aidant on the aidé's profile has no such page.
            represented_profile=not own and not as_carer,
            profiles=[(p, others.get(p.pk, 0)) for p in profiles],
            unread_notifications=unread_count(profile=profile, for_representative=not own),
            nav=navigation(request.path, own_profile=own),
        )
    return context

"""The shell: home page and profile switcher."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mes.access.models import PrivacySettings
from mes.notifications.models import Notification
from mes.records.policies import documents_visible_to

from ..access import PROFILE_SESSION_KEY, PortalRequest, patient_view, profiles_of

HOME_RECENT_DOCUMENTS = 5


@patient_view
def home(request: PortalRequest) -> HttpResponse:
    """Accueil: recent and pinned documents, unread notifications (portal.md §1.3)."""
    if (
        request.is_own_profile
        and not PrivacySettings.objects.filter(
            patient=request.profile, onboarded_at__isnull=False
        ).exists()
    ):
        return redirect("portal:onboarding")
    documents = documents_visible_to(request.actor, request.profile)
    notifications = Notification.objects.filter(
        profile=request.profile, read_at__isnull=True
    ).shown_to(representative=not request.is_own_profile)
    return render(
        request,
        "portal/home.html",
        {
            "recent_documents": documents.order_by("-deposited_at")[:HOME_RECENT_DOCUMENTS],
            "pinned_documents": documents.filter(pinned_at__isnull=False).order_by("-pinned_at"),
            "notifications": notifications[:5],
        },
    )


@require_POST
@patient_view
def switch_profile(request: PortalRequest) -> HttpResponse:
    """Switch between one's own dossier and those of the persons one represents."""
    try:
        wanted = uuid.UUID(request.POST.get("profile", ""))
    except ValueError as exc:
        raise Http404("Introuvable.") from exc
    if wanted not in {p.pk for p in profiles_of(request.citizen)}:
        raise Http404("Introuvable.")
    request.session[PROFILE_SESSION_KEY] = str(wanted)
    return redirect("portal:home")

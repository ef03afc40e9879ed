"""The shell: home page, profile switcher, « Plus », Paramètres and « Mes raccourcis »."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mes.access.models import PrivacySettings
from mes.agenda.policies import agenda_manageable
from mes.agenda.selectors import due_items
from mes.lib.errors import InvalidInput
from mes.notifications.models import Notification
from mes.preferences.actions import shortcuts_of, shortcuts_set
from mes.prevention.schedule import PreventionItem
from mes.records.policies import documents_visible_to

from ..access import PROFILE_SESSION_KEY, PortalRequest, patient_view, profiles_of
from ..navigation import navigation
from . import shortcuts
from .forms import ShortcutsForm

HOME_RECENT_DOCUMENTS = 5
HOME_NOTIFICATIONS = 3
HOME_DUE_ITEMS = 3


def _due_items(request: PortalRequest) -> list[PreventionItem] | None:
    """« Examens médicaux et vaccinations à réaliser »: the first items to do of the prevention
    calendar (examinations, screenings, vaccinations), from the agenda. None when the viewer
    does not manage the profile's agenda. Like the home's document list, the tile is not
    traced (docs/decisions.md, shell); opening the agenda is."""
    if not agenda_manageable(request.actor, request.profile):
        return None
    return due_items(request.actor, request.profile, limit=HOME_DUE_ITEMS)


@require_GET
@patient_view
def home(request: PortalRequest) -> HttpResponse:
    """Accueil (portal.md §1.3): completion prompts, what is due, recent and pinned documents,
    unread notifications and « Mes raccourcis »."""
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
    recent = list(documents.order_by("-deposited_at")[:HOME_RECENT_DOCUMENTS])
    chosen = shortcuts.links(shortcuts_of(request.profile), own=request.is_own_profile)
    return render(
        request,
        "portal/home.html",
        {
            "recent_documents": recent,
            "pinned_documents": documents.filter(pinned_at__isnull=False).order_by("-pinned_at")[
                :HOME_RECENT_DOCUMENTS
            ],
            "notifications": notifications[:HOME_NOTIFICATIONS],
            "due_items": _due_items(request),
            "shortcuts": chosen,
            "empty_espace": not recent and not chosen,
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


@require_GET
@patient_view
def more(request: PortalRequest) -> HttpResponse:
    """« Plus » on a phone: « Autres rubriques » (portal.md §1.1)."""
    nav = navigation(request.path, own_profile=request.is_own_profile)
    return render(request, "portal/shell/more.html", {"more_links": nav.more})


@require_GET
@patient_view
def settings_hub(request: PortalRequest) -> HttpResponse:
    """Paramètres: every setting of the profile and of the account, in one list."""
    return render(request, "portal/shell/settings.html", {"carers_url": _optional("portal:carers")})


def _optional(url_name: str) -> str:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return ""


@require_http_methods(["GET", "POST"])
@patient_view
def shortcuts_manage(request: PortalRequest) -> HttpResponse:
    """« Gérer mes raccourcis » (portal.md §1.4): up to 5, in the catalogue's order."""
    own = request.is_own_profile
    offered = shortcuts.offered(own=own)
    current = [s.value for s in shortcuts_of(request.profile)]
    form = ShortcutsForm(request.POST or None, offered=offered, own=own, initial={"codes": current})
    if request.method == "POST" and form.is_valid():
        order = {lk.code: i for i, lk in enumerate(offered)}
        codes = sorted(form.cleaned_data["codes"], key=order.__getitem__)
        try:
            shortcuts_set(actor=request.actor, patient_id=request.profile.pk, codes=codes)
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, "Raccourcis enregistrés.")
            return redirect("portal:home")
    return render(
        request,
        "portal/shell/shortcuts.html",
        {"form": form},
    )

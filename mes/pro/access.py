"""Who may call each Web PS view, and in which access mode (DESIGN.md §4, mes-spec §5.4–5.5).

A professional reads a dossier in the normal mode unless they opened an emergency access to it
from this browser session: the emergency flow remembers, per patient, the mode chosen
(bris de glace or Centre 15); while the BreakGlassSession opened by the domain lasts, every
view about that patient acts in that mode with its justification, and the page shows a banner.
When the session has expired the mode is forgotten and the professional is back to normal mode,
so the mode is always explicit and never outlives what the domain allows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import AccessMode, Actor, professional_actor
from mes.access.models import BreakGlassSession
from mes.identity.models import Organisation, Professional
from mes.records.models import Document
from mes.web.access import public_view

View = Callable[..., HttpResponse]
EMERGENCY_SESSION_KEY = "mes_pro_emergency"  # {patient id: access mode}

__all__ = [
    "EMERGENCY_SESSION_KEY",
    "Emergency",
    "ProRequest",
    "end_emergency",
    "may_use_centre_15",
    "normal_actor",
    "professional_view",
    "public_view",
    "remember_emergency",
]


@dataclass(frozen=True)
class Emergency:
    """The emergency access this browser session uses on one patient (shown as a banner)."""

    mode: AccessMode
    justification: str
    until: datetime

    @property
    def label(self) -> str:
        return "Centre 15" if self.mode is AccessMode.CENTRE_15 else "bris de glace"


class ProRequest(HttpRequest):
    professional: Professional
    actor: Actor  # in the emergency mode of the patient of this view, if any
    emergency: Emergency | None
    patient_id: uuid.UUID | None  # the patient this view is about, when there is one


def normal_actor(professional: Professional) -> Actor:
    return professional_actor(professional)


def may_use_centre_15(professional: Professional) -> bool:
    """The Centre 15 mode is the médecin régulateur's: a médecin of a SAMU (mes-spec §5.5)."""
    org = professional.organisation
    return professional.profession == "10" and bool(org and org.kind == Organisation.Kind.SAMU)


def _modes(request: HttpRequest) -> dict[str, str]:
    stored = request.session.get(EMERGENCY_SESSION_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def remember_emergency(request: HttpRequest, patient_id: uuid.UUID, mode: AccessMode) -> None:
    modes = _modes(request)
    modes[str(patient_id)] = mode.value
    request.session[EMERGENCY_SESSION_KEY] = modes


def end_emergency(request: HttpRequest, patient_id: uuid.UUID) -> None:
    modes = _modes(request)
    if modes.pop(str(patient_id), None) is not None:
        request.session[EMERGENCY_SESSION_KEY] = modes


def _current_emergency(
    request: HttpRequest, professional: Professional, patient_id: uuid.UUID | None
) -> Emergency | None:
    """The emergency access chosen in this browser session for this patient, while it lasts."""
    if patient_id is None:
        return None
    raw = _modes(request).get(str(patient_id))
    if raw not in (AccessMode.BREAK_GLASS.value, AccessMode.CENTRE_15.value):
        return None
    session = (
        BreakGlassSession.objects.filter(
            patient_id=patient_id,
            professional=professional,
            mode=raw,
            expires_at__gt=timezone.now(),
        )
        .order_by("-expires_at")
        .first()
    )
    if session is None:
        end_emergency(request, patient_id)
        return None
    return Emergency(
        mode=AccessMode(raw), justification=session.justification, until=session.expires_at
    )


def _patient_of(kwargs: dict[str, Any]) -> uuid.UUID | None:
    """The patient a view is about: named in the URL, or the dossier of the document named.

    Only used to choose the access mode; the document itself is then reached through its policy.
    """
    patient_id = kwargs.get("patient_id")
    if isinstance(patient_id, uuid.UUID):
        return patient_id
    document_id = kwargs.get("document_id")
    if isinstance(document_id, uuid.UUID):
        found: uuid.UUID | None = (
            Document.objects.filter(pk=document_id).values_list("patient_id", flat=True).first()
        )
        return found
    return None


def professional_view(view: View) -> View:
    """A logged-in health professional. Anonymous: to the professionals' login; a citizen (or
    any other login): not found, as for a page that does not exist."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        professional = None
        if request.user.is_authenticated:
            professional = (
                Professional.objects.select_related("organisation")
                .filter(user_id=request.user.pk)
                .first()
            )
        if professional is None:
            if request.user.is_authenticated:
                raise Http404("Introuvable.")
            return redirect_to_login(request.get_full_path(), login_url=reverse("pro:login"))
        preq: ProRequest = request  # type: ignore[assignment]
        preq.professional = professional
        preq.patient_id = _patient_of(kwargs)
        preq.emergency = _current_emergency(request, professional, preq.patient_id)
        if preq.emergency is None:
            preq.actor = normal_actor(professional)
        else:
            preq.actor = professional_actor(
                professional,
                mode=preq.emergency.mode,
                justification=preq.emergency.justification,
            )
        return view(preq, *args, **kwargs)

    # The decorator handles anonymous callers itself: they go to the professionals' login,
    # not to the citizens' one that LoginRequiredMiddleware would choose.
    wrapped = login_not_required(wrapper)
    wrapped.mes_access = "professional"  # type: ignore[attr-defined]
    return wrapped

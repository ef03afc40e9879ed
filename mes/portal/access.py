"""Who may call each portal view. Every view declares one of these; a test walks every URL and
fails on a view that declares nothing (DESIGN.md §4)."""

from __future__ import annotations

import uuid
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from mes.access.actors import Actor, carer_actor, citizen_actor
from mes.carers.models import CarerDelegation
from mes.enrolment.models import LegalRepresentation
from mes.enrolment.policies import citizen_side_q
from mes.identity.models import Citizen
from mes.web.access import View

PROFILE_SESSION_KEY = "mes_profile_id"


class PortalRequest(HttpRequest):
    actor: Actor
    citizen: Citizen  # the logged-in person
    profile: Citizen  # the dossier being viewed: the citizen, or a represented person
    is_own_profile: bool  # False: a representative or a proche aidant acting for someone


def profiles_of(citizen: Citizen) -> list[Citizen]:
    """The citizen's own profile first, then the persons they legally represent, then the aidés
    who gave them access as proche aidant (one switcher for both, wave2.md §1.5)."""
    represented = Citizen.objects.filter(
        pk__in=LegalRepresentation.objects.current()
        .filter(representative=citizen)
        .values("represented_id")
    ).filter(citizen_side_q())  # a child's espace appears once activated (mes.enrolment)
    represented = represented.order_by("birth_date")
    aided = (
        Citizen.objects.filter(
            pk__in=CarerDelegation.objects.active().filter(carer=citizen).values("aided_id")
        )
        .filter(citizen_side_q())  # an aidé's closed or suspended espace cannot be opened
        .exclude(pk__in=[p.pk for p in represented])
        .order_by("birth_date")
    )
    return [citizen, *represented, *aided]


def _is_aided_by(profile: Citizen, citizen: Citizen) -> bool:
    return CarerDelegation.objects.active().filter(carer=citizen, aided=profile).exists()


def _current_profile(request: HttpRequest, citizen: Citizen) -> Citizen:
    raw = request.session.get(PROFILE_SESSION_KEY)
    if raw:
        try:
            wanted = uuid.UUID(raw)
        except ValueError:
            wanted = citizen.pk
        for profile in profiles_of(citizen):
            if profile.pk == wanted:
                return profile
    request.session[PROFILE_SESSION_KEY] = str(citizen.pk)
    return citizen


def patient_view(view: View) -> View:
    """A logged-in citizen acting on their current profile (own or represented)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        citizen = getattr(request.user, "citizen", None) if request.user.is_authenticated else None
        if citizen is None:
            if request.user.is_authenticated:
                raise Http404("Introuvable.")
            return redirect_to_login(request.get_full_path())
        preq: PortalRequest = request  # type: ignore[assignment]
        preq.citizen = citizen
        preq.profile = _current_profile(request, citizen)
        preq.is_own_profile = preq.profile.pk == citizen.pk
        if not preq.is_own_profile and _is_aided_by(preq.profile, citizen):
            # Every action in the aidé's espace is the aidant's, on behalf of the aidé.
            preq.actor = carer_actor(citizen, aided=preq.profile)
        else:
            preq.actor = citizen_actor(citizen)
        return view(preq, *args, **kwargs)

    wrapper.mes_access = "patient"  # type: ignore[attr-defined]
    return wrapper


def demo_view(view: View) -> View:
    """Exists only in demo mode (MES_DEMO); a 404 everywhere else."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.MES_DEMO:
            raise Http404("Introuvable.")
        return view(request, *args, **kwargs)

    wrapped = login_not_required(wrapper)
    wrapped.mes_access = "demo"  # type: ignore[attr-defined]
    return wrapped


def citizen_optional_view(view: View) -> View:
    """Anyone (help and legal pages); a logged-in citizen gets the shell of their profile."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        citizen = getattr(request.user, "citizen", None) if request.user.is_authenticated else None
        if citizen is not None:
            preq: PortalRequest = request  # type: ignore[assignment]
            preq.citizen = citizen
            preq.profile = _current_profile(request, citizen)
            preq.is_own_profile = preq.profile.pk == citizen.pk
            preq.actor = citizen_actor(citizen)
        return view(request, *args, **kwargs)

    wrapped = login_not_required(wrapper)
    wrapped.mes_access = "public"  # type: ignore[attr-defined]
    return wrapped

"""Who may call the support desk's views: a logged-in operator with an active agent role."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from mes.access.actors import Actor
from mes.enrolment.lifecycle import support_actor
from mes.identity.models import User
from mes.web.access import View

from .models_desk import SupportAgent


class DeskRequest(HttpRequest):
    agent: SupportAgent
    actor: Actor


def support_view(view: View) -> View:
    """An agent of the 3422; anonymous visitors go to the desk's login, others get a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect("backoffice:login")
        agent = SupportAgent.objects.filter(
            user_id=user.pk, active=True, user__kind=User.Kind.OPERATOR
        ).first()
        if agent is not None and agent.role == SupportAgent.Role.CATALOGUE:
            # A catalogue operator is no 3422 agent: never a profile, only their own pages
            # (the desk's login lands them here first).
            match = request.resolver_match
            if request.method == "GET" and match is not None and match.url_name == "search":
                return redirect("backoffice_catalogue:services")
            raise Http404("Introuvable.")
        if agent is None:
            raise Http404("Introuvable.")
        dreq: DeskRequest = request  # type: ignore[assignment]
        dreq.agent = agent
        dreq.actor = support_actor(agent.user)
        return view(dreq, *args, **kwargs)

    wrapped = login_not_required(wrapper)
    wrapped.mes_access = "support"  # type: ignore[attr-defined]
    return wrapped

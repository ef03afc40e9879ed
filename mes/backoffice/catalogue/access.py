"""Who may call the catalogue back office: a logged-in operator with the active « Opérateur du
catalogue de services » role. A 3422 agent, a citizen or a professional gets a 404; an
anonymous visitor goes to the back office's login (the desk's, with its own second step)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from mes.access.actors import Actor
from mes.catalogue.actors import catalogue_operator_actor
from mes.catalogue.policies import is_catalogue_operator
from mes.web.access import View


class OperatorRequest(HttpRequest):
    actor: Actor


def catalogue_operator_view(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect("backoffice:login")
        actor = catalogue_operator_actor(user)
        if not is_catalogue_operator(actor):
            raise Http404("Introuvable.")
        oreq: OperatorRequest = request  # type: ignore[assignment]
        oreq.actor = actor
        return view(oreq, *args, **kwargs)

    wrapped = login_not_required(wrapper)
    wrapped.mes_access = "catalogue_operator"  # type: ignore[attr-defined]
    return wrapped

"""Access declarations shared by both web portals (DESIGN.md §4): every view declares who may
call it, and a test walks every URL and fails on a view that declares nothing."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse

View = Callable[..., HttpResponse]


def public_view(view: View) -> View:
    """Anyone, logged in or not (login pages, legal notices)."""
    view = login_not_required(view)
    view.mes_access = "public"  # type: ignore[attr-defined]
    return view

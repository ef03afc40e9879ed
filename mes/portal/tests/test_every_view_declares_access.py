"""Walk every URL of the project: a view that declares no access rule fails the build."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

KNOWN = {"public", "patient", "demo", "professional", "fhir", "support", "catalogue_operator"}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.callback


def test_every_view_declares_who_may_call_it():
    undeclared = [
        route
        for route, view in _walk(get_resolver().url_patterns)
        if getattr(view, "mes_access", None) not in KNOWN
    ]
    assert undeclared == []


def test_the_walk_sees_the_portal():
    routes = [route for route, _ in _walk(get_resolver().url_patterns)]
    assert "documents/" in routes and len(routes) > 10

"""Catalogue de services (wave2.md §1.4) and Services synchronisés (portal.md §5.5), for the
current profile: one's own or a represented person's (the profile switcher). The pairing itself
starts at the service (its `pairing_url`) and goes through mes.catalogue.pairing."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.catalogue.actions import citizen as actions
from mes.catalogue.models import Service
from mes.lib.errors import InvalidInput
from mes.web.access import public_view

from ..access import PortalRequest, patient_view
from .forms import CatalogueFilterForm, ReportForm


@require_http_methods(["GET"])
@patient_view
def catalogue(request: PortalRequest) -> HttpResponse:
    """The referenced services, filtered by thématique and data exchanged, and searched."""
    form = CatalogueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entries = actions.catalogue_search(
        actor=request.actor,
        patient_id=request.profile.pk,
        category=filters.get("thematique", ""),
        data=filters.get("donnees", ""),
        query=filters.get("q", ""),
    )
    return render(
        request,
        "portal/catalogue/catalogue.html",
        {"form": form, "entries": entries, "filtered": bool(filters and any(filters.values()))},
    )


@require_http_methods(["GET"])
@patient_view
def service(request: PortalRequest, slug: str) -> HttpResponse:
    page = actions.service_page(actor=request.actor, patient_id=request.profile.pk, slug=slug)
    return render(request, "portal/catalogue/service.html", {"page": page})


@require_http_methods(["GET", "POST"])
@patient_view
def report(request: PortalRequest, slug: str) -> HttpResponse:
    """« Signaler ce service »: a reason and a comment; once a day per account and service."""
    page = actions.service_page(actor=request.actor, patient_id=request.profile.pk, slug=slug)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.service_report(
                actor=request.actor,
                slug=slug,
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(
                request,
                f"Merci : votre signalement de {page.service.name} a été transmis à l'équipe du "
                "catalogue de services.",
            )
            return redirect("portal:catalogue_service", slug=slug)
    return render(request, "portal/catalogue/report.html", {"page": page, "form": form})


LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
# A logo is an image and nothing else: no script, no style from elsewhere, even opened alone.
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@require_http_methods(["GET"])
@public_view
def logo(request: HttpRequest, slug: str) -> HttpResponse:
    """A service's logo, self-hosted (never hot-linked from the editor)."""
    found = Service.objects.filter(slug=slug).exclude(logo="").first()
    if found is None:
        raise Http404("Introuvable.")
    content_type = LOGO_TYPES.get(PurePosixPath(found.logo.name or "").suffix.lower())
    if content_type is None:
        raise Http404("Introuvable.")
    try:
        with found.logo.open("rb") as handle:
            data = handle.read()
    except OSError as error:
        raise Http404("Introuvable.") from error
    response = HttpResponse(data, content_type=content_type)
    response["Content-Security-Policy"] = LOGO_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_http_methods(["GET"])
@patient_view
def synced(request: PortalRequest) -> HttpResponse:
    """« Services synchronisés » of the current profile."""
    overview = actions.synced_services(actor=request.actor, patient_id=request.profile.pk)
    return render(request, "portal/catalogue/synced.html", {"overview": overview})


def _codes(request: PortalRequest) -> list[str]:
    return [c for c in request.POST.getlist("finalites") if c][:50]


@require_POST
@patient_view
def consents(request: PortalRequest, pairing_id: uuid.UUID) -> HttpResponse:
    """The purposes kept for a synchronised service."""
    try:
        pairing = actions.pairing_consents_set(
            actor=request.actor, pairing_id=pairing_id, purpose_codes=_codes(request)
        )
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Les autorisations accordées à {pairing.service.name} sont enregistrées."
        )
    return redirect("portal:catalogue_synced")


@require_POST
@patient_view
def reapprove(request: PortalRequest, pairing_id: uuid.UUID) -> HttpResponse:
    """« Mise à jour de mes autorisations » before the deadline."""
    try:
        pairing = actions.pairing_reapprove(
            actor=request.actor, pairing_id=pairing_id, purpose_codes=_codes(request)
        )
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Les autorisations de {pairing.service.name} sont à jour : la synchronisation "
            "continue.",
        )
    return redirect("portal:catalogue_synced")


@require_http_methods(["GET", "POST"])
@patient_view
def unpair(request: PortalRequest, pairing_id: uuid.UUID) -> HttpResponse:
    """« Désynchroniser <service> », after a confirmation."""
    if request.method == "POST":
        # Decided (and a refusal traced) by the action itself.
        pairing = actions.pairing_unpair(actor=request.actor, pairing_id=pairing_id)
        messages.success(
            request,
            f"{pairing.service.name} est désynchronisé : il ne peut plus échanger de données "
            "avec Mon espace santé.",
        )
        return redirect("portal:catalogue_synced")
    overview = actions.synced_services(actor=request.actor, patient_id=request.profile.pk)
    view = next((v for v in overview.views if v.pairing.pk == pairing_id), None)
    if view is None or not overview.may_manage:
        raise Http404("Introuvable.")
    return render(request, "portal/catalogue/unpair.html", {"view": view})

"""Mes professionnels de santé: the directory search, the list, the removal."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from mes.access.actions import treating_declaration
from mes.audit.models import TraceAction
from mes.lib.errors import InvalidInput
from mes.medical_profile import actions, directory, policies, rubrics
from mes.medical_profile.actions import ROLE_PROFESSIONS
from mes.medical_profile.models import ProfileProfessional

from ...access import PortalRequest, patient_view
from ..forms import ProfessionalSearchForm, StructureSearchForm
from .common import show_entry_profile


def _professionals_post(request: PortalRequest) -> HttpResponse:
    op = request.POST.get("op", "")
    try:
        if op == "add":
            actions.profile_professional_add(
                actor=request.actor,
                patient_id=request.profile.pk,
                professional_id=_uuid(request.POST.get("professional")),
                organisation_id=_int(request.POST.get("organisation")),
            )
            messages.success(request, "Professionnel de santé ajouté")
        elif op == "role":
            entry = actions.profile_professional_set_role(
                actor=request.actor,
                entry_id=_uuid_or_404(request.POST.get("entry")),
                role=request.POST.get("role", ""),
            )
            messages.success(
                request,
                f"Rôle de {entry.get_role_display().lower()} attribué"
                if entry.role
                else "Rôle retiré",
            )
        else:
            raise Http404("Introuvable.")
    except InvalidInput as exc:
        messages.error(request, str(exc))
    return redirect("portal:profile_professionals")


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        return None


def _uuid_or_404(raw: str | None) -> uuid.UUID:
    value = _uuid(raw)
    if value is None:
        raise Http404("Introuvable.")
    return value


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@patient_view
def professionals(request: PortalRequest) -> HttpResponse:
    """« Mes professionnels de santé »: the list, the médecin traitant, roles and the directory
    search (portal.md §2.13)."""
    if request.method == "POST":
        return _professionals_post(request)
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.PROFESSIONALS
    )
    search = ProfessionalSearchForm(request.GET if "nom" in request.GET else None)
    structures = StructureSearchForm(request.GET if "etablissement" in request.GET else None)
    entries = list(
        ProfileProfessional.objects.filter(patient=patient).select_related(
            "professional__organisation", "organisation"
        )
    )
    return render(
        request,
        "portal/profile/professionals.html",
        {
            "entries": entries,
            "treating": directory.treating_physician(patient),
            "treating_row": treating_declaration(patient),
            "search": search,
            "structures": structures,
            "found": _found_professionals(search),
            "found_structures": _found_structures(structures),
            "present": {e.professional_id for e in entries} | {e.organisation_id for e in entries},
            "role_professions": {str(r): p for r, p in ROLE_PROFESSIONS.items()},
        },
    )


def _found_professionals(form: ProfessionalSearchForm) -> list[Any] | None:
    if not form.is_bound or not form.is_valid():
        return None
    d = form.cleaned_data
    return directory.search_professionals(
        name=d["nom"], city=d["commune"], profession=d["profession"]
    )


def _found_structures(form: StructureSearchForm) -> list[Any] | None:
    if not form.is_bound or not form.is_valid():
        return None
    d = form.cleaned_data
    return directory.search_organisations(name=d["etablissement"], city=d["ville"], kind=d["type"])


@patient_view
def professional_delete(request: PortalRequest, entry_id: uuid.UUID) -> HttpResponse:
    """« Supprimer le professionnel de santé » of the list, after confirmation."""
    if request.method == "POST":
        actions.profile_professional_remove(actor=request.actor, entry_id=entry_id)
        messages.success(request, "Professionnel de santé supprimé de la liste")
        return redirect("portal:profile_professionals")
    entry = policies.access_entry(
        request.actor,
        ProfileProfessional,
        entry_id,
        write=True,
        label=rubrics.PROFESSIONALS,
        trace_action=TraceAction.CONSULT_PROFILE,
    )
    show_entry_profile(request, entry)
    return render(request, "portal/profile/professional_delete.html", {"entry": entry})

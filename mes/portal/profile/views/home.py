"""The profil médical's home and the identity card (portal.md §2)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from mes.medical_profile import policies, rubrics
from mes.medical_profile.overview import overview

from ...access import PortalRequest, patient_view
from .common import first_name


@patient_view
def profile(request: PortalRequest) -> HttpResponse:
    """Profil médical: every rubric with what it holds (portal.md §2.1)."""
    patient = policies.access_profile(request.actor, request.profile.pk, write=False)
    return render(
        request,
        "portal/profile/home.html",
        {
            "overview": overview(patient),
            "adult": not patient.is_minor(),
            "prenom": first_name(patient),
        },
    )


@patient_view
def identity(request: PortalRequest) -> HttpResponse:
    """« Ma carte d'identité santé »: the INS and its traits, read only (portal.md §1.2)."""
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.IDENTITY
    )
    return render(request, "portal/profile/identity.html", {"patient": patient})

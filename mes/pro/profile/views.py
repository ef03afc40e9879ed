"""Web PS, read only: « Entourage et volontés » (contacts, personne de confiance, directives
anticipées) and the Vaccinations, the parts of the profil médical a professional may reach
(DESIGN.md §4)."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from mes.medical_profile.directives import TYPE_CODE as DIRECTIVES_TYPE
from mes.medical_profile.policies import entourage_visible_to
from mes.records.models import Document
from mes.records.policies import documents_visible_to
from mes.vaccinations.policies import vaccinations_visible_to

from ..access import ProRequest, professional_view
from ..rendering import patient_of, render_pro


@require_http_methods(["GET"])
@professional_view
def entourage(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The contacts (CONSULT_RUBRIQUE_ENTOURAGE trace) and the directives anticipées documents
    this professional may read (the matrix applies: a chirurgien-dentiste does not see them)."""
    contacts = list(entourage_visible_to(request.actor, patient_id))
    person = patient_of(request, patient_id)
    directives = documents_visible_to(request.actor, person).filter(
        type_code=DIRECTIVES_TYPE, status=Document.Status.CURRENT
    )
    return render_pro(
        request,
        "pro/profile/entourage.html",
        {"contacts": contacts, "directives": list(directives.order_by("-service_date"))},
        patient=person,
    )


@require_http_methods(["GET"])
@professional_view
def vaccinations(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The carnet de vaccination (CONSULT_RUBRIQUE_VACCINATIONS trace), when the dossier is open
    to this professional and the matrix lets their profession read vaccinations."""
    entries = list(vaccinations_visible_to(request.actor, patient_id))
    person = patient_of(request, patient_id)
    return render_pro(
        request, "pro/profile/vaccinations.html", {"vaccinations": entries}, patient=person
    )

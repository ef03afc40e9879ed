"""Vaccinations (« Carnet de vaccination », portal.md §2.11): the carnet, adding, one
vaccination and its actions, the synthesis PDF.

Each view resolves through one policy or action of mes.vaccinations; refusals raise NotFound and
so look exactly like a vaccination that does not exist.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from mes.access.decision import Action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.vaccinations import actions
from mes.vaccinations.carnet import carnet_of, period_text, professionals_of, status_text
from mes.vaccinations.models import Vaccination
from mes.vaccinations.policies import access_vaccination, access_vaccinations
from mes.web.downloads import attachment_response

from ..access import PROFILE_SESSION_KEY, PortalRequest, patient_view, profiles_of
from .forms import LEVELS, VaccinationForm

FILE_NAME_MAX = 60


def _show(request: PortalRequest, patient: Citizen) -> None:
    """Show this profile (a link from a notification about a child, or to a child's entry).

    The caller made sure the citizen is the patient or one of their represented persons.
    """
    if patient.pk != request.profile.pk:
        request.profile = patient
        request.is_own_profile = patient.pk == request.citizen.pk
        request.session[PROFILE_SESSION_KEY] = str(patient.pk)


def _asked_profile(request: PortalRequest) -> None:
    """« ?profil=<id> » (links in notifications) selects one of the citizen's own profiles."""
    raw = request.GET.get("profil")
    if not raw:
        return
    try:
        wanted = uuid.UUID(raw)
    except ValueError:
        return
    for p in profiles_of(request.citizen):
        if p.pk == wanted:
            _show(request, p)


def _first_name(patient: Citizen) -> str:
    return patient.used_first_name or patient.first_name


@patient_view
def vaccination_list(request: PortalRequest) -> HttpResponse:
    """The carnet: vaccinations done, and those the calendar says are due."""
    _asked_profile(request)
    level = request.GET.get("niveau", "")
    if level not in dict(LEVELS):
        level = ""
    carnet = carnet_of(actor=request.actor, patient_id=request.profile.pk)
    due = [(item, status_text(item)) for item in carnet.due(level=level)]
    later = [(item, period_text(item)) for item in carnet.later(level=level)]
    return render(
        request,
        "portal/vaccinations/list.html",
        {
            "carnet": carnet,
            "levels": LEVELS,
            "level": level,
            "done": carnet.done(level=level),
            "due": due,
            "later": later,
            "first_name": _first_name(carnet.patient),
            "sources": sorted(
                {(s.key, s.label) for item, _ in due for s in item.sources},
                key=lambda s: int(s[0].split(":")[1]),
            ),
        },
    )


def _form_page(
    request: PortalRequest, form: VaccinationForm, vaccination: Vaccination | None = None
) -> HttpResponse:
    return render(
        request,
        "portal/vaccinations/form.html",
        {"form": form, "vaccination": vaccination, "first_name": _first_name(request.profile)},
    )


@patient_view
def vaccination_add(request: PortalRequest) -> HttpResponse:
    """« Ajouter une vaccination »: nothing is stored unless every check passes."""
    patient, _ = access_vaccinations(
        request.actor, request.profile.pk, action=Action.MANAGE, trace_action=None
    )
    professionals = professionals_of(patient)
    if request.method != "POST":
        return _form_page(request, VaccinationForm(professionals=professionals))
    form = VaccinationForm(request.POST, professionals=professionals)
    if form.is_valid():
        try:
            vaccination = actions.vaccination_add(
                actor=request.actor, patient_id=patient.pk, **form.action_kwargs()
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, "Vaccination ajoutée")
            return redirect("portal:vaccination", vaccination.pk)
    return _form_page(request, form)


@patient_view
def vaccination_detail(request: PortalRequest, vaccination_id: uuid.UUID) -> HttpResponse:
    """One vaccination: its details, who added it, and the actions the citizen side may take."""
    vaccination = access_vaccination(
        request.actor,
        vaccination_id,
        action=Action.READ,
        trace_action=TraceAction.CONSULT_VACCINATIONS,
    )
    _show(request, vaccination.patient)
    return render(
        request,
        "portal/vaccinations/detail.html",
        {"v": vaccination, "first_name": _first_name(vaccination.patient)},
    )


@patient_view
def vaccination_edit(request: PortalRequest, vaccination_id: uuid.UUID) -> HttpResponse:
    """« Modifier »: only what the citizen side recorded; a professional's entry says why not."""
    posted = request.method == "POST"
    vaccination = access_vaccination(
        request.actor,
        vaccination_id,
        action=Action.MANAGE,
        trace_action=None if posted else TraceAction.CONSULT_VACCINATIONS,
        refused_as=TraceAction.UPDATE_VACCINATION if posted else None,
    )
    _show(request, vaccination.patient)
    professionals = professionals_of(vaccination.patient)
    if not posted:
        if vaccination.read_only:
            messages.error(request, actions.READ_ONLY_EDIT)
            return redirect("portal:vaccination", vaccination.pk)
        initial = VaccinationForm.initial_for(vaccination)
        return _form_page(
            request, VaccinationForm(initial=initial, professionals=professionals), vaccination
        )
    form = VaccinationForm(request.POST, professionals=professionals)
    if form.is_valid():
        try:
            actions.vaccination_update(
                actor=request.actor, vaccination_id=vaccination.pk, **form.action_kwargs()
            )
        except InvalidInput as exc:
            if vaccination.read_only:
                messages.error(request, str(exc))
                return redirect("portal:vaccination", vaccination.pk)
            form.add_input_error(exc)
        else:
            messages.success(request, "Vaccination modifiée")
            return redirect("portal:vaccination", vaccination.pk)
    return _form_page(request, form, vaccination)


@require_POST
@patient_view
def vaccination_delete(request: PortalRequest, vaccination_id: uuid.UUID) -> HttpResponse:
    """« Supprimer » (confirmed on the detail page); a professional's entry is refused."""
    try:
        actions.vaccination_delete(actor=request.actor, vaccination_id=vaccination_id)
    except InvalidInput as exc:
        messages.error(request, str(exc))
        return redirect("portal:vaccination", vaccination_id)
    messages.success(request, "Vaccination supprimée")
    return redirect("portal:vaccinations")


@patient_view
def vaccination_synthesis(request: PortalRequest) -> HttpResponse:
    """« Télécharger la synthèse de mes vaccinations »: a PDF, always as an attachment."""
    patient, content = actions.vaccination_synthesis(
        actor=request.actor, patient_id=request.profile.pk
    )
    stem = slugify(f"synthese vaccinations {patient.display_name}")[:FILE_NAME_MAX].strip("-")
    return attachment_response(content, content_type="application/pdf", filename=f"{stem}.pdf")

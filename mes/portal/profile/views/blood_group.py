"""Groupe sanguin."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mes.lib.errors import InvalidInput
from mes.medical_profile import actions, policies, rubrics
from mes.medical_profile.models import BloodGroup

from ...access import PortalRequest, patient_view
from ..forms import BloodGroupForm


@patient_view
def blood_group(request: PortalRequest) -> HttpResponse:
    """Groupe sanguin: one value; a value a professional set is shown, not changed (§2.7)."""
    form = BloodGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.blood_group_set(
                actor=request.actor,
                patient_id=request.profile.pk,
                value=form.cleaned_data["value"],
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, "Groupe sanguin enregistré")
            return redirect("portal:profile_blood_group")
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.BLOOD_GROUP
    )
    current = BloodGroup.objects.filter(patient=patient).first()
    if current is not None and not form.is_bound:
        form = BloodGroupForm(initial={"value": current.value})
    return render(request, "portal/profile/blood_group.html", {"form": form, "current": current})


@require_POST
@patient_view
def blood_group_delete(request: PortalRequest) -> HttpResponse:
    try:
        actions.blood_group_delete(actor=request.actor, patient_id=request.profile.pk)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Groupe sanguin supprimé")
    return redirect("portal:profile_blood_group")

"""Don d'organes: the acknowledgement of the information."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from mes.medical_profile import actions, policies, rubrics
from mes.medical_profile.models import OrganDonationAcknowledgement

from ...access import PortalRequest, patient_view
from ..forms import OrganDonationForm
from .common import first_name


@patient_view
def organ_donation(request: PortalRequest) -> HttpResponse:
    """Don d'organes: the information and the one checkbox, dated and traced (§2.15)."""
    if request.method == "POST":
        form = OrganDonationForm(request.POST)
        form.is_valid()
        ack = actions.organ_donation_set(
            actor=request.actor,
            patient_id=request.profile.pk,
            acknowledged=bool(form.cleaned_data.get("acknowledged")),
        )
        messages.success(request, "Déclaration enregistrée" if ack else "Déclaration retirée")
        return redirect("portal:profile_organ_donation")
    patient = policies.access_profile(
        request.actor, request.profile.pk, write=False, label=rubrics.ORGAN_DONATION
    )
    current = OrganDonationAcknowledgement.objects.filter(patient=patient).first()
    form = OrganDonationForm(initial={"acknowledged": current is not None})
    if not request.is_own_profile:
        form.fields["acknowledged"].label = (
            "Je déclare avoir pris connaissance des dispositions réglementaires relatives au "
            f"don d'organes et de tissus, pour {first_name(patient)}."
        )
    return render(
        request,
        "portal/profile/organ_donation.html",
        {"form": form, "current": current, "prenom": first_name(patient)},
    )

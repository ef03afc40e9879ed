"""Directives anticipées and the synthèse du profil médical (portal.md §4, §2.17).

Both are documents of the dossier: each view resolves the actor and calls one action of
mes.medical_profile.directives or .synthesis, which check the access and trace it.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from mes.access.models import PrivacySettings
from mes.lib.codes import UnknownCode
from mes.lib.errors import InvalidInput
from mes.medical_profile import directives as da
from mes.medical_profile import synthesis
from mes.medical_profile.directives import DirectivesModel
from mes.medical_profile.policies import entourage_visible_to
from mes.web.downloads import attachment_response

from ..access import PortalRequest, patient_view
from .forms import (
    DOWNLOAD,
    SAVE_VISIBLE,
    DirectivesUploadForm,
    DirectivesWriteForm,
    SynthesisForm,
)

MODELS = {"a": DirectivesModel.A, "b": DirectivesModel.B}


def _refusal(request: PortalRequest) -> str:
    return da.refusal_reason(actor=request.actor, patient=request.profile)


def _masked_by_default(request: PortalRequest) -> bool:
    privacy = PrivacySettings.objects.filter(patient=request.profile).first()
    return bool(privacy and privacy.mask_new_documents)


# --- directives anticipées ------------------------------------------------------------------


@patient_view
def directives(request: PortalRequest) -> HttpResponse:
    """« Directives anticipées »: what they are, the current ones, and how to add them."""
    current = da.directives_current(actor=request.actor, patient_id=request.profile.pk)
    return render(
        request,
        "portal/directives/index.html",
        {
            "current": current,
            "refusal": _refusal(request),
            "is_minor": request.profile.age_on(timezone.localdate()) < da.MAJORITY_AGE,
            "masked_by_default": _masked_by_default(request),
            "models": [(key, m, da.MODEL_LABELS[m]) for key, m in MODELS.items()],
        },
    )


@patient_view
def directives_upload(request: PortalRequest) -> HttpResponse:
    """« Déposer mes directives signées »: a PDF or a photo of the signed document."""
    current = da.directives_current(actor=request.actor, patient_id=request.profile.pk)
    if _refusal(request):
        return redirect("portal:directives")
    if request.method == "POST":
        form = DirectivesUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                doc = da.directives_upload(
                    actor=request.actor,
                    patient_id=request.profile.pk,
                    content=form.cleaned_data["file"].read(),
                    service_date=form.cleaned_data["service_date"],
                )
            except (InvalidInput, UnknownCode) as exc:
                form.add_input_error(exc)
            else:
                messages.success(request, "Directives anticipées enregistrées")
                return redirect("portal:document", doc.pk)
    else:
        form = DirectivesUploadForm()
    return render(request, "portal/directives/upload.html", {"form": form, "current": current})


@patient_view
def directives_write(request: PortalRequest, model: str) -> HttpResponse:
    """« Rédiger mes directives en ligne »: the official model A or B, then the PDF is kept."""
    chosen = MODELS.get(model)
    if chosen is None:
        raise Http404("Introuvable.")
    current = da.directives_current(actor=request.actor, patient_id=request.profile.pk)
    if _refusal(request):
        return redirect("portal:directives")
    if request.method == "POST":
        form = DirectivesWriteForm(request.POST, model=chosen)
        if form.is_valid():
            try:
                da.directives_write(
                    actor=request.actor, patient_id=request.profile.pk, data=form.to_input()
                )
            except InvalidInput as exc:
                form.add_input_error(exc)
            else:
                messages.success(request, "Directives anticipées enregistrées")
                return redirect("portal:directives")
    else:
        trusted = entourage_visible_to(request.actor, request.profile.pk).filter(is_trusted=True)
        person = trusted.first()
        form = DirectivesWriteForm(
            model=chosen, initial={"trusted_person": person.display_name if person else ""}
        )
    return render(
        request,
        "portal/directives/write.html",
        {
            "form": form,
            "model": chosen,
            "model_label": da.MODEL_LABELS[chosen],
            "current": current,
            "today": timezone.localdate(),
        },
    )


# --- synthèse du profil médical -------------------------------------------------------------


def _synthesis_page(request: PortalRequest, form: SynthesisForm, status: int = 200) -> HttpResponse:
    current = synthesis.synthesis_current(actor=request.actor, patient_id=request.profile.pk)
    return render(
        request,
        "portal/synthesis/index.html",
        {"form": form, "current": current, "masked_by_default": _masked_by_default(request)},
        status=status,
    )


def _download(request: PortalRequest, form: SynthesisForm) -> HttpResponse:
    content = synthesis.synthesis_pdf(
        actor=request.actor, patient_id=request.profile.pk, sections=form.chosen
    )
    day = timezone.localdate()
    return attachment_response(
        content,
        content_type="application/pdf",
        filename=f"synthese-profil-medical-{day:%Y-%m-%d}.pdf",
    )


@patient_view
def synthesis_view(request: PortalRequest) -> HttpResponse:
    """« Synthèse du profil médical »: tick the sections, download the PDF or save it."""
    if request.method != "POST":
        return _synthesis_page(request, SynthesisForm())
    form = SynthesisForm(request.POST)
    if not form.is_valid():
        # A refusal must still be a 404, whatever was posted.
        synthesis.synthesis_current(actor=request.actor, patient_id=request.profile.pk)
        return _synthesis_page(request, form)
    action = form.cleaned_data["action"]
    if action == DOWNLOAD:
        return _download(request, form)
    masked = False if action == SAVE_VISIBLE else None
    synthesis.synthesis_save(
        actor=request.actor, patient_id=request.profile.pk, sections=form.chosen, masked=masked
    )
    messages.success(request, "Synthèse enregistrée dans les documents de santé")
    return redirect("portal:synthesis")

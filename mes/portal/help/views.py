"""Aide (questions fréquentes), Nous contacter, and the legal pages (portal.md §10, §11.1)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from mes.backoffice.actions import support_request_send
from mes.backoffice.models import SupportRequest
from mes.lib.errors import InvalidInput
from mes.web.access import View

from ..access import PortalRequest, citizen_optional_view, patient_view, profiles_of
from .faq import FAQ
from .forms import ContactForm


def _legal_context() -> dict[str, str]:
    return {
        "publisher": settings.MES_PUBLISHER_NAME,
        "publisher_address": settings.MES_PUBLISHER_ADDRESS,
        "director": settings.MES_PUBLICATION_DIRECTOR,
        "host": settings.MES_HOST_NAME,
        "dpo": settings.MES_DPO_CONTACT,
        "support_phone": settings.MES_SUPPORT_PHONE,
        "accessibility": settings.MES_ACCESSIBILITY_STATUS,
        "retention_days": str(settings.MES_SUPPORT_RETENTION_DAYS),
    }


@require_GET
@citizen_optional_view
def help_home(request: HttpRequest) -> HttpResponse:
    """« Bonjour, en quoi pouvons-nous vous aider ? »: the FAQ by theme, then how to reach us."""
    return render(request, "portal/help/index.html", {"faq": FAQ, **_legal_context()})


@require_http_methods(["GET", "POST"])
@citizen_optional_view
def contact(request: HttpRequest) -> HttpResponse:
    """« Nous contacter »: logged in, a request about one profile; otherwise, how to call."""
    citizen = getattr(request, "citizen", None)
    if citizen is None:
        return render(request, "portal/help/contact_anonymous.html", _legal_context())
    return _contact_form(request)


@patient_view
def _contact_form(request: PortalRequest) -> HttpResponse:
    profiles = profiles_of(request.citizen)
    form = ContactForm(
        request.POST or None, profiles=profiles, initial={"profile": str(request.profile.pk)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            sent = support_request_send(
                actor=request.actor,
                requester=request.citizen,
                patient_id=uuid.UUID(form.cleaned_data["profile"]),
                reason=form.cleaned_data["reason"],
                message=form.cleaned_data["message"],
                agents_may_access_profile=form.cleaned_data["agents_may_access_profile"],
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(
                request,
                f"Votre demande {sent.reference} a été envoyée au support. Vous recevrez une "
                "réponse dans votre espace.",
            )
            return redirect("portal:contact")
    sent_requests = SupportRequest.objects.filter(requester=request.citizen)[:10]
    return render(
        request,
        "portal/help/contact.html",
        {"form": form, "sent_requests": sent_requests, **_legal_context()},
    )


def _legal(template: str) -> View:
    @require_GET
    @citizen_optional_view
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, f"portal/help/{template}.html", _legal_context())

    view.__name__ = view.__qualname__ = template
    return view


accessibility = _legal("accessibility")
legal_notice = _legal("legal_notice")
terms = _legal("terms")
privacy = _legal("privacy")

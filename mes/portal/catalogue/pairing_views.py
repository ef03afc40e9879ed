"""The pairing consent (portal.md §5.5; mes-spec §8.1: « prior consent of the holder always
collected »): the page a catalogue service's OAuth authorization request leads to.

The service sends the citizen to /o/authorize/ (one endpoint for every client:
mes.fhir.auth.oauth.authorize dispatches here for a service's client). The citizen signs in through
the portal's own login (password then one-time code, or a passkey), picks the espace (their own
or a child's they represent), reads what each purpose does and consents purpose by purpose (at
least one). The pairing is then created (mes.catalogue.pairing) and the authorization code,
bound to it, goes back to the service. Refusing sends the service `access_denied`.

The OAuth parameters stay in the query string of this URL (the form posts back to it) and are
validated again by django-oauth-toolkit on POST: nothing the page carries can widen them.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.generic.base import TemplateResponseMixin
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.views.base import BaseAuthorizationView

from mes.access.actors import citizen_actor
from mes.audit.guard import RefusedForbidden
from mes.catalogue.models import Pairing, Purpose, Service
from mes.catalogue.oauth import PAIRING_CREDENTIAL, service_of_client_id
from mes.catalogue.pairing import pairing_create, pairing_espaces, profile_pairings
from mes.catalogue.pairing import profile_send as pairing_profile_send
from mes.catalogue.policies import service_exchanges
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.medical_profile.synthesis import ALL_SECTIONS, SECTION_LABELS, Section, synthesis_current
from mes.portal.access import PortalRequest, patient_view
from mes.web.forms import BootstrapFormMixin
from mes.web.middleware import CSP

TEMPLATES = "portal/catalogue/pairing/"


class PurposeChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)


class PairingConsentForm(BootstrapFormMixin, forms.Form):
    espace = forms.ChoiceField(
        label="Profil à synchroniser",
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le profil à synchroniser avec ce service."},
    )
    purposes = PurposeChoice(
        label="Ce que vous autorisez",
        queryset=Purpose.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Cochez au moins une finalité pour synchroniser ce service.",
            "invalid_choice": "Cette finalité n'est pas proposée par ce service.",
        },
    )

    def __init__(self, *args: Any, service: Service, espaces: list[Citizen], **kwargs: Any):
        super().__init__(*args, **kwargs)
        purposes = self.fields["purposes"]
        assert isinstance(purposes, forms.ModelMultipleChoiceField)
        purposes.queryset = service.purposes.all()
        owner = espaces[0]
        espace = self.fields["espace"]
        assert isinstance(espace, forms.ChoiceField)
        espace.choices = [
            (str(e.pk), f"{e.display_name}{' (moi)' if e.pk == owner.pk else ''}") for e in espaces
        ]
        if len(espaces) == 1:
            self.fields["espace"].initial = str(owner.pk)


def _purposes_described(service: Service, checked: set[str]) -> list[dict[str, Any]]:
    """Each purpose with what it reads and writes, in plain French."""
    out = []
    for purpose in service.purposes.prefetch_related("exchanges"):
        exchanges = [
            {
                "verb": "Lire" if e.action == "lecture" else "Ajouter",
                "category": e.get_category_display().lower(),
                "details": e.details,
            }
            for e in purpose.exchanges.all()
        ]
        out.append(
            {"purpose": purpose, "exchanges": exchanges, "checked": str(purpose.pk) in checked}
        )
    return out


class PairingAuthorizationView(TemplateResponseMixin, BaseAuthorizationView):
    """/o/authorize/ for a catalogue service's client: the citizen's consent, purpose by
    purpose."""

    login_url = reverse_lazy("portal:login")
    # django-oauth-toolkit renders its errors (an unregistered redirect URI, an unknown
    # client: nothing may be sent back to the service) with this template.
    template_name = TEMPLATES + "error.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated and getattr(user, "citizen", None) is None:
            return render(request, TEMPLATES + "citizen_only.html", status=403)
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    # --- the steps ---------------------------------------------------------------------------

    def _validated(self, request: HttpRequest) -> tuple[list[str], dict[str, Any], Service]:
        scopes, credentials = self.validate_authorization_request(request)
        credentials.pop("request", None)
        service = service_of_client_id(credentials["client_id"])
        assert service is not None  # mes.fhir.auth.oauth.authorize dispatched here for a service
        return scopes, credentials, service

    def _page(
        self,
        request: HttpRequest,
        service: Service,
        form: PairingConsentForm,
        redirect_uri: str,
        status: int = 200,
    ) -> HttpResponse:
        response = render(
            request,
            TEMPLATES + "consent.html",
            {
                "service": service,
                "form": form,
                "purposes": _purposes_described(
                    service, {str(v) for v in (form["purposes"].value() or [])}
                ),
            },
            status=status,
        )
        # The form's answer redirects to the service (its registered, validated redirect URI):
        # the browser applies `form-action` to that redirect too, so its origin is allowed.
        target = urlsplit(redirect_uri)
        response["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", f"form-action 'self' {target.scheme}://{target.netloc}"
        )
        return response

    def _unavailable(self, request: HttpRequest, service: Service, message: str) -> HttpResponse:
        return render(
            request,
            TEMPLATES + "unavailable.html",
            {"service": service, "message": message},
            status=403,
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            _scopes, credentials, service = self._validated(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        if not service_exchanges(service):
            return self._unavailable(
                request,
                service,
                f"Le service « {service.name} » est {service.get_status_display().lower()} : "
                "il ne peut pas être synchronisé avec votre profil pour le moment.",
            )
        citizen: Citizen = request.user.citizen  # type: ignore[union-attr]
        form = PairingConsentForm(service=service, espaces=pairing_espaces(citizen))
        return self._page(request, service, form, credentials["redirect_uri"])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            scopes, credentials, service = self._validated(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = service.application
        if request.POST.get("decision") != "allow":
            try:
                self.create_authorization_response(
                    request=request, scopes=" ".join(scopes), credentials=credentials, allow=False
                )
            except OAuthToolkitError as error:
                return self.error_response(error, application)
        citizen: Citizen = request.user.citizen  # type: ignore[union-attr]
        espaces = pairing_espaces(citizen)
        form = PairingConsentForm(request.POST, service=service, espaces=espaces)
        if not form.is_valid():
            return self._page(request, service, form, credentials["redirect_uri"], status=400)
        try:
            # The pairing and its code together: a code refused by the OAuth layer leaves no
            # pairing behind.
            with transaction.atomic():
                pairing = pairing_create(
                    actor=citizen_actor(citizen),
                    service=service,
                    patient_id=next(
                        e.pk for e in espaces if str(e.pk) == form.cleaned_data["espace"]
                    ),
                    purpose_ids=[p.pk for p in form.cleaned_data["purposes"]],
                )
                credentials[PAIRING_CREDENTIAL] = str(pairing.pk)
                uri, _headers, _body, _status = self.create_authorization_response(
                    request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
                )
        except RefusedForbidden as refused:
            return self._unavailable(request, service, str(refused))
        except InvalidInput as error:
            form.add_error("purposes", str(error))
            return self._page(request, service, form, credentials["redirect_uri"], status=400)
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)


# --- « Envoyer ma synthèse à un service synchronisé » (issue 11 item 5) ---------------------


class ProfileSendForm(BootstrapFormMixin, forms.Form):
    pairing = forms.ChoiceField(
        label="Service qui recevra la synthèse",
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le service qui recevra la synthèse."},
    )
    sections = forms.MultipleChoiceField(
        label="Rubriques à inclure dans la synthèse",
        choices=[(s.value, SECTION_LABELS[s]) for s in ALL_SECTIONS],
        initial=[s.value for s in ALL_SECTIONS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choisissez au moins une rubrique à inclure dans la synthèse.",
            "invalid_choice": "Rubrique inconnue.",
        },
    )

    def __init__(self, *args: Any, pairings: list[Pairing], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["pairing"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(p.pk), p.service.name) for p in pairings]
        if len(pairings) == 1:
            field.initial = str(pairings[0].pk)


@patient_view
def profile_send(request: PortalRequest) -> HttpResponse:
    """Send the synthèse du profil médical to a paired service whose consented purposes read
    it (mes-spec §8.1). Only the holder or a legal representative (the action decides)."""
    # Refused (traced NotFound) for an actor who does not manage this espace, before anything.
    synthesis_current(actor=request.actor, patient_id=request.profile.pk)
    pairings = profile_pairings(request.profile)
    form = ProfileSendForm(request.POST or None, pairings=pairings)
    if request.method == "POST" and form.is_valid():
        share = pairing_profile_send(
            actor=request.actor,
            pairing_id=uuid.UUID(form.cleaned_data["pairing"]),
            patient_id=request.profile.pk,
            sections=[Section(s) for s in form.cleaned_data["sections"]],
        )
        messages.success(request, f"Synthèse envoyée à {share.pairing.service.name}")
        return redirect("portal:synthesis_send")
    return render(
        request,
        TEMPLATES + "profile_send.html",
        {"form": form, "pairings": pairings},
        status=400 if request.method == "POST" else 200,
    )

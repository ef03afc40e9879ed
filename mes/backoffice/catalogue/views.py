"""The catalogue operators' pages (issue 11): reference services, their purposes and logos,
change their status, publish new rights, read and close the citizens' reports. Every change is an
action of mes.catalogue.actions.operator; no page shows anything of an espace."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.catalogue.actions import operator as actions
from mes.catalogue.actions.shared import exchange_line
from mes.catalogue.models import Pairing, Service
from mes.catalogue.registry import ExchangeSpec
from mes.lib.errors import InvalidInput

from .access import OperatorRequest, catalogue_operator_view
from .forms import EXCHANGE_KEYS, LogoForm, NewServiceForm, PurposeForm, ServiceForm, StatusForm

CARD_FIELDS = ServiceForm.base_fields.keys()


@require_http_methods(["GET"])
@catalogue_operator_view
def services(request: OperatorRequest) -> HttpResponse:
    listed = actions.operator_services(actor=request.actor)
    open_reports = actions.operator_reports(actor=request.actor)
    return render(
        request,
        "backoffice/catalogue/services.html",
        {"services": listed, "open_reports": len(open_reports)},
    )


@require_http_methods(["GET", "POST"])
@catalogue_operator_view
def service_new(request: OperatorRequest) -> HttpResponse:
    form = NewServiceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service = actions.service_create(
                actor=request.actor,
                oid=data["oid"],
                slug=data["slug"],
                redirect_uris=data["redirect_uris"],
                **{k: data[k] for k in CARD_FIELDS},
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            client = service.application.client_id if service.application else ""
            messages.success(
                request,
                f"{service.name} est référencé (hors ligne)."
                + (f" Identifiant client OAuth : {client}." if client else ""),
            )
            return redirect("backoffice_catalogue:service", service_id=service.pk)
    return render(request, "backoffice/catalogue/service_new.html", {"form": form})


def _edit_context(request: OperatorRequest, service: Service, **forms: Any) -> dict[str, Any]:
    initial = {k: getattr(service, k) for k in CARD_FIELDS}
    return {
        "service": service,
        "form": forms.get("form") or ServiceForm(initial=initial),
        "status_form": forms.get("status_form") or StatusForm(initial={"status": service.status}),
        "logo_form": forms.get("logo_form") or LogoForm(),
        "purpose_form": forms.get("purpose_form") or PurposeForm(),
        "purposes": [
            (p, [exchange_line(e) for e in p.exchanges.all()])
            for p in service.purposes.prefetch_related("exchanges")
        ],
        "pending": actions.pending_purposes(service),
        "active_pairings": Pairing.objects.filter(
            service=service, status=Pairing.Status.ACTIVE
        ).count(),
    }


@require_http_methods(["GET", "POST"])
@catalogue_operator_view
def service(request: OperatorRequest, service_id: uuid.UUID) -> HttpResponse:
    """A service's card (GET shows every form; POST saves the card)."""
    found = actions.operator_service(actor=request.actor, service_id=service_id)
    if request.method == "POST":
        form = ServiceForm(request.POST)
        if form.is_valid():
            try:
                actions.service_update(
                    actor=request.actor, service_id=found.pk, **form.cleaned_data
                )
            except InvalidInput as exc:
                form.add_input_error(exc)
            else:
                messages.success(request, "La fiche du service est enregistrée.")
                return redirect("backoffice_catalogue:service", service_id=found.pk)
        return render(
            request, "backoffice/catalogue/service.html", _edit_context(request, found, form=form)
        )
    return render(request, "backoffice/catalogue/service.html", _edit_context(request, found))


@require_POST
@catalogue_operator_view
def service_status(request: OperatorRequest, service_id: uuid.UUID) -> HttpResponse:
    form = StatusForm(request.POST)
    if form.is_valid():
        changed = actions.service_status_set(
            actor=request.actor, service_id=service_id, status=form.cleaned_data["status"]
        )
        messages.success(
            request,
            f"Statut de {changed.name} : {changed.get_status_display()} depuis le "
            f"{changed.status_changed_at:%d/%m/%Y}.",
        )
    else:
        messages.error(request, "Choisissez un statut.")
    return redirect("backoffice_catalogue:service", service_id=service_id)


@require_POST
@catalogue_operator_view
def service_logo(request: OperatorRequest, service_id: uuid.UUID) -> HttpResponse:
    form = LogoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            actions.service_logo_set(
                actor=request.actor, service_id=service_id, upload=form.cleaned_data["logo"]
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, "Le logo est enregistré.")
            return redirect("backoffice_catalogue:service", service_id=service_id)
    found = actions.operator_service(actor=request.actor, service_id=service_id)
    return render(
        request,
        "backoffice/catalogue/service.html",
        _edit_context(request, found, logo_form=form),
        status=400,
    )


@require_POST
@catalogue_operator_view
def purpose_save(request: OperatorRequest, service_id: uuid.UUID) -> HttpResponse:
    form = PurposeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        exchanges = [
            ExchangeSpec(c, a, data[f"d_{c}_{a}"]) for c, a in EXCHANGE_KEYS if data[f"x_{c}_{a}"]
        ]
        try:
            actions.purpose_save(
                actor=request.actor,
                service_id=service_id,
                code=data["code"],
                label=data["label"],
                description=data["description"],
                exchanges=exchanges,
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, f"La finalité {data['code']} est enregistrée.")
            return redirect("backoffice_catalogue:service", service_id=service_id)
    found = actions.operator_service(actor=request.actor, service_id=service_id)
    return render(
        request,
        "backoffice/catalogue/service.html",
        _edit_context(request, found, purpose_form=form),
        status=400,
    )


@require_POST
@catalogue_operator_view
def purpose_delete(request: OperatorRequest, service_id: uuid.UUID, code: str) -> HttpResponse:
    try:
        actions.purpose_delete(actor=request.actor, service_id=service_id, code=code)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"La finalité {code} est retirée.")
    return redirect("backoffice_catalogue:service", service_id=service_id)


@require_POST
@catalogue_operator_view
def publish_rights(request: OperatorRequest, service_id: uuid.UUID) -> HttpResponse:
    try:
        published = actions.service_publish_rights(actor=request.actor, service_id=service_id)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Nouveaux droits publiés (version {published.service.rights_version}) : "
            f"{published.pairings} synchronisation(s) à approuver avant le "
            f"{published.deadline:%d/%m/%Y}.",
        )
    return redirect("backoffice_catalogue:service", service_id=service_id)


@require_http_methods(["GET"])
@catalogue_operator_view
def reports(request: OperatorRequest) -> HttpResponse:
    show_all = request.GET.get("tous") == "1"
    listed = actions.operator_reports(actor=request.actor, open_only=not show_all)
    return render(
        request, "backoffice/catalogue/reports.html", {"reports": listed, "show_all": show_all}
    )


@require_POST
@catalogue_operator_view
def report_close(request: OperatorRequest, report_id: int) -> HttpResponse:
    closed = actions.report_close(actor=request.actor, report_id=report_id)
    messages.success(request, f"Le signalement n° {closed.pk} est clos.")
    return redirect("backoffice_catalogue:reports")


@require_POST
@catalogue_operator_view
def operator_logout(request: OperatorRequest) -> HttpResponse:
    logout(request)
    return redirect("backoffice:login")

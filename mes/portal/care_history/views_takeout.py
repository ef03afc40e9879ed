"""« Télécharger mes données » and the share links (issue 15): pages over mes.takeout."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from mes.lib.errors import InvalidInput
from mes.takeout import export

from ..access import PortalRequest, patient_view


@require_http_methods(["GET"])
@patient_view
def data_export(request: PortalRequest) -> HttpResponse:
    latest = export.latest_export(actor=request.actor)
    return render(request, "portal/takeout/export.html", {"export": latest})


@require_POST
@patient_view
def data_export_request(request: PortalRequest) -> HttpResponse:
    try:
        export.export_request(actor=request.actor)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Votre demande est enregistrée. Vous recevrez une notification quand vos données "
            "seront prêtes à télécharger.",
        )
    return redirect("portal:data_export")


@require_http_methods(["GET"])
@patient_view
def data_export_download(request: PortalRequest, export_id: uuid.UUID) -> HttpResponse:
    found, content = export.export_download(actor=request.actor, export_id=export_id)
    if content is None:
        return render(
            request, "portal/takeout/export_expired.html", {"message": export.EXPIRED}, status=410
        )
    response = HttpResponse(content, content_type="application/zip")
    day = found.ready_at or found.requested_at
    response["Content-Disposition"] = (
        f'attachment; filename="mes-donnees-de-sante-{day:%Y-%m-%d}.zip"'
    )
    response["Cache-Control"] = "no-store"
    return response

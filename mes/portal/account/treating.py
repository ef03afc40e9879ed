"""Contesting a médecin traitant that a professional declared himself (TD0.3, issue 8 item 9):
one step from the notification or the access page, traced."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from mes.access.actions import treating_physician_contest
from mes.lib.errors import InvalidInput

from ..access import PortalRequest, patient_view


@require_POST
@patient_view
def treating_contest(request: PortalRequest) -> HttpResponse:
    """« Ce n'est pas mon médecin traitant »: he stops being médecin traitant of this profile."""
    try:
        professional_id = uuid.UUID(request.POST.get("professional", ""))
    except ValueError:
        messages.error(request, "Ce professionnel n'est pas votre médecin traitant.")
        return redirect("portal:access")
    try:
        row = treating_physician_contest(
            actor=request.actor, patient_id=request.profile.pk, professional_id=professional_id
        )
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"La déclaration de médecin traitant de {row.professional.display_name} est retirée. "
            "L'autorisation d'accès déclarée reste en place : vous pouvez aussi bloquer ce "
            "professionnel ci-dessous.",
        )
    return redirect("portal:access")

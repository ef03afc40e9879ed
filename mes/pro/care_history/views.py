"""Web PS, read only: the patient's « Mon histoire de santé » (reimbursed care), for the
professionals the matrix lets read reimbursement data, unless the patient masked it
(access.decision.care_history_allowed)."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from mes.audit.models import TraceAction
from mes.reimbursements.models import Category
from mes.reimbursements.policies import access_care_history
from mes.reimbursements.selectors import episodes_of

from ..access import ProRequest, professional_view
from ..rendering import patient_of, render_pro

SHOWN = 200  # the most recent lines; the history is two years at most in practice


@require_http_methods(["GET"])
@professional_view
def care_history(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The reimbursed care, newest first, filtered by category (CONSULT_HISTOIRE_SANTE)."""
    patient, _ = access_care_history(
        request.actor, patient_id, trace_action=TraceAction.CONSULT_CARE_HISTORY
    )
    person = patient_of(request, patient_id)
    chosen = [c for c in request.GET.getlist("categorie") if c in Category.values]
    return render_pro(
        request,
        "pro/profile/care_history.html",
        {
            "episodes": list(episodes_of(patient, chosen)[:SHOWN]),
            "categories": Category.choices,
            "chosen": chosen,
        },
        patient=person,
    )

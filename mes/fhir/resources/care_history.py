"""« Mon histoire de santé » for professionals: each reimbursed line as an R4
`ExplanationOfBenefit` (the reimbursement of one claim), read only.

- `GET /fhir/ExplanationOfBenefit?patient=<id>` (or `patient.identifier=<INS system>|<INS>`):
  the history, newest first, as a searchset Bundle. Scope `user/ExplanationOfBenefit.read`.

Who may read is decided by access.decision.care_history_allowed through
mes.reimbursements.policies (traced CONSULT_HISTOIRE_SANTE): professionals whose profession the
matrix lets read the reimbursement data (class 60), unless the patient masked the history;
never the Assurance Maladie. Unknown and refused are the same empty answer as elsewhere: 404.
"""

from __future__ import annotations

from django.http import HttpResponse

from mes.audit.models import TraceAction
from mes.fhir.core.access import FhirRequest, fhir_endpoint, open_emergency_access
from mes.reimbursements.fhir import explanation_of_benefit
from mes.reimbursements.policies import access_care_history
from mes.reimbursements.selectors import episodes_of

from .profile import _searched_patient, _searchset

SCOPE_EOB_READ = "user/ExplanationOfBenefit.read"
SHOWN = 500


@fhir_endpoint(scopes=[SCOPE_EOB_READ], methods=["GET"])
def explanation_of_benefit_search(request: FhirRequest) -> HttpResponse:
    patient_id, used, agree = _searched_patient(request)
    open_emergency_access(request, patient_id)
    patient, _ = access_care_history(
        request.actor, patient_id, trace_action=TraceAction.CONSULT_CARE_HISTORY
    )
    episodes = list(episodes_of(patient)[:SHOWN]) if agree else []
    return _searchset(
        request, "ExplanationOfBenefit", used, [explanation_of_benefit(e) for e in episodes]
    )

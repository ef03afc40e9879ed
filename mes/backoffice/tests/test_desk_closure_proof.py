# ruff: noqa: F811 — fixtures imported from other test modules, then requested by name
"""The closure's proof at the 3422 (issue 14, mes-spec §3.4): whether the closure was asked on
the phone or done online with the provisional code, the agent hands the holder the same PDF as
the online proof, traced under the agent's identity; nothing of the dossier is in it. Nobody
else gets it, nor anyone for an espace that is not closed (refused as unknown, traced)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.backoffice.models_desk import SupportAgent
from mes.backoffice.testing import desk_login
from mes.conftest import make_pdf, pro
from mes.enrolment.models import Espace, EspaceState
from mes.portal.tests.test_enrolment_closure import confirm, created, step1  # noqa: F401
from mes.portal.tests.test_enrolment_closure import pdf_text as portal_pdf_text
from mes.records import actions as records

from .test_catalogue_operators import _operator_user
from .test_desk import desk, sophie  # noqa: F401 (fixtures)

GIVEN = "justificatif de clôture"


def pdf_text(content: bytes) -> str:
    """The proof's words, with single spaces (lines wrap anywhere)."""
    return " ".join(portal_pdf_text(content).split())


def _given(patient_id: object) -> list[tuple[str, str]]:
    return list(
        Trace.objects.filter(
            patient_id=patient_id, action=TraceAction.SUPPORT_CONSULT, reason=GIVEN
        ).values_list("actor_id", "outcome")
    )


def test_the_agent_gives_the_proof_of_a_closure_asked_on_the_phone(desk, camille, dr_martin):
    records.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Compte rendu de coloscopie",
        type_code="11488-4",
    )
    proof = reverse("backoffice:closure_proof", args=[camille.pk])
    desk.post(reverse("backoffice:close", args=[camille.pk]))
    page = desk.get(reverse("backoffice:search"), {"nir": camille.ins}).content.decode()
    assert proof in page and "justificatif de clôture" in page
    response = desk.get(proof)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        'filename="justificatif-cloture-mon-espace-sante.pdf"' in (response["Content-Disposition"])
    )
    text = pdf_text(response.content)
    event = Espace.objects.get(pk=camille.pk).events.get(to_state=EspaceState.CLOSED)
    assert "Justificatif de clôture" in text and camille.display_name in text
    assert f"CLO-{event.at:%Y%m%d}-{event.pk:08d}" in text and "archivées jusqu'au" in text
    # Who she is and when it was closed, nothing of her dossier.
    assert "coloscopie" not in text and "Martin" not in text
    assert _given(camille.pk) == [("support:sophie.agent", TraceOutcome.ALLOWED)]


def test_with_the_deletion_asked_the_proof_says_when_the_data_go(desk, camille):
    """The express deletion's row (CLOSED → CLOSED) is not the closure: the proof is the
    closure's, and says the deletion date."""
    desk.post(reverse("backoffice:close", args=[camille.pk]), {"express_deletion": "on"})
    text = pdf_text(desk.get(reverse("backoffice:closure_proof", args=[camille.pk])).content)
    assert "supprimées définitivement le" in text and "archivées jusqu'au" not in text


def test_the_agent_gives_the_same_proof_as_online_for_a_closure_with_the_code(desk, created):
    nadia, code = created
    holder = Client()
    step1(holder, nadia, code)
    confirm(holder)
    online = pdf_text(holder.get(reverse("portal:enrolment_closure_code_proof")).content)
    at_desk = desk.get(reverse("backoffice:closure_proof", args=[nadia.pk]))
    assert at_desk.status_code == 200
    assert pdf_text(at_desk.content) == online
    assert _given(nadia.pk) == [("support:sophie.agent", TraceOutcome.ALLOWED)]


def test_an_espace_not_closed_has_no_closure_proof(desk, camille):
    proof = reverse("backoffice:closure_proof", args=[camille.pk])
    page = desk.get(reverse("backoffice:search"), {"nir": camille.ins}).content.decode()
    assert proof not in page
    assert desk.get(proof).status_code == 404
    refused = Trace.objects.get(
        patient_id=camille.pk, action=TraceAction.SUPPORT_CONSULT, outcome=TraceOutcome.REFUSED
    )
    assert refused.actor_id == "support:sophie.agent"
    assert refused.reason == "aucune clôture enregistrée"
    # Nor does an opposition's proof stand for it, or the reverse.
    assert desk.get(reverse("backoffice:opposition_proof", args=[camille.pk])).status_code == 404


@pytest.fixture
def closed(camille):
    from mes.access.actors import citizen_actor
    from mes.enrolment import lifecycle

    lifecycle.espace_close(actor=citizen_actor(camille), citizen=camille, channel="en ligne")
    return camille


def test_only_a_3422_agent_gets_a_closure_proof(client, closed, dr_martin, sophie):
    proof = reverse("backoffice:closure_proof", args=[closed.pk])
    assert client.get(proof).status_code == 302  # anonymous: to the desk's login
    assert client.get(proof)["Location"].startswith(reverse("backoffice:login"))
    for someone in (closed, dr_martin):  # the holder herself, a professional
        client.force_login(someone.user)
        assert client.get(proof).status_code == 404
    # An operator of the catalogue is no 3422 agent.
    client.logout()
    _operator_user("nadia.catalogue", SupportAgent.Role.CATALOGUE)
    desk_login(client, "nadia.catalogue")
    assert client.get(proof).status_code == 404
    assert not Trace.objects.filter(action=TraceAction.SUPPORT_CONSULT).exists()

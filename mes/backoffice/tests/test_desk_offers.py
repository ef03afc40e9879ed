"""The desk offers only what the espace's state allows: walking the demo, Sophie was offered to
record an opposition to the creation of Louise's long-active profile, and to send her a
provisional code that could activate nothing (both refused once clicked)."""

# The cast's fixtures are imported from the modules that define them.
# ruff: noqa: F811

from __future__ import annotations

import pytest
from django.urls import reverse

from mes.backoffice.tests.test_desk import desk, ines, sophie  # noqa: F401
from mes.enrolment.models import Espace, EspaceState

RESEND, OPPOSE, CLOSE = "Envoyer le code", "Enregistrer l'opposition", "Enregistrer la clôture"


def _page(desk, citizen) -> str:
    response = desk.get(reverse("backoffice:search"), {"nir": citizen.ins})
    assert response.status_code == 200
    return response.content.decode()


def test_an_active_profile_is_offered_its_closure_only(desk, camille):
    page = _page(desk, camille)
    assert CLOSE in page
    assert RESEND not in page and OPPOSE not in page


def test_a_profile_not_yet_activated_is_offered_a_code_and_an_opposition(desk, ines):
    page = _page(desk, ines)
    assert RESEND in page and OPPOSE in page
    assert CLOSE not in page  # nothing created yet to close


@pytest.mark.parametrize(
    ("state", "offered"),
    [
        (EspaceState.CLOSED, {RESEND}),
        (EspaceState.OPPOSED, {RESEND}),
        (EspaceState.CREATED, {RESEND, CLOSE}),
        (EspaceState.SUSPENDED, {CLOSE}),
        (EspaceState.PURGED, set()),
    ],
)
def test_each_state_offers_what_it_allows(desk, ines, state, offered):
    Espace.objects.filter(pk=ines.pk).update(state=state)
    page = _page(desk, ines)
    assert {label for label in (RESEND, OPPOSE, CLOSE) if label in page} == offered
    if not offered:
        assert "Aucune démarche n'est possible par téléphone" in page

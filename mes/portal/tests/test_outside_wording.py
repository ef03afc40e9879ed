"""French as the portal writes it: « profil d'Inès Garnier », never « profil de Inès » (found
walking Inès's activation in the demo)."""

# The cast's fixtures are imported from the modules that define them.
# ruff: noqa: F811

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from mes.portal.tests.test_enrolment_views import code_of, ines, step1  # noqa: F401


def test_the_activation_names_ines_with_an_elided_de(client, ines):
    step1(client, ines, code_of(mail.outbox[-1].body))
    page = client.get(reverse("portal:enrolment_credentials")).content.decode()
    assert "profil <strong>d&#x27;Inès Garnier</strong>" in page
    assert "de Inès" not in page

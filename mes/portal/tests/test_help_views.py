"""Aide, Nous contacter and the legal pages (portal.md §10, issue 8 item 6)."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from mes.audit.models import Trace, TraceAction
from mes.backoffice.models import SupportRequest

PUBLIC = ["help", "accessibility", "legal_notice", "terms", "privacy", "contact"]


def _html(response) -> str:
    return unescape(response.content.decode())


@pytest.mark.parametrize("name", PUBLIC)
def test_help_and_legal_pages_are_public(client, db, name):
    response = client.get(reverse(f"portal:{name}"))
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


def test_faq(client, db):
    html = _html(client.get(reverse("portal:help")))
    assert "Bonjour, en quoi pouvons-nous vous aider ?" in html
    assert 'id="acceder-a-mon-espace-sante"' in html and "<details" in html


def test_the_accessibility_declaration_is_honest_by_default(client, db):
    html = _html(client.get(reverse("portal:accessibility")))
    assert "non conforme" in html and "Aucun audit" in html and "Défenseur des droits" in html


def test_anonymous_contact_offers_the_phone_and_the_login(client, db):
    html = _html(client.get(reverse("portal:contact")))
    assert "3422" in html and "Me connecter pour écrire au support" in html
    assert "Motif de la demande" not in html
    response = client.post(reverse("portal:contact"), {"reason": "AUTRE", "message": "x"})
    assert response.status_code == 200 and not SupportRequest.objects.exists()


def _form(profile, **kw):
    return {
        "profile": str(profile.pk),
        "reason": "DOCUMENT",
        "message": "Un document en double.",
        "engagement": "on",
        **kw,
    }


def test_camille_writes_to_the_support_about_louis(as_camille, camille, louis):
    page = _html(as_camille.get(reverse("portal:contact")))
    assert "Profil concerné" in page and "Louis" in page
    response = as_camille.post(
        reverse("portal:contact"), _form(louis, agents_may_access_profile="on")
    )
    assert response.status_code == 302
    req = SupportRequest.objects.get()
    assert req.profile == louis and req.requester == camille and req.agents_may_access_profile
    assert Trace.objects.filter(patient_id=louis.pk, action=TraceAction.SUPPORT_REQUEST).exists()
    page = _html(as_camille.get(reverse("portal:contact")))
    assert f"Votre demande {req.reference} a été envoyée au support" in page
    assert "Mes demandes" in page and req.reference in page


def test_the_engagement_is_required(as_camille, camille):
    data = _form(camille)
    del data["engagement"]
    response = as_camille.post(reverse("portal:contact"), data)
    assert response.status_code == 200
    assert "Cochez cet engagement" in _html(response)
    assert not SupportRequest.objects.exists()


def test_bob_cannot_write_about_camille(client, bob, camille):
    client.force_login(bob.user)
    response = client.post(reverse("portal:contact"), _form(camille))
    assert response.status_code == 200
    assert "Choisissez un des profils proposés." in _html(response)
    assert not SupportRequest.objects.exists()


def test_a_professional_account_cannot_write_as_a_citizen(client, dr_martin, camille):
    client.force_login(dr_martin.user)
    response = client.post(reverse("portal:contact"), _form(camille))
    assert response.status_code == 200  # the public page: phone number and login
    assert not SupportRequest.objects.exists()

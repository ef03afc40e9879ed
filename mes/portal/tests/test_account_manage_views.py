"""Camille's account pages (portal.md §5.7): password (current one required), forgotten
password, a new e-mail confirmed on the new address with the old one told, her other
sessions; anonymous visitors are sent to the login, and each change is traced."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django.urls import reverse

from mes.audit.models import Trace, TraceAction
from mes.conftest import PASSWORD
from mes.enrolment.models import AccountSession

NEW = "Nouveau-Secret-2027!"


def otp() -> str:
    match = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert match
    return match.group(1)


def test_anonymous_visitors_go_to_the_login(client, db):
    for name in ("portal:account_information", "portal:account_password", "portal:account_contact"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/connexion/" in response.url


def test_password_change_needs_the_current_one_and_alerts(client, camille):
    client.force_login(camille.user)
    url = reverse("portal:account_password")
    response = client.post(url, {"current": "faux", "new": NEW, "confirm": NEW})
    assert "Le mot de passe actuel est incorrect." in response.content.decode()
    response = client.post(url, {"current": PASSWORD, "new": NEW, "confirm": NEW})
    assert response.status_code == 302
    camille.user.refresh_from_db()
    assert camille.user.check_password(NEW)
    assert camille.notifications.filter(code="ALERTE_SECURITE").exists()
    assert Trace.objects.filter(patient_id=camille.pk, action=TraceAction.ACCOUNT_CHANGE).exists()
    # Still logged in after the change.
    assert client.get(reverse("portal:account_information")).status_code == 200


def test_forgotten_password_through_a_code(client, camille):
    url = reverse("portal:password_forgotten")
    response = client.post(url, {"username": "camille", "channel": "email"})
    assert response.status_code == 302
    code = otp()
    response = client.post(url, {"code": code, "new": NEW, "confirm": NEW})
    assert response.status_code == 302 and response.url == reverse("portal:login")
    camille.user.refresh_from_db()
    assert camille.user.check_password(NEW)


def test_forgotten_password_tells_nothing_about_unknown_identifiants(client, db):
    url = reverse("portal:password_forgotten")
    response = client.post(url, {"username": "personne", "channel": "email"}, follow=True)
    assert "Si cet identifiant existe" in response.content.decode()
    assert mail.outbox == []


def test_new_email_confirmed_on_the_new_address_and_old_one_told(
    client, camille, django_capture_on_commit_callbacks
):
    client.force_login(camille.user)
    url = reverse("portal:account_contact")
    client.post(url, {"channel": "email", "value": "camille.nouvelle@example.org"})
    assert mail.outbox[-1].to == ["camille.nouvelle@example.org"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"code": otp()})
    assert response.status_code == 302
    camille.user.refresh_from_db()
    camille.refresh_from_db()
    assert camille.user.email == camille.email == "camille.nouvelle@example.org"
    assert mail.outbox[-1].to == ["camille@example.org"]
    assert "a été modifiée" in mail.outbox[-1].body


def test_camille_sees_and_ends_her_other_sessions(camille):
    phone, laptop = Client(), Client()
    for c in (phone, laptop):
        c.force_login(camille.user)
    assert AccountSession.objects.filter(user=camille.user).count() == 2
    page = laptop.get(reverse("portal:account_information"))
    assert "(cette session)" in page.content.decode()
    laptop.post(reverse("portal:account_sessions_end"))
    assert phone.get(reverse("portal:account_information")).status_code == 302  # ended
    assert laptop.get(reverse("portal:account_information")).status_code == 200


def test_bob_cannot_end_camilles_sessions(camille, bob):
    cam, other = Client(), Client()
    cam.force_login(camille.user)
    other.force_login(bob.user)
    other.post(reverse("portal:account_sessions_end"))
    assert cam.get(reverse("portal:account_information")).status_code == 200

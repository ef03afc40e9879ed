"""Camille logs in through the portal in two steps, chooses her settings on first login, and
logs out; the demo outbox exists only in the demo."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from mes.access.models import PrivacySettings
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import PASSWORD
from mes.demo.models import OutboxMessage
from mes.notifications import sms
from mes.portal.account.views import PENDING_LOGIN_KEY, RESEND_ACTION

LOGIN = reverse("portal:login")
CODE = reverse("portal:login_code")
HOME = reverse("portal:home")
ONBOARDING = reverse("portal:onboarding")
LOGOUT = reverse("portal:logout")
OUTBOX = reverse("portal:demo_outbox")


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _onboarded(citizen):
    PrivacySettings.objects.filter(patient=citizen).update(onboarded_at="2026-01-01T00:00Z")


def _last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def _password_step(client, *, password=PASSWORD, channel="email", next_url=None):
    data = {"identifier": "camille", "password": password, "channel": channel}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN, data)


# --- Login --------------------------------------------------------------------------------------


def test_login_page_has_an_accessible_form(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label class="form-label fw-semibold" for="id_identifier">Identifiant</label>' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert "<legend" in html


def test_camille_logs_in_with_her_password_then_the_emailed_code(client, camille):
    _onboarded(camille)
    response = _password_step(client)
    assert response.status_code == 302 and response["Location"] == CODE
    # Not logged in between the two steps.
    assert "_auth_user_id" not in client.session
    assert client.session[PENDING_LOGIN_KEY]["user_id"] == camille.user.pk
    assert client.get(HOME).status_code == 302

    page = client.get(CODE)
    html = page.content.decode()
    assert "Code de connexion à 6 chiffres" in html
    assert 'inputmode="numeric"' in html and 'autocomplete="one-time-code"' in html
    assert "Renvoyer un code" in html
    assert "c•••@example.org" in html

    key_before = client.session.session_key
    response = client.post(CODE, {"code": _last_code()})
    assert response.status_code == 302 and response["Location"] == HOME
    assert int(client.session["_auth_user_id"]) == camille.user.pk
    assert client.session.session_key != key_before
    assert PENDING_LOGIN_KEY not in client.session
    assert client.get(HOME).status_code == 200
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.LOGIN, outcome=TraceOutcome.ALLOWED
    ).exists()


def test_wrong_password_shows_the_error_and_sends_nothing(client, camille):
    response = _password_step(client, password="faux")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Identifiant ou mot de passe incorrect." in html
    assert 'role="alert"' in html
    assert mail.outbox == []
    assert PENDING_LOGIN_KEY not in client.session


def test_empty_fields_are_linked_to_their_errors(client, db):
    response = client.post(LOGIN, {"identifier": "", "password": "", "channel": "email"})
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_identifier_error"' in html
    assert 'id="id_identifier_error"' in html
    assert "Saisissez votre identifiant." in html
    assert '<a href="#id_identifier">' in html


def test_sms_is_used_when_she_has_a_mobile(client, camille):
    camille.user.phone = "0612345678"
    camille.user.save()
    _password_step(client, channel="sms")
    assert len(sms.outbox) == 1 and mail.outbox == []
    html = client.get(CODE).content.decode()
    assert "se terminant par 78" in html
    assert 'value="sms"' in html  # the resend form offers the SMS too


def test_sms_falls_back_to_email_without_a_mobile(client, camille):
    _password_step(client, channel="sms")
    assert sms.outbox == [] and len(mail.outbox) == 1
    html = client.get(CODE).content.decode()
    assert 'value="sms"' not in html


def test_the_fallback_to_email_is_said_on_the_code_page(client, camille):
    _password_step(client, channel="sms")
    html = client.get(CODE).content.decode()
    assert "Aucun numéro de mobile n&#x27;est enregistré sur votre compte" in html
    assert "le code vous est envoyé par e-mail." in html


def test_wrong_code_is_refused_and_she_stays_logged_out(client, camille):
    _password_step(client)
    good = _last_code()
    response = client.post(CODE, {"code": f"{(int(good) + 1) % 1_000_000:06d}"})
    assert response.status_code == 200
    assert "Code incorrect." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_resend_sends_a_new_code_and_the_old_one_stops_working(client, camille, settings):
    settings.MES_OTP_RESEND_INTERVAL = timedelta(0)
    _onboarded(camille)
    _password_step(client)
    first = _last_code()
    response = client.post(CODE, {"action": "renvoyer", "channel": "email"})
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    second = _last_code()
    if first != second:
        assert client.post(CODE, {"code": first}).status_code == 200
    assert client.post(CODE, {"code": second})["Location"] == HOME


def test_wrong_codes_wear_the_code_out_and_a_new_one_still_signs_her_in(client, camille):
    _onboarded(camille)
    _password_step(client)
    good = _last_code()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert "Code incorrect." in client.post(CODE, {"code": wrong}).content.decode()
    html = client.post(CODE, {"code": wrong}).content.decode()
    assert "Ce code ne fonctionne plus" in html
    assert "Ce code a expiré" in client.post(CODE, {"code": good}).content.decode()
    assert PENDING_LOGIN_KEY in client.session  # never locked: she asks for another code
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        client.post(CODE, {"action": RESEND_ACTION, "channel": "email"})
        assert client.post(CODE, {"code": _last_code()})["Location"] == HOME


def test_code_page_without_a_pending_login_goes_back_to_login(client, db):
    assert client.get(CODE)["Location"] == LOGIN
    assert client.post(CODE, {"code": "123456"})["Location"] == LOGIN


def test_next_is_kept_through_both_steps(client, camille):
    _onboarded(camille)
    documents = reverse("portal:documents")
    # The middleware sends an anonymous visitor to the login with ?next=.
    response = client.get(documents)
    assert response["Location"] == f"{LOGIN}?next={documents}"
    assert f'value="{documents}"' in client.get(response["Location"]).content.decode()
    _password_step(client, next_url=documents)
    assert client.post(CODE, {"code": _last_code()})["Location"] == documents


@pytest.mark.parametrize(
    "evil", ["https://evil.example/", "//evil.example/", "https:///evil.example", "\\\\evil"]
)
def test_next_to_another_site_is_ignored(client, camille, evil):
    _password_step(client, next_url=evil)
    assert client.post(CODE, {"code": _last_code()})["Location"] == HOME


def test_a_professional_account_cannot_use_the_citizen_login(client, dr_durand):
    response = client.post(
        LOGIN, {"identifier": dr_durand.user.username, "password": PASSWORD, "channel": "email"}
    )
    assert "Identifiant ou mot de passe incorrect." in response.content.decode()
    assert mail.outbox == []


# --- Logout -------------------------------------------------------------------------------------


def test_logout_is_post_only(client, camille):
    _onboarded(camille)
    client.force_login(camille.user)
    assert client.get(LOGOUT).status_code == 405
    assert client.get(HOME).status_code == 200
    response = client.post(LOGOUT, follow=True)
    assert response.redirect_chain[-1][0] == LOGIN
    assert "Vous êtes déconnecté." in response.content.decode()
    assert client.get(HOME).status_code == 302


# --- Onboarding ---------------------------------------------------------------------------------


def test_home_sends_camille_to_onboarding_until_she_has_chosen(client, camille):
    client.force_login(camille.user)
    assert client.get(HOME)["Location"] == ONBOARDING
    page = client.get(ONBOARDING)
    html = page.content.decode()
    assert "Bienvenue Camille" in html
    assert "Rendre visibles mes informations aux professionnels de santé habilités" in html
    assert 'role="switch"' in html

    response = client.post(
        ONBOARDING,
        {"confidentiality": "masque", "samu": "on", "reveals_masked": "on"},
    )
    assert response["Location"] == HOME
    settings = PrivacySettings.objects.get(patient=camille)
    assert settings.onboarded_at is not None
    assert settings.mask_new_documents is True
    assert settings.oppose_centre_15 is False  # SAMU allowed
    assert settings.oppose_break_glass is True  # others not allowed
    assert settings.emergency_reveals_masked is True
    actions = set(Trace.objects.filter(patient_id=camille.pk).values_list("action", flat=True))
    assert {TraceAction.PRIVACY_SETTINGS, TraceAction.EMERGENCY_SETTINGS} <= actions
    assert client.get(HOME).status_code == 200
    assert client.get(ONBOARDING)["Location"] == HOME


def test_onboarding_requires_a_confidentiality_choice(client, camille):
    client.force_login(camille.user)
    response = client.post(ONBOARDING, {"samu": "on"})
    assert response.status_code == 200
    assert "Choisissez la confidentialité de vos informations." in response.content.decode()
    assert PrivacySettings.objects.get(patient=camille).onboarded_at is None


def test_onboarding_defaults_follow_the_law(client, camille):
    client.force_login(camille.user)
    form = client.get(ONBOARDING).context["form"]
    assert form.initial == {
        "confidentiality": "visible",
        "samu": True,
        "break_glass": True,
        "reveals_masked": False,
    }


def test_anonymous_on_onboarding_is_sent_to_login(client, db):
    response = client.get(ONBOARDING)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_professional_on_onboarding_gets_404(client, dr_durand):
    client.force_login(dr_durand.user)
    assert client.get(ONBOARDING).status_code == 404
    assert client.post(ONBOARDING, {"confidentiality": "visible"}).status_code == 404


# --- Demo outbox --------------------------------------------------------------------------------


def test_demo_outbox_does_not_exist_outside_the_demo(client, db, settings):
    settings.MES_DEMO = False
    OutboxMessage.objects.create(channel="sms", to="0612345678", body="Code 123456")
    assert client.get(OUTBOX).status_code == 404


def test_demo_outbox_lists_messages_newest_first(client, db, settings):
    settings.MES_DEMO = True
    OutboxMessage.objects.create(channel="email", to="a@example.org", subject="Premier", body="1")
    OutboxMessage.objects.create(channel="sms", to="0612345678", body="Code 654321")
    response = client.get(OUTBOX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "n'existe que dans la démonstration" in html
    assert html.index("Code 654321") < html.index("Premier")
    assert "0612345678" in html and "a@example.org" in html


def test_asking_again_within_a_minute_says_to_wait_and_sends_nothing(client, camille):
    _onboarded(camille)
    _password_step(client)
    sent = len(mail.outbox)
    response = client.post(
        reverse("portal:login_code"), {"action": RESEND_ACTION, "channel": "email"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == sent
    page = client.get(reverse("portal:login_code"))
    assert "Patientez une minute" in page.content.decode()

"""The professionals' login: RPPS + password, then a code by e-mail; `next` honoured when it
stays on the site (the OAuth authorize endpoint relies on it); citizens' logins refused."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from mes.conftest import PASSWORD
from mes.identity import throttle
from mes.identity.models import User
from mes.pro.account.views import PENDING_LOGIN_KEY
from mes.pro.tests.conftest import body

LOGIN = "/pro/connexion/"
CODE = "/pro/connexion/code/"
MARTIN_EMAIL = "anne.martin@pro.example.org"


@pytest.fixture
def martin(dr_martin):
    User.objects.filter(pk=dr_martin.user_id).update(email=MARTIN_EMAIL)
    return dr_martin


def _code():
    found = re.search(rf"\b(\d{{{settings.MES_OTP_DIGITS}}})\b", mail.outbox[-1].body)
    assert found
    return found.group(1)


def _password_step(client, username="10000000001", password=PASSWORD, next_url=""):
    data = {"identifier": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data)


def test_login_page_explains_the_self_hosted_authentication(client, db):
    response = client.get(reverse("pro:login"))
    assert response.status_code == 200
    html = body(response)
    assert "Connexion à l'espace professionnel" in html
    assert "CPS" in html and "Pro Santé Connect" in html


def test_login_in_two_steps_then_home(client, martin):
    response = _password_step(client)
    assert response.status_code == 302 and response["Location"] == CODE
    assert mail.outbox[-1].to == [MARTIN_EMAIL]
    assert "_auth_user_id" not in client.session  # nobody is logged in before the code

    page = client.get(CODE)
    assert "a•••@pro.example.org" in body(page)
    response = client.post(CODE, {"code": _code()})
    assert response.status_code == 302 and response["Location"] == reverse("pro:home")
    assert int(client.session["_auth_user_id"]) == martin.user_id
    assert PENDING_LOGIN_KEY not in client.session
    assert client.get(reverse("pro:home")).status_code == 200


def test_a_safe_next_is_followed(client, martin):
    target = "/o/authorize/?client_id=lps&response_type=code"
    _password_step(client, next_url=target)
    response = client.post(CODE, {"code": _code()})
    assert response["Location"] == target


def test_next_from_the_query_string_is_kept_in_the_form(client, db):
    target = "/o/authorize/?client_id=lps"
    html = body(client.get(f"{LOGIN}?next={target}"))
    assert 'name="next"' in html and "/o/authorize/?client_id=lps" in html


def test_an_offsite_next_is_dropped(client, martin):
    _password_step(client, next_url="https://evil.example.org/")
    response = client.post(CODE, {"code": _code()})
    assert response["Location"] == reverse("pro:home")


def test_wrong_password_says_so_in_french(client, martin):
    response = _password_step(client, password="pas-le-bon")
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in body(response)
    assert not mail.outbox
    assert len(throttle.recent_failures(throttle.Scope.ACCOUNT, martin.rpps)) == 1


def test_a_citizen_account_cannot_log_in_here(client, camille):
    response = _password_step(client, username="camille")
    assert "Identifiant ou mot de passe incorrect." in body(response)
    assert not mail.outbox


def test_a_professional_login_without_a_professional_is_refused(client, db):
    User.objects.create_user(
        username="99999999999",
        password=PASSWORD,
        email="x@example.org",
        kind=User.Kind.PROFESSIONAL,
    )
    response = _password_step(client, username="99999999999")
    assert "Identifiant ou mot de passe incorrect." in body(response)
    assert not mail.outbox


def test_wrong_code_keeps_the_professional_out(client, martin):
    _password_step(client)
    wrong = "000000" if _code() != "000000" else "111111"
    response = client.post(CODE, {"code": wrong})
    assert response.status_code == 200
    assert "Code incorrect." in body(response)
    assert "_auth_user_id" not in client.session


def test_code_page_without_a_pending_login_goes_back(client, db):
    assert client.get(CODE)["Location"] == LOGIN


def test_resend_sends_a_new_code(client, martin, settings):
    settings.MES_OTP_RESEND_INTERVAL = settings.MES_OTP_VALIDITY * 0
    _password_step(client)
    response = client.post(CODE, {"action": "renvoyer"}, follow=True)
    assert "Un nouveau code a été envoyé" in body(response)
    assert len(mail.outbox) == 2


def test_a_logged_in_professional_skips_the_login(as_martin):
    assert as_martin.get(LOGIN)["Location"] == reverse("pro:home")


def test_logout_is_post_only(as_martin):
    assert as_martin.get(reverse("pro:logout")).status_code == 405
    response = as_martin.post(reverse("pro:logout"))
    assert response["Location"] == LOGIN
    assert as_martin.get(reverse("pro:home"))["Location"].startswith(LOGIN)

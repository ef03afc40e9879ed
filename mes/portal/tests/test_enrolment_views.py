"""Activation without an account, a new code, opposition with its proof, closure, and a parent
activating a child's espace: through the portal's pages, with the denials and the traces."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from mes.access.actors import system_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import PASSWORD, make_citizen
from mes.enrolment import lifecycle
from mes.enrolment.models import Espace, EspaceState
from mes.identity.models import User

SERIAL = "802500000212"
NEW_PASSWORD = "Jardin-Secret-2026!"


@pytest.fixture
def ines(db):
    citizen = make_citizen(
        None,
        first13="2900375056045",
        first_name="Inès",
        birth_name="Garnier",
        birth_date=date(1990, 3, 10),
        sex="F",
        email="ines@example.org",
    )
    Espace.objects.create(citizen=citizen, state=EspaceState.NOT_NOTIFIED, vitale_serial=SERIAL)
    lifecycle.espace_notify(actor=system_actor("test"), citizen_id=citizen.pk)
    return citizen


def code_of(body: str) -> str:
    match = re.search(r"([A-Z0-9]{5}-[A-Z0-9]{5})", body)
    assert match
    return match.group(1)


def otp_of(body: str) -> str:
    match = re.search(r"\b(\d{6})\b", body)
    assert match
    return match.group(1)


def step1(client, citizen, code, url="portal:enrolment_activation"):
    return client.post(
        reverse(url),
        {
            "code": code,
            "nir": citizen.ins,
            "vitale_serial": SERIAL,
            "birth_date": citizen.birth_date.isoformat(),
        },
    )


def credentials(client, **extra):
    data = {
        "username": "ines.garnier",
        "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "email": "ines@example.org",
        "phone": "",
        "channel": "email",
        **extra,
    }
    return client.post(reverse("portal:enrolment_credentials"), data)


def test_ines_activates_her_espace_and_lands_in_it(client, ines):
    code = code_of(mail.outbox[-1].body)
    response = step1(client, ines, code)
    assert response.status_code == 302 and response.url == reverse("portal:enrolment_credentials")
    response = credentials(client)
    assert response.status_code == 302, response.content.decode()
    response = client.post(
        reverse("portal:enrolment_confirm"), {"code": otp_of(mail.outbox[-1].body)}
    )
    assert response.status_code == 302 and response.url == reverse("portal:onboarding")
    ines.refresh_from_db()
    assert ines.user.username == "ines.garnier" and ines.user.is_active
    assert Espace.objects.get(pk=ines.pk).state == EspaceState.ACTIVE
    assert client.get(reverse("portal:onboarding")).status_code == 200
    assert Trace.objects.filter(
        patient_id=ines.pk, action=TraceAction.ESPACE_ACTIVATED, outcome=TraceOutcome.ALLOWED
    ).exists()
    # The code was used up: it cannot activate again.
    client.logout()
    response = step1(client, ines, code)
    assert "a expiré ou a déjà été utilisé" in response.content.decode()


def test_wrong_data_say_so_without_naming_the_wrong_one(client, ines):
    response = step1(client, ines, "ZZZZZ-ZZZZZ")
    assert response.status_code == 200
    assert "ne permettent pas de retrouver un profil" in response.content.decode()
    assert Trace.objects.filter(patient_id=ines.pk, outcome=TraceOutcome.REFUSED).count() == 1


def test_later_steps_without_the_first_go_back_to_it(client, ines):
    for name in ("portal:enrolment_credentials", "portal:enrolment_confirm"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url == reverse(
            "portal:enrolment_activation"
        )


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ines@example.org", "adresse e-mail"),
        ("2 90 03 75 056 045 " + "00", "numéro de sécurité sociale"),
        ("FR7630006000011234567890189", "IBAN"),
        ("camille", "déjà pris"),
    ],
)
def test_an_identifiant_is_neither_email_nor_nir_nor_iban_nor_taken(
    client, ines, camille, username, message
):
    step1(client, ines, code_of(mail.outbox[-1].body))
    response = credentials(client, username=username)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username=username).exists() or username == "camille"


@pytest.mark.parametrize("username", ["le75parisienne", "jo12martinezzz", "FR76-ma-banque"])
def test_an_identifiant_that_only_looks_like_an_iban_is_accepted(client, ines, username):
    """An IBAN is told by its check digits (ISO 13616, mod 97), not by its shape: two letters
    and two digits at the start of a name are no IBAN."""
    step1(client, ines, code_of(mail.outbox[-1].body))
    response = credentials(client, username=username)
    assert response.status_code == 302, response.content.decode()
    assert User.objects.filter(username=username).exists()


def test_a_weak_or_personal_password_is_refused(client, ines):
    step1(client, ines, code_of(mail.outbox[-1].body))
    response = credentials(client, password="Garnier-2026!", password2="Garnier-2026!")
    assert "ne doit pas contenir vos nom" in response.content.decode()
    response = credentials(client, password="court", password2="court")
    assert "pas assez sûr" in response.content.decode()


def test_a_lost_code_is_regenerated_by_sms_or_email(client, ines):
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        response = client.post(
            reverse("portal:enrolment_regenerate"),
            {
                "nir": ines.ins,
                "vitale_serial": SERIAL,
                "birth_date": ines.birth_date.isoformat(),
                "channel": "email",
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    response = step1(client, ines, code_of(mail.outbox[-1].body))
    assert response.status_code == 302


def test_opposition_online_gives_a_pdf_proof(client, ines):
    step1(client, ines, code_of(mail.outbox[-1].body), url="portal:enrolment_opposition")
    response = client.post(reverse("portal:enrolment_opposition_confirm"), {})
    assert "Cochez la case" in response.content.decode()
    response = client.post(reverse("portal:enrolment_opposition_confirm"), {"confirm": "on"})
    assert response.url == reverse("portal:enrolment_opposition_done")
    assert Espace.objects.get(pk=ines.pk).state == EspaceState.OPPOSED
    pdf = client.get(reverse("portal:enrolment_opposition_proof"))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    # Another browser has no proof to download.
    client.cookies.clear()
    assert client.get(reverse("portal:enrolment_opposition_proof")).status_code == 404


def test_closure_logs_out_and_archives(client, camille):
    assert client.get(reverse("portal:enrolment_closure")).status_code == 302  # anonymous
    client.force_login(camille.user)
    response = client.post(
        reverse("portal:enrolment_closure"), {"confirm": "on", "password": "faux"}
    )
    assert "Mot de passe incorrect." in response.content.decode()
    response = client.post(
        reverse("portal:enrolment_closure"), {"confirm": "on", "password": PASSWORD}
    )
    assert response.url == reverse("portal:enrolment")
    espace = Espace.objects.get(pk=camille.pk)
    assert espace.state == EspaceState.CLOSED and espace.deletion_requested_at is None
    assert Trace.objects.filter(patient_id=camille.pk, action=TraceAction.ESPACE_CLOSED).exists()
    assert client.get(reverse("portal:home")).status_code == 302  # logged out
    response = client.post(
        reverse("portal:login"), {"identifier": "camille", "password": PASSWORD, "channel": "email"}
    )
    assert "clôturé" in response.content.decode()


def test_closing_one_profile_leaves_others_alone(client, camille, bob):
    client.force_login(bob.user)
    client.post(
        reverse("portal:enrolment_closure"),
        {"confirm": "on", "express_deletion": "on", "password": PASSWORD},
    )
    assert Espace.objects.get(pk=bob.pk).deletion_requested_at is not None
    assert not Espace.objects.filter(pk=camille.pk).exists()  # untouched: still active


def test_a_parent_activates_her_childs_espace_with_its_code(client, camille, louis):
    espace = lifecycle.espace_of(louis)
    Espace.objects.filter(pk=espace.pk).update(
        state=EspaceState.NOT_NOTIFIED, vitale_serial=SERIAL, attached_to=camille
    )
    lifecycle.espace_notify(actor=system_actor("test"), citizen_id=louis.pk)
    code = code_of(mail.outbox[-1].body)
    client.force_login(camille.user)
    page = client.get(reverse("portal:enrolment_children"))
    assert "Louis Lefèvre" in page.content.decode()
    response = client.post(reverse("portal:enrolment_children"), {"code": "AAAAA-AAAAA"})
    assert "ne permettent pas" in response.content.decode()
    response = client.post(reverse("portal:enrolment_children"), {"code": code})
    assert response.status_code == 302
    assert Espace.objects.get(pk=louis.pk).state == EspaceState.ACTIVE
    row = Trace.objects.get(
        patient_id=louis.pk, action=TraceAction.ESPACE_ACTIVATED, outcome=TraceOutcome.ALLOWED
    )
    assert row.actor_id == camille.ins


def _louis_notified(camille, louis):
    Espace.objects.update_or_create(
        citizen=louis,
        defaults={
            "state": EspaceState.NOT_NOTIFIED,
            "vitale_serial": SERIAL,
            "attached_to": camille,
        },
    )
    lifecycle.espace_notify(actor=system_actor("test"), citizen_id=louis.pk)
    return code_of(mail.outbox[-1].body)


def test_a_childs_notice_and_the_public_page_send_the_parent_to_their_account(
    client, camille, louis
):
    """mes-spec §3.2: a minor's espace is activated from the parent's own account, never
    given a login of its own; the code is not used up by the refusal."""
    code = _louis_notified(camille, louis)
    notice = mail.outbox[-1].body
    assert "Activer le profil d'un enfant" in notice and "votre propre profil" in notice
    response = client.post(
        reverse("portal:enrolment_activation"),
        {
            "code": code,
            "nir": camille.ins,
            "vitale_serial": SERIAL,
            "birth_date": louis.birth_date.isoformat(),
        },
    )
    assert response.status_code == 200
    assert "depuis votre propre profil" in response.content.decode()
    assert client.get(reverse("portal:enrolment_credentials")).status_code == 302
    client.force_login(camille.user)
    client.post(reverse("portal:enrolment_children"), {"code": code})
    assert Espace.objects.get(pk=louis.pk).state == EspaceState.ACTIVE
    assert louis.__class__.objects.get(pk=louis.pk).user_id is None


def test_a_parent_reopens_a_childs_closed_espace_from_her_account(client, camille, louis):
    """Closure, then reopening within the archive period (R1111-36), for a child: from the
    parent's account, with a new code sent to her."""
    from mes.access.actors import citizen_actor

    code = _louis_notified(camille, louis)
    row = lifecycle.match_code(lifecycle.children_to_activate(camille), code)
    lifecycle.espace_activate_for_child(actor=citizen_actor(camille), code_id=row.pk)
    lifecycle.espace_close(actor=citizen_actor(camille), citizen=louis, channel="en ligne")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        lifecycle.code_regenerate(
            nir=camille.ins, vitale_serial=SERIAL, birth_date=louis.birth_date, channel="email"
        )
    client.force_login(camille.user)
    page = client.get(reverse("portal:enrolment_children")).content.decode()
    assert "Louis Lefèvre" in page
    client.post(reverse("portal:enrolment_children"), {"code": code_of(mail.outbox[-1].body)})
    assert Espace.objects.get(pk=louis.pk).state == EspaceState.ACTIVE
    assert Trace.objects.filter(patient_id=louis.pk, action=TraceAction.ESPACE_REOPENED).exists()


def test_another_parent_cannot_use_a_childs_code(client, camille, louis, bob):
    Espace.objects.update_or_create(
        citizen=louis,
        defaults={
            "state": EspaceState.NOT_NOTIFIED,
            "vitale_serial": SERIAL,
            "attached_to": camille,
        },
    )
    lifecycle.espace_notify(actor=system_actor("test"), citizen_id=louis.pk)
    client.force_login(bob.user)
    response = client.post(
        reverse("portal:enrolment_children"), {"code": code_of(mail.outbox[-1].body)}
    )
    assert response.status_code == 200
    assert Espace.objects.get(pk=louis.pk).state == EspaceState.NOTIFIED


def test_the_demo_shows_the_card_data_of_the_person_to_activate(client, db, settings):
    settings.MES_DEMO = True
    from mes.demo.story_enrolment import INES_INS, NADIA_INS

    page = client.get(reverse("portal:enrolment")).content.decode()
    assert INES_INS in page and NADIA_INS in page  # to activate; to close without activating
    settings.MES_DEMO = False
    page = client.get(reverse("portal:enrolment")).content.decode()
    assert INES_INS not in page and NADIA_INS not in page


def test_guessing_is_slowed_per_browser_and_per_internet_connection(client, ines):
    """Ten failures stop a browser; a new session from the same address is slowed all the
    same (the sign-in's address counter: a script cannot start afresh with each try); another
    connection is untouched."""
    for _ in range(10):
        step1(client, ines, "ZZZZZ-ZZZZZ")
    stopped = step1(client, ines, "ZZZZZ-ZZZZZ").content.decode()
    assert "essais infructueux depuis ce navigateur" in stopped
    client.cookies.clear()  # a new session, the same connection: its first try is the
    step1(client, ines, "ZZZZZ-ZZZZZ")  # connection's 11th failure, past the free ones
    client.cookies.clear()
    slowed = step1(client, ines, "ZZZZZ-ZZZZZ").content.decode()
    assert "Trop de tentatives de saisie de code depuis votre connexion internet." in slowed
    assert "Réessayez dans" in slowed
    elsewhere = step1(client.__class__(REMOTE_ADDR="192.0.2.77"), ines, "ZZZZZ-ZZZZZ")
    assert "Réessayez dans" not in elsewhere.content.decode()
    assert "essais infructueux" not in elsewhere.content.decode()


def test_a_new_code_asked_too_often_names_the_card_entry(client, ines, settings):
    """« Générer un nouveau code » tries card data, not a code: its wait says so."""
    settings.MES_SIGNIN_ADDRESS_FREE_FAILURES = 1
    wrong = {
        "nir": ines.ins,
        "vitale_serial": "11111111",
        "birth_date": ines.birth_date.isoformat(),
        "channel": "email",
    }
    for _ in range(2):
        client.post(reverse("portal:enrolment_regenerate"), wrong)
    slowed = client.post(reverse("portal:enrolment_regenerate"), wrong).content.decode()
    assert "Trop de tentatives de saisie de carte Vitale depuis votre connexion internet" in slowed

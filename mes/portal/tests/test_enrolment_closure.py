"""Closing online an espace created and never activated, with the provisional code instead of
a sign-in (issue 14 §4, mes-spec §3.4 « at any time, directly »): the walk, its proof, and
each denial with its trace."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from mes.access.actors import citizen_actor, system_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_citizen
from mes.enrolment import lifecycle
from mes.enrolment.models import EnrolmentCode, Espace, EspaceState
from mes.identity.models import Citizen, User

from .test_enrolment_views import SERIAL, _louis_notified, code_of

NO_MATCH = "ne permettent pas de retrouver un profil"


def informed(first13: str = "2900375056045", first_name: str = "Nadia") -> tuple[Citizen, str]:
    """A person informed by the Assurance Maladie (NOTIFIED), with the code of the notice."""
    citizen = make_citizen(
        None,
        first13=first13,
        first_name=first_name,
        birth_name="Garnier",
        birth_date=date(1990, 3, 10),
        sex="F",
        email=f"{first_name.lower()}@example.org",
    )
    Espace.objects.create(citizen=citizen, state=EspaceState.NOT_NOTIFIED, vitale_serial=SERIAL)
    lifecycle.espace_notify(actor=system_actor("test"), citizen_id=citizen.pk)
    return citizen, code_of(mail.outbox[-1].body)


@pytest.fixture
def created(db) -> tuple[Citizen, str]:
    """Nadia did not oppose within the window: her espace is CREATED, never activated; the
    code of her notice still works."""
    nadia, code = informed()
    lifecycle.espace_create(actor=system_actor("test"), espace=Espace.objects.get(pk=nadia.pk))
    return nadia, code


def step1(client: Client, citizen: Citizen, code: str, *, serial: str = SERIAL):
    return client.post(
        reverse("portal:enrolment_closure_code"),
        {
            "code": code,
            "nir": citizen.ins,
            "vitale_serial": serial,
            "birth_date": citizen.birth_date.isoformat(),
        },
    )


def confirm(client: Client, **extra: str):
    return client.post(reverse("portal:enrolment_closure_code_confirm"), {"confirm": "on", **extra})


def new_code(citizen: Citizen) -> str:
    """« Générer un nouveau code provisoire » (at most one a minute: two minutes later)."""
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        lifecycle.code_regenerate(
            nir=citizen.ins, vitale_serial=SERIAL, birth_date=citizen.birth_date
        )
    return code_of(mail.outbox[-1].body)


def refusals(citizen: Citizen) -> list[Trace]:
    return list(
        Trace.objects.filter(
            patient_id=citizen.pk, action=TraceAction.ESPACE_CLOSED, outcome=TraceOutcome.REFUSED
        )
    )


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- The walk --------------------------------------------------------------------------------


def test_the_home_page_leads_to_closure_without_activation(client, db):
    page = client.get(reverse("portal:enrolment")).content.decode()
    assert reverse("portal:enrolment_closure_code") in page
    step = client.get(reverse("portal:enrolment_closure_code"))
    assert step.status_code == 200
    assert "Clôturer mon profil sans l'activer" in step.content.decode()


def test_a_created_never_activated_espace_is_closed_with_its_code(client, created):
    nadia, code = created
    response = step1(client, nadia, code)
    assert response.status_code == 302
    assert response.url == reverse("portal:enrolment_closure_code_confirm")
    page = client.get(response.url).content.decode()
    assert "Nadia Garnier" in page
    assert "archivées pendant 10 ans" in page and "sous 7 jours" in page
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.CREATED  # nothing yet

    unticked = client.post(reverse("portal:enrolment_closure_code_confirm"), {})
    assert "Cochez la case pour confirmer." in unticked.content.decode()
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.CREATED

    response = confirm(client)
    assert response.url == reverse("portal:enrolment_closure_code_done")
    espace = Espace.objects.get(pk=nadia.pk)
    assert espace.state == EspaceState.CLOSED and espace.deletion_requested_at is None
    assert espace.closed_at is not None
    assert espace.purge_due_at == espace.closed_at + settings.MES_ENROLMENT_ARCHIVE_DURATION
    event = espace.events.get(to_state=EspaceState.CLOSED)
    assert (event.from_state, event.channel) == (EspaceState.CREATED, lifecycle.ONLINE)
    # The code proved who she is; it is used up (a reopening takes a new one).
    assert not EnrolmentCode.objects.filter(espace=espace, used_at__isnull=True).exists()
    trace = Trace.objects.get(
        patient_id=nadia.pk, action=TraceAction.ESPACE_CLOSED, outcome=TraceOutcome.ALLOWED
    )
    assert trace.actor_kind == "citizen" and trace.actor_id == nadia.ins
    assert nadia.user_id is None and not User.objects.filter(email="nadia@example.org").exists()

    done = client.get(response.url).content.decode()
    assert "est clôturé" in done and "archivées pendant 10 ans" in done
    proof = client.get(reverse("portal:enrolment_closure_code_proof"))
    assert proof["Content-Type"] == "application/pdf"
    assert "justificatif-cloture" in proof["Content-Disposition"]
    text = pdf_text(proof.content)
    assert "Justificatif de clôture" in text and "Nadia Garnier" in text
    assert f"CLO-{event.at:%Y%m%d}-{event.pk:08d}" in text
    assert "archivées jusqu'au" in text and "rouvrir" in text


def test_express_deletion_is_asked_at_the_same_time(client, created):
    nadia, code = created
    step1(client, nadia, code)
    confirm(client, express_deletion="on")
    espace = Espace.objects.get(pk=nadia.pk)
    assert espace.state == EspaceState.CLOSED and espace.deletion_requested_at is not None
    assert espace.purge_due_at is not None
    assert espace.purge_due_at - espace.deletion_requested_at == (
        settings.MES_ENROLMENT_DELETION_GRACE
    )
    assert Trace.objects.filter(
        patient_id=nadia.pk, action=TraceAction.ESPACE_DELETION_ASKED
    ).exists()
    done = client.get(reverse("portal:enrolment_closure_code_done")).content.decode()
    assert "supprimées définitivement le" in done
    text = pdf_text(client.get(reverse("portal:enrolment_closure_code_proof")).content)
    assert "suppression des données" in text and "archivées jusqu'au" not in text


def test_a_closed_espace_reopens_with_a_new_code(client, created):
    """Closure is not the end: within the archive period a new code reopens it (R1111-36)."""
    nadia, code = created
    step1(client, nadia, code)
    confirm(client)
    reopening = new_code(nadia)
    response = client.post(
        reverse("portal:enrolment_activation"),
        {
            "code": reopening,
            "nir": nadia.ins,
            "vitale_serial": SERIAL,
            "birth_date": nadia.birth_date.isoformat(),
        },
    )
    assert response.url == reverse("portal:enrolment_credentials")


def test_a_parent_closes_a_childs_created_espace_with_the_childs_code(client, camille, louis):
    """As for opposition, each person separately, the notice's data: the parent's card."""
    code = _louis_notified(camille, louis)
    lifecycle.espace_create(actor=system_actor("test"), espace=Espace.objects.get(pk=louis.pk))
    response = client.post(
        reverse("portal:enrolment_closure_code"),
        {
            "code": code,
            "nir": camille.ins,
            "vitale_serial": SERIAL,
            "birth_date": louis.birth_date.isoformat(),
        },
    )
    assert response.status_code == 302
    assert "Louis Lefèvre" in client.get(response.url).content.decode()
    confirm(client)
    assert Espace.objects.get(pk=louis.pk).state == EspaceState.CLOSED
    assert lifecycle.espace_of(camille).state == EspaceState.ACTIVE  # hers untouched


# --- Denials ---------------------------------------------------------------------------------


def test_a_wrong_code_says_nothing_and_counts_toward_the_lock(client, created):
    nadia, _ = created
    response = step1(client, nadia, "ZZZZZ-ZZZZZ")
    assert response.status_code == 200 and NO_MATCH in response.content.decode()
    assert Espace.objects.get(pk=nadia.pk).code_failures == 1
    [refused] = refusals(nadia)
    assert refused.reason == "code provisoire incorrect"
    assert client.get(reverse("portal:enrolment_closure_code_confirm")).status_code == 302
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.CREATED


def test_a_wrong_card_serial_says_nothing(client, created):
    nadia, code = created
    response = step1(client, nadia, code, serial="11111111")
    assert NO_MATCH in response.content.decode()
    # No espace matches this card: nobody's chain is written, the same answer is given.
    assert refusals(nadia) == []
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.CREATED


def test_an_active_espace_is_answered_like_an_unknown_code(client, db):
    """An activated espace closes after signing in (password re-entered, portal.md §5.6):
    its code and card do not close it, and the page does not say it is active."""
    nadia, code = informed()
    row = lifecycle.code_check(
        nir=nadia.ins, vitale_serial=SERIAL, birth_date=nadia.birth_date, code=code
    )
    user = User.objects.create_user(username="nadia.garnier", password="Jardin-Secret-2026!")
    lifecycle.espace_activate(actor=citizen_actor(nadia), code_id=row.pk, user=user)
    response = step1(client, nadia, code)
    page = response.content.decode()
    errors = page[page.index('role="alert"') :]
    assert NO_MATCH in errors and "déjà" not in errors and "expiré" not in errors
    [refused] = refusals(nadia)
    assert "jamais activé" in refused.reason
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.ACTIVE


def test_an_opposed_espace_has_nothing_to_close(client, db):
    nadia, code = informed()
    lifecycle.espace_oppose(
        actor=citizen_actor(nadia), espace=Espace.objects.get(pk=nadia.pk), channel="en ligne"
    )
    # The notice's code was used up by the opposition: answered like an unknown code.
    assert NO_MATCH in step1(client, nadia, code).content.decode()
    # A new code (asked to change one's mind) proves the holder: told what is on record.
    page = step1(client, nadia, new_code(nadia)).content.decode()
    assert "opposition à la création de ce profil est enregistrée" in page
    assert len(refusals(nadia)) == 2
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.OPPOSED


def test_a_closed_espace_is_not_closed_twice(client, created):
    nadia, _ = created
    lifecycle.espace_close(
        actor=lifecycle.support_actor(User.objects.create_user(username="agent.3422")),
        citizen=nadia,
        channel=lifecycle.DESK,
    )
    page = step1(client, nadia, new_code(nadia)).content.decode()
    assert "Ce profil est déjà clôturé." in page
    [refused] = refusals(nadia)
    assert "jamais activé" in refused.reason
    assert Espace.objects.get(pk=nadia.pk).events.filter(to_state=EspaceState.CLOSED).count() == 1


def test_a_notified_espace_is_sent_to_opposition(client, db):
    nadia, code = informed()
    page = step1(client, nadia, code).content.decode()
    assert "opposez-vous à sa création avec ce même code" in page
    assert len(refusals(nadia)) == 1
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.NOTIFIED
    # The code was not used up: opposition still works with it.
    assert EnrolmentCode.objects.filter(espace_id=nadia.pk, used_at__isnull=True).exists()


def test_an_espace_activated_between_the_steps_is_not_closed(client, created):
    """The code checked at step 1 was used meanwhile (activated in another browser): the
    confirmation goes back to step 1 and closes nothing."""
    nadia, code = created
    step1(client, nadia, code)
    row = EnrolmentCode.objects.get(espace_id=nadia.pk, used_at__isnull=True)
    user = User.objects.create_user(username="nadia.garnier", password="Jardin-Secret-2026!")
    lifecycle.espace_activate(actor=citizen_actor(nadia), code_id=row.pk, user=user)
    response = confirm(client)
    assert response.url == reverse("portal:enrolment_closure_code")
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.ACTIVE


def test_an_espace_closed_at_the_desk_between_the_steps_keeps_its_code(created):
    """The state changed, the code did not: the closure with the code refuses and rolls back
    entirely (the code stays unused for a reopening)."""
    nadia, code = created
    row = lifecycle.closure_code_check(
        nir=nadia.ins, vitale_serial=SERIAL, birth_date=nadia.birth_date, code=code
    )
    lifecycle.espace_close(
        actor=lifecycle.support_actor(User.objects.create_user(username="agent.3422")),
        citizen=nadia,
        channel=lifecycle.DESK,
    )
    with pytest.raises(lifecycle.EnrolmentRefused, match="a changé d'état"):
        lifecycle.espace_close_with_code(actor=citizen_actor(nadia), code_id=row.pk)
    assert EnrolmentCode.objects.get(pk=row.pk).used_at is None
    [refused] = refusals(nadia)
    assert refused.actor_id == nadia.ins and "jamais activé" in refused.reason
    assert Espace.objects.get(pk=nadia.pk).events.filter(to_state=EspaceState.CLOSED).count() == 1


def test_another_browser_or_person_gets_no_step_and_no_proof(client, created, bob, dr_durand):
    """Anonymous, another patient signed in, an unrelated professional signed in: none of
    them reaches the confirmation or the proof of a closure made in another browser."""
    nadia, code = created
    step1(client, nadia, code)
    confirm(client)
    anonymous, patient, professional = Client(), Client(), Client()
    patient.force_login(bob.user)
    professional.force_login(dr_durand.user)
    for browser in (anonymous, patient, professional):
        response = browser.get(reverse("portal:enrolment_closure_code_confirm"))
        assert response.status_code == 302
        assert response.url == reverse("portal:enrolment_closure_code")
        assert browser.get(reverse("portal:enrolment_closure_code_done")).status_code == 404
        assert browser.get(reverse("portal:enrolment_closure_code_proof")).status_code == 404
    # Nor does an opposition proof stand for a closure's, or the reverse.
    assert client.get(reverse("portal:enrolment_opposition_proof")).status_code == 404


def test_guessing_is_throttled_and_the_wait_names_the_code(client, created):
    nadia, code = created
    for _ in range(10):
        step1(client, nadia, "ZZZZZ-ZZZZZ")
    stopped = step1(client, nadia, "ZZZZZ-ZZZZZ").content.decode()
    assert "essais infructueux depuis ce navigateur" in stopped
    client.cookies.clear()  # a new session from the same connection is slowed all the same
    step1(client, nadia, "ZZZZZ-ZZZZZ")
    client.cookies.clear()
    slowed = step1(client, nadia, "ZZZZZ-ZZZZZ").content.decode()
    assert "Trop de tentatives de saisie de code depuis votre connexion internet" in slowed
    assert "tentatives de connexion" not in slowed
    # Even the right code waits: the throttle comes before any check.
    client.cookies.clear()
    held = step1(client, nadia, code)
    assert held.status_code == 200 and "Réessayez dans" in held.content.decode()
    assert Espace.objects.get(pk=nadia.pk).state == EspaceState.CREATED

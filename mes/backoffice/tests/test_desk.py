"""Sophie, an agent of the 3422, finds Camille's espace by NIR, sees its history, sends a new
code, records a closure asked on the phone; everything under Sophie's own identity. She never
sees a document, and nobody else gets into the desk."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from mes.access.decision import Action, decide
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.backoffice.models_desk import SupportAgent
from mes.backoffice.testing import desk_login, emailed_code
from mes.conftest import PASSWORD, make_citizen, make_pdf, pro
from mes.enrolment.models import Espace, EspaceState
from mes.identity.models import OneTimeCode, User
from mes.records import actions as records


@pytest.fixture
def sophie(db):
    user = User.objects.create_user(
        username="sophie.agent",
        password=PASSWORD,
        kind=User.Kind.OPERATOR,
        first_name="Sophie",
        email="sophie@3422.example.org",
    )
    SupportAgent.objects.create(user=user)
    return user


@pytest.fixture
def desk(client, sophie):
    response = desk_login(client, "sophie.agent")
    assert response.url == reverse("backoffice:search")
    return client


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
    Espace.objects.create(
        citizen=citizen, state=EspaceState.NOTIFIED, vitale_serial="12345678901", phone="0611223344"
    )
    return citizen


def test_the_agent_finds_an_espace_and_its_history_without_any_health_content(
    desk, camille, dr_martin
):
    records.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Compte rendu de coloscopie",
        type_code="11488-4",
    )
    response = desk.get(reverse("backoffice:search"), {"nir": camille.ins})
    page = response.content.decode()
    assert "Camille Lefèvre" in page and "Activé" in page
    assert "coloscopie" not in page
    row = Trace.objects.get(patient_id=camille.pk, action=TraceAction.SUPPORT_CONSULT)
    assert row.actor_id == "support:sophie.agent" and row.actor_kind == "support"
    # The desk's actor has no standing on any dossier.
    from mes.enrolment.lifecycle import support_actor

    agent = support_actor(User.objects.get(username="sophie.agent"))
    assert not decide(agent, Action.READ, camille).allowed


def test_the_agent_resends_a_code_and_records_an_opposition(desk, ines):
    url = reverse("backoffice:resend", args=[ines.pk])
    desk.post(url, {"channel": "sms"})
    from mes.notifications import sms

    assert sms.outbox[-1][0] == "0611223344"
    desk.post(reverse("backoffice:oppose", args=[ines.pk]))
    espace = Espace.objects.get(pk=ines.pk)
    assert espace.state == EspaceState.OPPOSED
    event = espace.events.get(to_state=EspaceState.OPPOSED)
    assert event.channel == "3422" and "Sophie" in event.actor_name
    page = desk.get(reverse("backoffice:search"), {"nir": ines.ins}).content.decode()
    assert "Opposé à la création" in page


def test_the_agent_records_a_closure_with_deletion(desk, camille):
    desk.post(reverse("backoffice:close", args=[camille.pk]), {"express_deletion": "on"})
    espace = Espace.objects.get(pk=camille.pk)
    assert espace.state == EspaceState.CLOSED and espace.deletion_requested_at is not None
    closed = Trace.objects.get(patient_id=camille.pk, action=TraceAction.ESPACE_CLOSED)
    assert closed.actor_id == "support:sophie.agent"


def test_unknown_nir_is_said_plainly_and_traced_as_refused(desk, db):
    from mes.lib.ins import with_key

    response = desk.get(reverse("backoffice:search"), {"nir": with_key("1700169123099")})
    assert "Aucun profil" in response.content.decode()
    assert Trace.objects.filter(
        action=TraceAction.SUPPORT_CONSULT, outcome=TraceOutcome.REFUSED
    ).exists()


def test_nobody_but_an_agent_gets_in(client, camille, dr_martin, sophie):
    url = reverse("backoffice:search")
    assert client.get(url).status_code == 302  # anonymous: to the desk login
    client.force_login(camille.user)
    assert client.get(url, {"nir": camille.ins}).status_code == 404
    client.force_login(dr_martin.user)
    assert client.get(url, {"nir": camille.ins}).status_code == 404
    # A citizen's password does not open the desk either.
    client.logout()
    response = client.post(
        reverse("backoffice:login"), {"identifier": "camille", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert client.post(reverse("backoffice:oppose", args=[camille.pk])).status_code == 302
    assert not Trace.objects.filter(action=TraceAction.SUPPORT_CONSULT).exists()
    assert mail.outbox == []


def test_the_password_alone_does_not_open_the_desk_the_emailed_code_does(client, sophie):
    response = client.post(
        reverse("backoffice:login"), {"identifier": "sophie.agent", "password": PASSWORD}
    )
    assert response.url == reverse("backoffice:login_code")
    assert mail.outbox[-1].to == ["sophie@3422.example.org"]
    assert client.get(reverse("backoffice:search")).status_code == 302  # not logged in yet
    page = client.get(reverse("backoffice:login_code")).content.decode()
    assert "s•••@3422.example.org" in page
    code = emailed_code()
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(reverse("backoffice:login_code"), {"code": wrong})
    assert response.status_code == 200 and "incorrect" in response.content.decode()
    assert client.get(reverse("backoffice:search")).status_code == 302
    response = client.post(reverse("backoffice:login_code"), {"code": code})
    assert response.url == reverse("backoffice:search")
    assert client.get(reverse("backoffice:search")).status_code == 200
    # The code is used up.
    assert OneTimeCode.objects.get(user=sophie).used_at is not None


def test_guessing_the_code_stops_after_the_allowed_attempts(client, sophie, settings):
    client.post(reverse("backoffice:login"), {"identifier": "sophie.agent", "password": PASSWORD})
    code = emailed_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.MES_OTP_MAX_ATTEMPTS):
        client.post(reverse("backoffice:login_code"), {"code": wrong})
    response = client.post(reverse("backoffice:login_code"), {"code": code})
    assert response.status_code == 200  # the right code no longer works: ask a new one
    assert client.get(reverse("backoffice:search")).status_code == 302


def test_the_code_page_without_a_password_step_goes_back_to_the_login(client, sophie):
    assert client.get(reverse("backoffice:login_code")).url == reverse("backoffice:login")
    response = client.post(reverse("backoffice:login_code"), {"code": "123456"})
    assert response.url == reverse("backoffice:login")
    assert mail.outbox == []


def test_an_operator_who_is_not_an_agent_gets_no_code(client, db):
    User.objects.create_user(
        username="ops.only",
        password=PASSWORD,
        kind=User.Kind.OPERATOR,
        email="ops@example.org",
    )
    response = client.post(
        reverse("backoffice:login"), {"identifier": "ops.only", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in response.content.decode()
    assert mail.outbox == []


def test_an_agent_no_longer_active_gets_the_wrong_password_message_and_no_code(client, sophie):
    SupportAgent.objects.filter(user=sophie).update(active=False)
    response = client.post(
        reverse("backoffice:login"), {"identifier": "sophie.agent", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in response.content.decode()
    assert mail.outbox == [] and "desk_pending_login" not in client.session


def test_the_desk_login_always_lands_on_the_search(client, sophie):
    """The agents' login follows no `next`: the desk has one landing page."""
    client.post(
        reverse("backoffice:login") + "?next=/guichet/autre/",
        {"identifier": "sophie.agent", "password": PASSWORD, "next": "/pro/"},
    )
    assert client.session["desk_pending_login"]["next"] == ""
    response = client.post(reverse("backoffice:login_code"), {"code": emailed_code()})
    assert response.url == reverse("backoffice:search")


def test_the_agent_gives_the_proof_of_an_opposition_asked_on_the_phone(desk, ines):
    """mes-spec §3.2: an opposition at the 3422 gets its proof on request (the same PDF as
    online), for the agent to send; the download is traced under the agent."""
    proof = reverse("backoffice:opposition_proof", args=[ines.pk])
    assert desk.get(proof).status_code == 404  # no opposition yet
    desk.post(reverse("backoffice:oppose", args=[ines.pk]))
    page = desk.get(reverse("backoffice:search"), {"nir": ines.ins}).content.decode()
    assert proof in page
    response = desk.get(proof)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "attachment" in response["Content-Disposition"]
    given = Trace.objects.filter(
        patient_id=ines.pk, action=TraceAction.SUPPORT_CONSULT, reason="justificatif d'opposition"
    ).get()
    assert given.actor_id == "support:sophie.agent"


def test_only_an_agent_gets_an_opposition_proof(client, ines, camille, dr_martin, sophie):
    from mes.access.actors import citizen_actor
    from mes.enrolment import lifecycle

    lifecycle.espace_oppose(actor=citizen_actor(ines), espace=ines.espace, channel="en ligne")
    proof = reverse("backoffice:opposition_proof", args=[ines.pk])
    assert client.get(proof).status_code == 302  # anonymous: to the desk's login
    for someone in (camille, dr_martin):
        client.force_login(someone.user)
        assert client.get(proof).status_code == 404
    assert not Trace.objects.filter(action=TraceAction.SUPPORT_CONSULT).exists()


def test_the_agent_records_a_suspension_and_the_holders_objection(desk, camille):
    """R1111-36: the Assurance Maladie suspends an espace (serious malfunction or fraud) and
    informs the holder; the holder objects at the 3422 and the suspension is lifted. Both are
    recorded by the agent, with a reason, under the agent's identity."""
    from mes.notifications.models import Notification

    search = desk.get(reverse("backoffice:search"), {"nir": camille.ins}).content.decode()
    assert reverse("backoffice:suspend", args=[camille.pk]) in search
    assert reverse("backoffice:lift", args=[camille.pk]) not in search
    response = desk.post(reverse("backoffice:suspend", args=[camille.pk]), {"reason": " "})
    assert Espace.objects.filter(pk=camille.pk, state=EspaceState.SUSPENDED).count() == 0
    assert "Indiquez le motif" in desk.get(response.url).content.decode()

    desk.post(
        reverse("backoffice:suspend", args=[camille.pk]),
        {"reason": "usage frauduleux signalé"},
    )
    espace = Espace.objects.get(pk=camille.pk)
    assert espace.state == EspaceState.SUSPENDED and espace.suspended_at is not None
    suspended = Trace.objects.get(patient_id=camille.pk, action=TraceAction.ESPACE_SUSPENDED)
    assert suspended.actor_id == "support:sophie.agent"
    assert Notification.objects.filter(
        profile=camille, code=Notification.Code.ESPACE_LIFECYCLE, label__contains="suspendu"
    ).exists()
    page = desk.get(reverse("backoffice:search"), {"nir": camille.ins}).content.decode()
    assert "usage frauduleux signalé" in page
    assert reverse("backoffice:lift", args=[camille.pk]) in page

    desk.post(
        reverse("backoffice:lift", args=[camille.pk]),
        {"reason": "opposition de la titulaire au 3422, cause réglée"},
    )
    espace = Espace.objects.get(pk=camille.pk)
    assert espace.state == EspaceState.ACTIVE and espace.suspended_at is None
    event = espace.events.last()
    assert event.channel == "3422" and "Sophie" in event.actor_name


def test_only_the_assurance_maladie_or_the_desk_lifts_a_suspension(camille):
    from mes.access.actors import Actor, ActorKind, citizen_actor
    from mes.enrolment import lifecycle
    from mes.enrolment.lifecycle import EnrolmentRefused

    cnam = Actor(kind=ActorKind.INSURER, display_name="CNAM", national_id="CNAM")
    lifecycle.espace_suspend(actor=cnam, citizen=camille, reason="fraude")
    with pytest.raises(EnrolmentRefused):
        lifecycle.espace_lift_suspension(
            actor=citizen_actor(camille), citizen=camille, reason="moi"
        )
    assert Espace.objects.get(pk=camille.pk).state == EspaceState.SUSPENDED

"""Inès, informed by the Assurance Maladie, walks every state of her espace under a frozen
clock: notice, opposition window, creation, a professional's deposit before activation,
activation, suspension, automatic closure, reopening, closure with express deletion, purge.
Each transition writes its history row, its trace and its notification; each timer fires on
its day and not before."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from mes.access.actors import Actor, ActorKind, citizen_actor, system_actor
from mes.access.decision import Action, decide
from mes.audit import trace
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import PASSWORD, authorise, make_citizen, make_pdf, pro
from mes.enrolment import lifecycle
from mes.enrolment.lifecycle import EnrolmentRefused
from mes.enrolment.models import EnrolmentCode, Espace, EspaceEvent, EspaceState
from mes.enrolment.policies import EspaceUse, espace_allows
from mes.identity.actions import LoginRefused, login_check_password
from mes.identity.lookup import patient_search_by_ins
from mes.identity.models import Citizen, User
from mes.lib.errors import NotFound
from mes.records import actions as records
from mes.records.models import Document
from mes.vault.models import PatientKey

S = EspaceState
SERIAL = "802500000212"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def enrol(first13: str = "2900375056045", first_name: str = "Inès", **extra) -> Citizen:
    citizen = make_citizen(
        None,
        first13=first13,
        first_name=first_name,
        birth_name="Garnier",
        birth_date=extra.pop("birth_date", date(1990, 3, 10)),
        sex="F",
        email=extra.pop("email", "ines@example.org"),
    )
    Espace.objects.create(
        citizen=citizen, state=S.NOT_NOTIFIED, vitale_serial=SERIAL, phone="0612345678", **extra
    )
    return citizen


def code_in(text: str) -> str:
    match = re.search(r"code provisoire : ([A-Z0-9]{5}-[A-Z0-9]{5})", text)
    assert match, text
    return match.group(1)


def states(citizen: Citizen) -> list[str]:
    return list(EspaceEvent.objects.filter(espace_id=citizen.pk).values_list("to_state", flat=True))


def traced(citizen: Citizen) -> list[str]:
    return list(
        Trace.objects.filter(patient_id=citizen.pk, outcome=TraceOutcome.ALLOWED)
        .order_by("seq")
        .values_list("action", flat=True)
    )


def lifecycle_labels(citizen: Citizen) -> list[str]:
    return list(
        citizen.notifications.filter(code="VIE_PROFIL")
        .order_by("pk")
        .values_list("label", flat=True)
    )


@pytest.fixture
def ines(db):
    return enrol()


def test_ines_walks_every_state(ines, dr_durand, settings, django_capture_on_commit_callbacks):
    system = system_actor("test")
    authorise(ines, dr_durand)
    with time_machine.travel(T0, tick=False) as clock:
        # Notice by e-mail with a provisional code; the opposition window starts.
        result = lifecycle.espace_notify(actor=system, citizen_id=ines.pk)
        assert result.emailed and len(mail.outbox) == 1
        with pytest.raises(EnrolmentRefused, match="déjà été informée"):
            lifecycle.espace_notify(actor=system, citizen_id=ines.pk)
        assert len(mail.outbox) == 1  # never a second notice
        body = mail.outbox[0].body
        assert ines.ins not in body and "Inès" in body and "13 avril 2026" in body
        code = code_in(body)
        assert EnrolmentCode.objects.get().expires_at == T0 + settings.MES_ENROLMENT_CODE_VALIDITY

        # While notified the dossier does not exist for professionals.
        with pytest.raises(NotFound):
            records.document_deposit(
                actor=pro(dr_durand),
                patient_id=ines.pk,
                content=make_pdf(),
                title="Compte rendu",
                type_code="11488-4",
            )
        assert patient_search_by_ins(actor=pro(dr_durand), ins=ines.ins).patients == []

        # One second before the end of the window: nothing; at the end: created.
        clock.move_to(T0 + settings.MES_ENROLMENT_OPPOSITION_WINDOW - timedelta(seconds=1))
        assert lifecycle.sweep().created == 0
        clock.move_to(T0 + settings.MES_ENROLMENT_OPPOSITION_WINDOW)
        assert lifecycle.sweep().created == 1
        assert Espace.objects.get(pk=ines.pk).state == S.CREATED

        # Created, not activated: professionals deposit and read; she cannot mask or log in.
        doc = records.document_deposit(
            actor=pro(dr_durand),
            patient_id=ines.pk,
            content=make_pdf(),
            title="Compte rendu",
            type_code="11488-4",
        )
        assert decide(pro(dr_durand), Action.READ, ines, doc).allowed
        assert not decide(citizen_actor(ines), Action.MANAGE, ines).allowed
        assert not espace_allows(ines, EspaceUse.CITIZEN_SIDE)

        # The notice's code lasted 6 weeks too: expired now; she asks for a new one.
        clock.move_to(T0 + timedelta(weeks=7))
        with pytest.raises(EnrolmentRefused, match="a expiré"):
            lifecycle.code_check(
                nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, code=code
            )
        lifecycle.code_regenerate(
            nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, channel="email"
        )
        code = code_in(mail.outbox[-1].body)
        row = lifecycle.code_check(
            nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, code=code
        )
        user = User.objects.create_user(username="ines.g", password=PASSWORD)
        lifecycle.espace_activate(actor=citizen_actor(ines), code_id=row.pk, user=user)
        assert Espace.objects.get(pk=ines.pk).state == S.ACTIVE
        assert (
            login_check_password(identifier="ines.g", password=PASSWORD, address="192.0.2.10")
            == user
        )
        assert decide(citizen_actor(ines), Action.MANAGE, ines).allowed
        with pytest.raises(EnrolmentRefused, match="expiré ou a déjà été utilisé"):
            lifecycle.code_check(
                nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, code=code
            )

        # Suspended by the Assurance Maladie; without objection, closed 6 weeks later.
        cnam = Actor(kind=ActorKind.INSURER, display_name="CNAM", national_id="CNAM")
        t_susp = T0 + timedelta(weeks=10)
        clock.move_to(t_susp)
        lifecycle.espace_suspend(actor=cnam, citizen=ines, reason="usage frauduleux signalé")
        with pytest.raises(LoginRefused, match="suspendu"):
            login_check_password(identifier="ines.g", password=PASSWORD, address="192.0.2.10")
        clock.move_to(t_susp + settings.MES_ENROLMENT_SUSPENSION_TO_CLOSURE - timedelta(hours=1))
        assert lifecycle.sweep().closed == 0
        clock.move_to(t_susp + settings.MES_ENROLMENT_SUSPENSION_TO_CLOSURE)
        assert lifecycle.sweep().closed == 1
        espace = Espace.objects.get(pk=ines.pk)
        assert espace.state == S.CLOSED
        t_closed = t_susp + settings.MES_ENROLMENT_SUSPENSION_TO_CLOSURE
        assert espace.purge_due_at == t_closed + settings.MES_ENROLMENT_ARCHIVE_DURATION
        # A closed espace receives nothing and lets nobody in.
        with pytest.raises(NotFound):
            records.document_deposit(
                actor=pro(dr_durand),
                patient_id=ines.pk,
                content=make_pdf(),
                title="Autre",
                type_code="11488-4",
            )
        with pytest.raises(LoginRefused, match="clôturé"):
            login_check_password(identifier="ines.g", password=PASSWORD, address="192.0.2.10")

        # Reopening within the archive period with a new code: the document is back.
        clock.move_to(t_closed + timedelta(days=365))
        _, where = lifecycle.code_regenerate(
            nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, channel="email"
        )
        assert where == "l'adresse i•••@example.org"
        new_code = code_in(mail.outbox[-1].body)
        row = lifecycle.code_check(
            nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, code=new_code
        )
        lifecycle.espace_activate(actor=citizen_actor(ines), code_id=row.pk, user=None)
        assert Espace.objects.get(pk=ines.pk).state == S.ACTIVE
        assert decide(citizen_actor(ines), Action.READ, ines, doc).allowed
        # Each transition so far told her in her centre, in order.
        assert lifecycle_labels(ines) == [
            lifecycle.LABELS[S.NOTIFIED],
            lifecycle.LABELS[S.CREATED],
            lifecycle.LABELS[S.ACTIVE],
            lifecycle.LABELS[S.SUSPENDED],
            lifecycle.LABELS[S.CLOSED],
            "Votre profil est rouvert : vos données archivées sont restaurées.",
        ]

        # Closure with express deletion: purged after the grace period, not before.
        t_close2 = t_closed + timedelta(days=400)
        clock.move_to(t_close2)
        lifecycle.espace_close(
            actor=citizen_actor(ines), citizen=ines, channel="en ligne", express_deletion=True
        )
        clock.move_to(t_close2 + settings.MES_ENROLMENT_DELETION_GRACE - timedelta(minutes=1))
        assert lifecycle.sweep().purged == 0
        clock.move_to(t_close2 + settings.MES_ENROLMENT_DELETION_GRACE)
        with django_capture_on_commit_callbacks(execute=True):
            assert lifecycle.sweep().purged == 1

    espace = Espace.objects.get(pk=ines.pk)
    assert espace.state == S.PURGED
    # Her centre went with her data; the purge's own notice is all that is left.
    assert lifecycle_labels(ines) == [lifecycle.LABELS[S.PURGED]]
    # Crypto-shredding: the key is gone, the blobs and documents too; the login is ended.
    assert PatientKey.objects.get(patient_id=ines.pk).wrapped_key is None
    assert not Document.objects.filter(patient=ines).exists()
    assert not store_has_blob(ines, doc.pk)
    assert not User.objects.get(pk=user.pk).is_active
    # The trace chain stays verifiable, without the content.
    assert trace.verify_chain(str(ines.pk)) is None

    assert states(ines) == [
        S.NOTIFIED,
        S.CREATED,
        S.ACTIVE,
        S.SUSPENDED,
        S.CLOSED,
        S.ACTIVE,
        S.CLOSED,
        S.CLOSED,  # the express deletion request, recorded on the closed espace
        S.PURGED,
    ]
    actions = traced(ines)
    for action in (
        TraceAction.ESPACE_NOTIFIED,
        TraceAction.ENROLMENT_CODE,
        TraceAction.ESPACE_CREATED,
        TraceAction.ESPACE_ACTIVATED,
        TraceAction.ESPACE_SUSPENDED,
        TraceAction.ESPACE_CLOSED,
        TraceAction.ESPACE_REOPENED,
        TraceAction.ESPACE_DELETION_ASKED,
        TraceAction.ESPACE_PURGED,
    ):
        assert action in actions, action


def store_has_blob(citizen: Citizen, blob_id) -> bool:
    from django.core.files.storage import storages

    return storages["vault"].exists(f"{citizen.pk.hex[:2]}/{citizen.pk.hex}/{blob_id.hex}.bin")


def test_notice_goes_by_letter_without_email_and_names_nobody_by_ins(db):
    citizen = enrol(email="", address="3 rue des Lilas", postcode="75011", city="Paris")
    result = lifecycle.espace_notify(actor=system_actor("test"), citizen_id=citizen.pk)
    assert not result.emailed and mail.outbox == []
    assert Espace.objects.get(pk=citizen.pk).notice_channel == "letter"
    from mes.enrolment.notices import letters_pdf

    assert letters_pdf([result.notice]).startswith(b"%PDF-")


def test_opposition_hides_the_espace_from_professionals_then_she_changes_her_mind(ines, dr_durand):
    authorise(ines, dr_durand)
    lifecycle.espace_notify(actor=system_actor("test"), citizen_id=ines.pk)
    lifecycle.espace_oppose(actor=citizen_actor(ines), espace=ines.espace, channel="en ligne")
    assert lifecycle.sweep().created == 0
    assert Espace.objects.get(pk=ines.pk).state == S.OPPOSED
    assert patient_search_by_ins(actor=pro(dr_durand), ins=ines.ins).patients == []
    assert not decide(pro(dr_durand), Action.DEPOSIT, ines).allowed
    # Opposing twice is refused with a clear message… and so is opposing once created.
    with pytest.raises(EnrolmentRefused):
        lifecycle.espace_oppose(actor=citizen_actor(ines), espace=ines.espace, channel="3422")

    # « Changer d'avis »: a new code, then activation.
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        lifecycle.code_regenerate(
            nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, channel="sms"
        )
    from mes.notifications import sms

    code = re.search(r"([A-Z0-9]{5}-[A-Z0-9]{5})", sms.outbox[-1][1]).group(1)
    row = lifecycle.code_check(
        nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, code=code
    )
    user = User.objects.create_user(username="ines.g", password=PASSWORD)
    lifecycle.espace_activate(actor=citizen_actor(ines), code_id=row.pk, user=user)
    assert Espace.objects.get(pk=ines.pk).state == S.ACTIVE
    assert patient_search_by_ins(actor=pro(dr_durand), ins=ines.ins).patients == [ines]


def test_guessing_codes_locks_the_espace(ines):
    lifecycle.espace_notify(actor=system_actor("test"), citizen_id=ines.pk)
    right = code_in(mail.outbox[-1].body)
    for _ in range(settings.MES_ENROLMENT_CODE_MAX_FAILURES - 1):
        with pytest.raises(EnrolmentRefused, match="Vérifiez le code"):
            lifecycle.code_check(
                nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, code="AAAAA-AAAAA"
            )
    with pytest.raises(EnrolmentRefused, match="bloquée"):
        lifecycle.code_check(
            nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, code="AAAAA-AAAAA"
        )
    # Even the right code is refused while locked.
    with pytest.raises(EnrolmentRefused, match="bloquée"):
        lifecycle.code_check(
            nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, code=right
        )
    refused = Trace.objects.filter(patient_id=ines.pk, outcome=TraceOutcome.REFUSED)
    assert refused.count() == settings.MES_ENROLMENT_CODE_MAX_FAILURES
    with time_machine.travel(datetime.now(UTC) + settings.MES_ENROLMENT_CODE_LOCK):
        assert lifecycle.code_check(
            nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, code=right
        )


def test_wrong_card_serial_or_birth_date_tells_nothing(ines):
    lifecycle.espace_notify(actor=system_actor("test"), citizen_id=ines.pk)
    code = code_in(mail.outbox[-1].body)
    for serial, born in (("99999999", ines.birth_date), (SERIAL, date(1990, 3, 11))):
        with pytest.raises(EnrolmentRefused) as error:
            lifecycle.code_check(nir=ines.ins, vitale_serial=serial, birth_date=born, code=code)
        assert str(error.value) == lifecycle.NO_MATCH


def test_twins_on_one_card_give_their_first_name(camille):
    born = date(2020, 6, 1)
    twins = [
        enrol("1200675056011", "Léo", birth_date=born, email="", attached_to=camille),
        enrol("1200675056022", "Noé", birth_date=born, email="", attached_to=camille),
    ]
    for twin in twins:
        lifecycle.espace_notify(actor=system_actor("test"), citizen_id=twin.pk)
    # A minor's notice goes to the parent the child is attached to.
    assert [m.to for m in mail.outbox] == [["camille@example.org"]] * 2
    assert "le profil Mon espace santé de Léo Garnier" in mail.outbox[0].body
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        with pytest.raises(EnrolmentRefused, match="même date de naissance"):
            lifecycle.code_regenerate(nir=camille.ins, vitale_serial=SERIAL, birth_date=born)
        espace, _ = lifecycle.code_regenerate(
            nir=camille.ins, vitale_serial=SERIAL, birth_date=born, first_name="noé"
        )
    assert espace.pk == twins[1].pk
    # Typed without its accent, in capitals, the first name still tells the twins apart.
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=4)):
        espace, _ = lifecycle.code_regenerate(
            nir=camille.ins, vitale_serial=SERIAL, birth_date=born, first_name=" NOE "
        )
    assert espace.pk == twins[1].pk
    assert "Noé Garnier" in mail.outbox[-1].body


def test_only_a_closed_espace_is_purged_and_deletion_needs_closure(ines, camille):
    with pytest.raises(EnrolmentRefused):
        lifecycle.espace_purge(actor=system_actor("test"), citizen=camille)
    with pytest.raises(EnrolmentRefused):
        lifecycle.espace_request_deletion(
            actor=citizen_actor(camille), citizen=camille, channel="en ligne"
        )
    # Camille predates enrolment: her espace is active, and closing makes its row.
    lifecycle.espace_close(actor=citizen_actor(camille), citizen=camille, channel="en ligne")
    assert Espace.objects.get(pk=camille.pk).state == S.CLOSED


def test_a_professional_still_deposits_in_a_suspended_espace(camille, dr_martin):
    cnam = Actor(kind=ActorKind.INSURER, display_name="CNAM", national_id="CNAM")
    lifecycle.espace_suspend(actor=cnam, citizen=camille, reason="contrôle")
    assert decide(pro(dr_martin), Action.DEPOSIT, camille).allowed
    assert not decide(citizen_actor(camille), Action.READ, camille).allowed
    with pytest.raises(EnrolmentRefused):
        lifecycle.espace_suspend(actor=citizen_actor(camille), citizen=camille, reason="x")
    lifecycle.espace_lift_suspension(actor=cnam, citizen=camille, reason="levée")
    assert decide(citizen_actor(camille), Action.READ, camille).allowed
    assert lifecycle_labels(camille)[-1] == lifecycle.LABELS[S.ACTIVE]


def test_a_person_older_than_enrolment_is_active_since_they_were_created(db):
    """The desk shows « Activé depuis le … »: for someone who predates enrolment the espace made
    at the first lookup is dated from the person, not from the lookup."""
    with time_machine.travel(datetime(2024, 3, 1, 9, tzinfo=UTC), tick=False):
        person = make_citizen(
            None,
            first13="2600369123456",
            first_name="Odette",
            birth_name="Perrin",
            birth_date=date(1960, 3, 5),
            sex="F",
        )
    assert not Espace.objects.filter(citizen=person).exists()
    with time_machine.travel(datetime(2026, 12, 7, 9, tzinfo=UTC), tick=False):
        espace = lifecycle.espace_of(person)
    assert espace.state == EspaceState.ACTIVE
    assert espace.state_changed_at == datetime(2024, 3, 1, 9, tzinfo=UTC)


def test_the_first_notice_says_how_and_until_when_to_oppose(ines):
    """mes-spec §3.2: the notice tells the right to oppose and how, within 6 weeks from its
    sending; a later code (a new one, the majority's) has no such paragraph."""
    with time_machine.travel(T0, tick=False):
        lifecycle.espace_notify(actor=system_actor("test"), citizen_id=ines.pk)
    body = mail.outbox[-1].body
    assert "vous y opposer jusqu'au 13 avril 2026" in body
    assert "Je m'oppose à la création" in body and "3422" in body
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        lifecycle.espace_create(actor=system_actor("test"), espace=ines.espace)
        lifecycle.code_regenerate(
            nir=ines.ins, vitale_serial=SERIAL, birth_date=ines.birth_date, channel="email"
        )
    assert "vous y opposer" not in mail.outbox[-1].body

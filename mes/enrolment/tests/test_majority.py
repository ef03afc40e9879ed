"""Louis turns 18 (mes-spec §3.5 [INF], docs/decisions.md): Camille's access ends on his
birthday and not before, he receives his own activation notice, and the document he asked to
keep from his parents stays hidden from them throughout."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from mes.access.actors import citizen_actor
from mes.access.decision import Action, Role, decide, standing
from mes.audit.models import Trace, TraceAction
from mes.conftest import authorise, make_pdf, pro
from mes.enrolment import actions, lifecycle
from mes.enrolment.models import (
    EnrolmentCode,
    Espace,
    EspaceState,
    LegalRepresentation,
    ProfileShareRequest,
)
from mes.lib.errors import NotFound
from mes.records import actions as records

PARIS = ZoneInfo("Europe/Paris")


def test_at_eighteen_the_parents_let_go_and_secret_care_stays_secret(camille, louis, dr_martin):
    authorise(louis, dr_martin)
    louis.email = "louis@example.org"
    louis.save()
    secret = records.document_deposit(
        actor=pro(dr_martin),
        patient_id=louis.pk,
        content=make_pdf(),
        title="Consultation (soins confidentiels)",
        type_code="11488-4",
        hidden_from_representatives=True,
    )
    assert not decide(citizen_actor(camille), Action.READ, louis, secret).allowed
    birthday = louis.birth_date.replace(year=louis.birth_date.year + 18)
    eve = datetime.combine(birthday, time(23, 0), PARIS).replace(day=birthday.day - 1)
    with time_machine.travel(eve, tick=False) as clock:
        assert lifecycle.sweep().majorities == 0
        assert standing(citizen_actor(camille), louis).role is Role.REPRESENTATIVE
        clock.move_to(datetime.combine(birthday, time(6, 0), PARIS))
        assert lifecycle.sweep().majorities == 1

        assert not LegalRepresentation.objects.current().filter(represented=louis).exists()
        assert standing(citizen_actor(camille), louis).role is Role.NONE
        assert not decide(citizen_actor(camille), Action.READ, louis, secret).allowed
        espace = Espace.objects.get(pk=louis.pk)
        assert espace.state == EspaceState.CREATED and espace.attached_to is None
        # His own notice, to his own address, with a new code; professionals keep reading.
        notice = mail.outbox[-1]
        assert notice.to == ["louis@example.org"]
        assert re.search(r"[A-Z0-9]{5}-[A-Z0-9]{5}", notice.body)
        assert EnrolmentCode.objects.filter(espace=espace, used_at__isnull=True).count() == 1
        assert decide(pro(dr_martin), Action.READ, louis, secret).allowed
        assert Trace.objects.filter(patient_id=louis.pk, action=TraceAction.MAJORITY).exists()
        assert camille.notifications.filter(code="RAPPEL_RL_PASSAGE_MAJO").count() == 1
        assert louis.notifications.filter(code="RAPPEL_CONSENT_PASSAGE_MAJO").count() == 1
        # The sweep does it once.
        assert lifecycle.sweep().majorities == 0


def test_a_protected_adults_guardian_is_not_ended_by_the_sweep(camille, bob):
    # Bob, an adult under guardianship since last year: Camille is his tutrice.
    LegalRepresentation.objects.create(
        representative=camille, represented=bob, role=LegalRepresentation.Role.GUARDIAN
    )
    assert lifecycle.sweep().majorities == 0
    assert LegalRepresentation.objects.current().filter(represented=bob).exists()


def test_a_share_of_the_childs_profile_still_pending_at_eighteen_cannot_be_accepted(
    camille, louis, pierre
):
    """A « Partage du profil » asked while Louis was a minor and answered after his 18th
    birthday would start a representation after majority — one the sweep keeps, as a
    guardianship's: it is refused, and the request closed at the birthday."""
    request = actions.profile_share_request(
        actor=citizen_actor(camille),
        represented_id=louis.pk,
        birth_name="Lefèvre",
        first_name="Pierre",
        birth_date=date(1983, 6, 2),
        ins=pierre.ins,
        role="father",
    )
    birthday = louis.birth_date.replace(year=louis.birth_date.year + 18)
    with time_machine.travel(datetime.combine(birthday, time(6, 0), PARIS), tick=False):
        assert lifecycle.sweep().majorities == 1
        with pytest.raises(NotFound):
            actions.profile_share_accept(actor=citizen_actor(pierre), request_id=request.pk)
    assert not LegalRepresentation.objects.filter(representative=pierre).exists()
    assert not ProfileShareRequest.objects.get(pk=request.pk).pending

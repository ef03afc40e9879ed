"""The professional's side of access: declared consent, médecin traitant, emergency sessions,
first-access notification (mes-spec §4.8 TD0.2/TD0.3, §5.2–5.5, §5.8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from mes.access import actions
from mes.access.actors import AccessMode
from mes.access.decision import Action, decide
from mes.access.models import BreakGlassSession, ProfessionalAccess
from mes.audit.guard import Refused
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.lib.errors import Forbidden, InvalidInput, NotFound
from mes.notifications.models import Notification
from mes.records import actions as records

BREAK_GLASS = {"mode": AccessMode.BREAK_GLASS, "justification": "Patiente inconsciente, SMUR"}


def _traces(patient, action):
    return list(
        Trace.objects.filter(patient_id=patient.pk, action=action)
        .order_by("seq")
        .values_list("outcome", "actor_id", "access_mode")
    )


# --- Declared consent (TD0.3) ---------------------------------------------------------------


def test_declared_consent_opens_the_dossier_and_is_traced(camille, dr_durand):
    assert not decide(pro(dr_durand), Action.READ, camille).allowed

    row = actions.authorisation_declare(actor=pro(dr_durand), patient_id=camille.pk)

    assert row.status == ProfessionalAccess.Status.AUTHORISED
    assert row.source == ProfessionalAccess.Source.DECLARED_BY_PROFESSIONAL
    assert decide(pro(dr_durand), Action.READ, camille).allowed
    assert _traces(camille, TraceAction.GRANT_PRO) == [
        (TraceOutcome.ALLOWED, dr_durand.national_id, "normal")
    ]


def test_a_blocked_professional_cannot_declare_consent(camille, camille_actor, dr_durand):
    actions.authorisation_declare(actor=pro(dr_durand), patient_id=camille.pk)
    actions.professional_block(
        actor=camille_actor, patient_id=camille.pk, professional_id=dr_durand.pk
    )

    with pytest.raises(Forbidden, match="bloqué votre accès"):
        actions.authorisation_declare(actor=pro(dr_durand), patient_id=camille.pk)

    row = ProfessionalAccess.objects.get(patient=camille, professional=dr_durand)
    assert row.status == ProfessionalAccess.Status.BLOCKED
    assert (TraceOutcome.REFUSED, dr_durand.national_id, "normal") in _traces(
        camille, TraceAction.GRANT_PRO
    )


def test_declaring_oneself_treating_physician_replaces_the_previous_one(
    camille, dr_martin, dr_durand
):
    actions.authorisation_declare(
        actor=pro(dr_durand), patient_id=camille.pk, treating_physician=True
    )

    treating = ProfessionalAccess.objects.filter(patient=camille, is_treating_physician=True)
    assert [row.professional_id for row in treating] == [dr_durand.pk]
    assert _traces(camille, TraceAction.DECLARE_TREATING) == [
        (TraceOutcome.ALLOWED, dr_durand.national_id, "normal")
    ]


def test_only_a_medecin_is_treating_physician(camille, ide_bernard):
    with pytest.raises(Forbidden, match="Seul un médecin"):
        actions.authorisation_declare(
            actor=pro(ide_bernard), patient_id=camille.pk, treating_physician=True
        )
    assert not ProfessionalAccess.objects.filter(
        professional=ide_bernard, is_treating_physician=True
    ).exists()


def test_consent_is_not_declared_in_an_emergency(camille, dr_durand):
    with pytest.raises(Forbidden):
        actions.authorisation_declare(actor=pro(dr_durand, **BREAK_GLASS), patient_id=camille.pk)


def test_unknown_patient_and_non_professionals_get_not_found(camille, camille_actor, bob):
    with pytest.raises(NotFound):
        actions.authorisation_declare(actor=camille_actor, patient_id=bob.pk)
    assert _traces(bob, TraceAction.GRANT_PRO)[0][0] == TraceOutcome.REFUSED


def test_withdrawing_ones_authorisation(camille, dr_martin):
    actions.authorisation_withdraw(actor=pro(dr_martin), patient_id=camille.pk)

    row = ProfessionalAccess.objects.get(patient=camille, professional=dr_martin)
    assert row.status == ProfessionalAccess.Status.REVOKED and not row.is_treating_physician
    assert not decide(pro(dr_martin), Action.READ, camille).allowed
    with pytest.raises(InvalidInput):
        actions.authorisation_withdraw(actor=pro(dr_martin), patient_id=camille.pk)


# --- Emergency sessions ---------------------------------------------------------------------


def test_bris_de_glace_opens_a_bounded_session_and_tells_patient_and_mt(
    settings, camille, dr_martin, dr_durand, time_machine, django_capture_on_commit_callbacks
):
    dr_martin.email = "anne.martin@example.org"
    dr_martin.save()
    emergency = pro(dr_durand, **BREAK_GLASS)

    # The mode alone opens nothing: the emergency access must be opened (and is then traced).
    assert not decide(emergency, Action.READ, camille).allowed

    with django_capture_on_commit_callbacks(execute=True):
        session = actions.emergency_access_open(actor=emergency, patient_id=camille.pk)

    assert session.expires_at - session.opened_at == settings.MES_BREAK_GLASS_DURATION
    assert decide(emergency, Action.READ, camille).allowed
    # Idempotent while it lasts: one session, one trace, one notification.
    assert actions.emergency_access_open(actor=emergency, patient_id=camille.pk) == session
    assert _traces(camille, TraceAction.BREAK_GLASS) == [
        (TraceOutcome.ALLOWED, dr_durand.national_id, "bris_de_glace")
    ]
    trace = Trace.objects.get(patient_id=camille.pk, action=TraceAction.BREAK_GLASS)
    assert trace.justification == "Patiente inconsciente, SMUR"
    notes = Notification.objects.filter(profile=camille, code=Notification.Code.BREAK_GLASS)
    assert notes.count() == 1 and "Dr Paul Durand" in notes.get().label
    assert [m.to for m in mail.outbox] == [["anne.martin@example.org"]]
    assert "Patiente inconsciente, SMUR" in mail.outbox[0].body
    # No lasting authorisation, and the session ends.
    assert not ProfessionalAccess.objects.filter(professional=dr_durand).exists()
    time_machine.move_to(timezone.now() + settings.MES_BREAK_GLASS_DURATION + timedelta(1))
    assert not decide(emergency, Action.READ, camille).allowed


@pytest.mark.parametrize(
    "setting, mode, who",
    [
        ("oppose_break_glass", AccessMode.BREAK_GLASS, "dr_durand"),
        ("mask_everything", AccessMode.BREAK_GLASS, "dr_durand"),
        ("oppose_centre_15", AccessMode.CENTRE_15, "regulateur_samu"),
    ],
)
def test_emergency_refused_when_the_patient_opposed(
    request, camille, camille_actor, setting, mode, who
):
    actions.privacy_update(actor=camille_actor, patient_id=camille.pk, **{setting: True})
    professional = request.getfixturevalue(who)
    actor = pro(professional, mode=mode, justification="Détresse respiratoire")

    with pytest.raises(Refused):
        actions.emergency_access_open(actor=actor, patient_id=camille.pk)

    assert not BreakGlassSession.objects.exists()
    action = TraceAction.CENTRE_15 if mode is AccessMode.CENTRE_15 else TraceAction.BREAK_GLASS
    assert _traces(camille, action) == [(TraceOutcome.REFUSED, professional.national_id, mode)]
    assert not Notification.objects.filter(code=Notification.Code.BREAK_GLASS).exists()


def test_bris_de_glace_needs_a_justification(camille, dr_durand):
    with pytest.raises(Refused):
        actions.emergency_access_open(
            actor=pro(dr_durand, mode=AccessMode.BREAK_GLASS, justification="  "),
            patient_id=camille.pk,
        )
    trace = Trace.objects.get(patient_id=camille.pk, action=TraceAction.BREAK_GLASS)
    assert trace.reason == "justification du bris de glace manquante"


def test_centre_15_is_for_the_regulateur_of_a_samu(camille, dr_durand, regulateur_samu):
    with pytest.raises(Refused):
        actions.emergency_access_open(
            actor=pro(dr_durand, mode=AccessMode.CENTRE_15), patient_id=camille.pk
        )
    session = actions.emergency_access_open(
        actor=pro(regulateur_samu, mode=AccessMode.CENTRE_15), patient_id=camille.pk
    )
    assert session.mode == "centre_15"
    assert _traces(camille, TraceAction.CENTRE_15)[-1] == (
        TraceOutcome.ALLOWED,
        regulateur_samu.national_id,
        "centre_15",
    )


def test_a_blocked_professional_has_no_emergency_access(camille, camille_actor, dr_durand):
    actions.authorisation_declare(actor=pro(dr_durand), patient_id=camille.pk)
    actions.professional_block(
        actor=camille_actor, patient_id=camille.pk, professional_id=dr_durand.pk
    )
    with pytest.raises(Refused):
        actions.emergency_access_open(actor=pro(dr_durand, **BREAK_GLASS), patient_id=camille.pk)


# --- First access, standing -----------------------------------------------------------------


def test_the_first_access_of_a_professional_notifies_the_patient_once(camille, dr_martin):
    doc = records.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Compte rendu",
        type_code="11488-4",
    )
    firsts = Notification.objects.filter(profile=camille, code=Notification.Code.PRO_ACCESS)
    assert not firsts.exists()  # a deposit is no access to the dossier

    records.document_content(actor=pro(dr_martin), document_id=doc.pk)
    records.document_content(actor=pro(dr_martin), document_id=doc.pk)

    assert firsts.count() == 1
    assert "Dr Anne Martin" in firsts.get().label


def test_standing_tells_the_professional_only_their_own_status(
    camille, camille_actor, dr_martin, dr_durand
):
    mine = actions.professional_standing(professional_id=dr_martin.pk, patient=camille)
    assert (mine.authorisation, mine.is_treating_physician) == ("authorised", True)
    stranger = actions.professional_standing(professional_id=dr_durand.pk, patient=camille)
    assert (stranger.authorisation, stranger.emergency_until) == ("none", None)

    ProfessionalAccess.objects.filter(professional=dr_martin).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    expired = actions.professional_standing(professional_id=dr_martin.pk, patient=camille)
    assert expired.authorisation == "expired"

    actions.emergency_access_open(actor=pro(dr_durand, **BREAK_GLASS), patient_id=camille.pk)
    stranger = actions.professional_standing(professional_id=dr_durand.pk, patient=camille)
    assert stranger.emergency_until is not None

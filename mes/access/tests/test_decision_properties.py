"""The single decision function against an independent oracle (mes-spec §6.4).

Hypothesis draws who is asking (the holder, a legal representative, a proche aidant or a former
one, an unrelated citizen, a professional of any profession of the matrix or of none, the
insurer), the professional's relation
to the dossier and access mode, the patient's privacy settings and one document (type, flags,
status, author). For each draw, `decide(READ)` must agree with the oracle below, and the document
list (`documents_visible_to`) must agree with the single read: a list never shows what a read
refuses, and never hides what a read allows.

The oracle is written from the text, not from mes/access/decision.py: mes-spec §6.4 (the reference
algorithm), §4.6 (the visibility flags and the R1111-53 timers), §5.2–5.5, and the decisions taken
where the spec is silent (docs/decisions.md, decision.py): the médecin traitant bypasses the matrix
and the masking (L1111-16); the administrator sees masked documents; a blocked professional sees
nothing; « masquer tous vos documents » lets in only the citizen side, the administrator and the
médecin traitant, and refuses every emergency access (« y compris en cas d'urgence »); an
emergency reveals masked documents only when the patient chose so; bris de glace needs a
justification; Centre 15 is for a médecin régulateur of a SAMU; the insurer never reads; nobody
reads a deleted document.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from mes.access import matrix
from mes.access.actors import (
    AccessMode,
    Actor,
    ActorKind,
    carer_actor,
    citizen_actor,
    professional_actor,
)
from mes.access.decision import Action, decide, patient_with_facts
from mes.access.models import BreakGlassSession, PrivacySettings, ProfessionalAccess
from mes.carers.tests.conftest import delegate
from mes.conftest import make_citizen, make_professional
from mes.identity.models import Citizen, Organisation, Professional
from mes.lib import codes
from mes.records.models import Document
from mes.records.policies import documents_visible_to

MATRIX = matrix.current()

ACTOR_KINDS = [
    "holder",
    "representative",
    "carer",  # a proche aidant under an active delegation (portal.md §5.8)
    "former_carer",  # whose delegation was revoked: a stranger again
    "unrelated_citizen",
    "professional",
    "insurer",
]
RELATIONS = ["none", "authorised", "expired", "blocked", "treating", "administrator"]
MODES = ["normal", "break_glass", "break_glass_unjustified", "centre_15"]
# Every profession of the matrix, and one it does not know (it must read nothing).
PROFESSIONS = [*sorted(MATRIX.readable), "99"]
TYPE_CODES = sorted(code for code, t in codes.type_codes().items() if t.current)
STATUSES = [s.value for s in Document.Status]


@dataclass(frozen=True)
class Scenario:
    actor: str = "professional"
    profession: str = "10"
    relation: str = "authorised"
    mode: str = "normal"
    samu: bool = False  # the professional works for a SAMU
    oppose_break_glass: bool = False
    oppose_centre_15: bool = False
    emergency_reveals_masked: bool = False
    mask_everything: bool = False
    type_code: str = "11488-4"
    masked: bool = False
    hidden_from_patient: bool = False
    deposited_long_ago: bool = False  # more than a month ago (R1111-53 automatic release)
    released: bool = False  # released after a consultation d'annonce
    hidden_from_representatives: bool = False
    status: str = "current"
    author_is_actor: bool = False
    # An emergency reads only while the session opened for it lasts (mes-spec §5.4 [INF]).
    emergency_session: str = "open"  # open | expired | none


def oracle(s: Scenario) -> bool:
    """May this actor read this document? Transcribed from mes-spec §6.4 and §4.6."""
    if s.status == "deleted":
        return False
    if s.actor in ("holder", "representative", "carer"):
        released = not s.hidden_from_patient or s.released or s.deposited_long_ago
        if not released:
            return False  # R1111-53
        # R1111-50: hidden from the representatives, not from the holder; an aidant is no more
        # the holder than a representative is (portal.md §5.8 [INF]).
        return not (s.actor in ("representative", "carer") and s.hidden_from_representatives)
    if s.actor != "professional":
        return False  # an unrelated citizen; the insurer is a write-only feeder
    if s.relation == "blocked":
        return False
    is_mt = s.relation == "treating"
    is_admin = s.relation == "administrator"
    emergency = s.mode != "normal"
    if emergency and s.emergency_session != "open":
        return False
    if s.mode in ("break_glass", "break_glass_unjustified"):
        if s.oppose_break_glass or s.mask_everything or s.mode == "break_glass_unjustified":
            return False
    elif s.mode == "centre_15":
        if s.oppose_centre_15 or s.mask_everything:
            return False
        if not (s.profession == "10" and s.samu):
            return False
    else:
        if s.mask_everything and not (is_mt or is_admin):
            return False
        if s.relation not in ("authorised", "treating", "administrator"):
            return False  # none, or an expired authorisation
    if not is_mt and not MATRIX.allows(s.profession, s.type_code):
        return False  # L1111-16: the médecin traitant is exempt from the matrix
    # R1111-49: a masked document stays hidden, except from the médecin traitant, the
    # administrator, its author, and an emergency when the patient allowed it.
    return not s.masked or (
        is_mt or is_admin or s.author_is_actor or (emergency and s.emergency_reveals_masked)
    )


def _mostly(common: object, *rare: object) -> st.SearchStrategy[Any]:
    """The common value about three draws in four (and the one Hypothesis shrinks towards)."""
    return st.one_of(st.just(common), st.just(common), st.sampled_from([common, *rare]))


scenarios = st.builds(
    Scenario,
    # Professionals carry most of the rules: draw them more often.
    actor=st.one_of(st.just("professional"), st.sampled_from(ACTOR_KINDS)),
    # Médecins (and the nurse, the dentist, the podiatrist of the spec) more often than the rest,
    # so that the Centre 15 path (médecin of a SAMU) is reached.
    profession=st.one_of(st.sampled_from(["10", "60", "40", "80"]), st.sampled_from(PROFESSIONS)),
    relation=st.sampled_from(RELATIONS),
    mode=st.sampled_from(MODES),
    samu=st.booleans(),
    oppose_break_glass=st.booleans(),
    oppose_centre_15=st.booleans(),
    emergency_reveals_masked=st.booleans(),
    # Rare settings and states, so that they do not hide every other rule.
    mask_everything=_mostly(False, True),
    type_code=st.sampled_from(TYPE_CODES),
    emergency_session=_mostly("open", "expired", "none"),
    masked=st.booleans(),
    hidden_from_patient=st.booleans(),
    deposited_long_ago=st.booleans(),
    released=st.booleans(),
    hidden_from_representatives=st.booleans(),
    status=_mostly("current", *STATUSES),
    author_is_actor=st.booleans(),
)


@dataclass
class World:
    """The rows every example shares; each example adds its own inside a rolled-back savepoint."""

    patient: Citizen  # louis, a minor
    representative: Citizen  # camille, his mother
    stranger: Citizen  # bob
    carer: Citizen  # isabelle, Louis's proche aidant
    former_carer: Citizen  # jacqueline, whose access Louis's side ended
    samu: Organisation
    cabinet: Organisation
    other_author: Professional


@pytest.fixture
def world(louis: Citizen, camille: Citizen, bob: Citizen, samu: Organisation, cabinet) -> World:
    other = make_professional("19999999999", "Léa", "Autrice", "10", "SM04", cabinet)
    carer = make_citizen(
        "isabelle",
        first13="2750475056045",
        first_name="Isabelle",
        birth_name="Roux",
        birth_date=date(1975, 4, 3),
        sex="F",
    )
    former = make_citizen(
        "jacqueline",
        first13="2480275056123",
        first_name="Jacqueline",
        birth_name="Roux",
        birth_date=date(1948, 2, 11),
        sex="F",
    )
    delegate(louis, carer)
    delegate(louis, former, revoked_at=timezone.now())
    return World(louis, camille, bob, carer, former, samu, cabinet, other)


_rpps = itertools.count(20000000000)


def _build(world: World, s: Scenario) -> tuple[Actor, Document]:
    """The actor and the document of one scenario, written to the database."""
    now = timezone.now()
    PrivacySettings.objects.filter(patient=world.patient).update(
        oppose_break_glass=s.oppose_break_glass,
        oppose_centre_15=s.oppose_centre_15,
        emergency_reveals_masked=s.emergency_reveals_masked,
        mask_everything=s.mask_everything,
    )
    professional = None
    if s.actor == "professional":
        professional = Professional.objects.create(
            rpps=str(next(_rpps)),
            first_name="Sam",
            last_name="Essai",
            profession=s.profession,
            organisation=world.samu if s.samu else world.cabinet,
        )
        if s.relation != "none":
            ProfessionalAccess.objects.create(
                patient=world.patient,
                professional=professional,
                status=(
                    ProfessionalAccess.Status.BLOCKED
                    if s.relation == "blocked"
                    else ProfessionalAccess.Status.AUTHORISED
                ),
                expires_at=now - timedelta(days=1) if s.relation == "expired" else None,
                is_treating_physician=s.relation == "treating",
                is_administrator=s.relation == "administrator",
            )
    author = professional if (professional and s.author_is_actor) else world.other_author
    t = codes.type_codes()[s.type_code]
    deposited_at = now - (timedelta(days=40) if s.deposited_long_ago else timedelta(days=1))
    doc = Document.objects.create(
        patient=world.patient,
        unique_id=f"2.25.{next(_rpps)}",
        type_code=t.code,
        class_code=t.class_code,
        format_code="urn:ihe:iti:xds-sd:pdf:2008",
        category=codes.category_for_type(t.code),
        title="Document d'essai",
        mime_type="application/pdf",
        size=1,
        sha256="0" * 64,
        service_date=deposited_at.date(),
        created_at=deposited_at,
        deposited_at=deposited_at,
        author_kind=Document.AuthorKind.PROFESSIONAL,
        author_professional=author,
        author_label=author.display_name,
        status=s.status,
        masked_from_professionals=s.masked,
        hidden_from_patient=s.hidden_from_patient,
        hidden_from_patient_released_at=(
            now - timedelta(hours=1) if s.hidden_from_patient and s.released else None
        ),
        hidden_from_representatives=s.hidden_from_representatives,
    )
    return _actor(world, s, professional), doc


def _actor(world: World, s: Scenario, professional: Professional | None) -> Actor:
    if s.actor == "holder":
        return citizen_actor(world.patient)
    if s.actor == "representative":
        return citizen_actor(world.representative)
    if s.actor == "unrelated_citizen":
        return citizen_actor(world.stranger)
    if s.actor == "carer":
        return carer_actor(world.carer, aided=world.patient)
    if s.actor == "former_carer":
        return carer_actor(world.former_carer, aided=world.patient)
    if s.actor == "insurer":
        return Actor(kind=ActorKind.INSURER, display_name="Assurance Maladie", national_id="CNAM")
    assert professional is not None
    mode = {
        "normal": AccessMode.NORMAL,
        "break_glass": AccessMode.BREAK_GLASS,
        "break_glass_unjustified": AccessMode.BREAK_GLASS,
        "centre_15": AccessMode.CENTRE_15,
    }[s.mode]
    justification = "Patient inconscient aux urgences" if s.mode == "break_glass" else "  "
    if mode is not AccessMode.NORMAL and s.emergency_session != "none":
        lasts = timedelta(hours=1) if s.emergency_session == "open" else -timedelta(minutes=1)
        BreakGlassSession.objects.create(
            patient=world.patient,
            professional=professional,
            mode=mode.value,
            justification=justification,
            expires_at=timezone.now() + lasts,
        )
    return professional_actor(professional, mode=mode, justification=justification)


def check(world: World, s: Scenario) -> None:
    with transaction.atomic():
        actor, doc = _build(world, s)
        expected = oracle(s)
        decision = decide(actor, Action.READ, world.patient, doc)
        assert decision.allowed == expected, (s, decision.reason)
        # The facts the API reads with the patient in one query decide exactly the same.
        patient, facts = patient_with_facts(actor, world.patient.pk)
        assert patient is not None
        assert decide(actor, Action.READ, patient, doc, facts=facts) == decision, s
        event(decision.reason or "autorisé")
        if not decision.allowed:
            assert decision.reason, "a refusal always says why (for the trace)"
        listed = documents_visible_to(actor, world.patient).filter(pk=doc.pk).exists()
        # A list never shows what a read would refuse ...
        assert not listed or decision.allowed, s
        # ... and shows every readable document, except that the citizen's lists keep to the
        # current version of each document (superseded and archived ones are reached directly).
        citizen_side = s.actor in ("holder", "representative", "carer")
        if decision.allowed and not (citizen_side and s.status != "current"):
            assert listed, s
        # Reading a document implies reading the dossier it belongs to.
        if decision.allowed:
            assert decide(actor, Action.READ, world.patient).allowed, s
        transaction.set_rollback(True)


@settings(
    max_examples=800,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(s=scenarios)
# The médecin traitant reads a masked document outside the matrix of his profession.
@example(s=Scenario(relation="treating", masked=True, type_code="ATTEST-RESID"))
# The administrator sees masked documents, but stays within the matrix.
@example(s=Scenario(profession="60", relation="administrator", masked=True))
@example(s=Scenario(profession="60", relation="administrator", type_code="68599-0"))
# The author still sees the document the patient masked; another authorised doctor does not.
@example(s=Scenario(masked=True, author_is_actor=True))
@example(s=Scenario(masked=True))
# A blocked médecin sees nothing, even in an emergency.
@example(s=Scenario(relation="blocked", mode="break_glass"))
# « Masquer tous vos documents, y compris en cas d'urgence ».
@example(s=Scenario(mask_everything=True, relation="authorised"))
@example(s=Scenario(mask_everything=True, relation="administrator"))
@example(s=Scenario(mask_everything=True, relation="treating"))
@example(s=Scenario(mask_everything=True, relation="treating", mode="break_glass"))
@example(s=Scenario(mask_everything=True, relation="none", mode="centre_15", samu=True))
# Bris de glace: no authorisation needed, a justification is; masked only if the patient agreed.
@example(s=Scenario(relation="none", mode="break_glass"))
@example(s=Scenario(relation="expired", mode="break_glass_unjustified"))
@example(s=Scenario(relation="none", mode="break_glass", oppose_break_glass=True))
@example(s=Scenario(relation="none", mode="break_glass", masked=True))
@example(
    s=Scenario(relation="none", mode="break_glass", masked=True, emergency_reveals_masked=True)
)
# Centre 15: the médecin régulateur of a SAMU, unless the patient opposed it.
@example(s=Scenario(relation="none", mode="centre_15", samu=True))
# The emergency session is over, or was never opened: nothing is read.
@example(s=Scenario(relation="none", mode="break_glass", emergency_session="expired"))
@example(s=Scenario(relation="none", mode="centre_15", samu=True, emergency_session="none"))
@example(s=Scenario(relation="none", mode="centre_15", samu=False))
@example(s=Scenario(relation="none", mode="centre_15", samu=True, profession="60"))
@example(s=Scenario(relation="none", mode="centre_15", samu=True, oppose_centre_15=True))
# Expired authorisation; a profession the matrix does not know.
@example(s=Scenario(relation="expired"))
@example(s=Scenario(profession="99"))
# R1111-53 / R1111-50 on the citizen side.
@example(s=Scenario(actor="holder", hidden_from_patient=True))
@example(s=Scenario(actor="holder", hidden_from_patient=True, deposited_long_ago=True))
@example(s=Scenario(actor="representative", hidden_from_patient=True, released=True))
@example(s=Scenario(actor="representative", hidden_from_representatives=True))
@example(s=Scenario(actor="carer", hidden_from_representatives=True))
@example(s=Scenario(actor="carer", masked=True, type_code="ATTEST-RESID"))
@example(s=Scenario(actor="former_carer"))
@example(s=Scenario(actor="holder", hidden_from_representatives=True))
@example(s=Scenario(relation="authorised", profession="60", hidden_from_patient=True))
# Nobody reads a deleted document; the insurer and a stranger read nothing.
@example(s=Scenario(relation="treating", status="deleted"))
@example(s=Scenario(actor="holder", status="deleted"))
@example(s=Scenario(actor="holder", status="archived"))
@example(s=Scenario(actor="insurer"))
@example(s=Scenario(actor="unrelated_citizen"))
def test_decide_agrees_with_the_oracle_and_the_list_with_the_read(world: World, s: Scenario):
    check(world, s)


def test_the_draws_reach_both_outcomes():
    """Guard against a strategy that would only ever draw refusals (or only allowances)."""
    seen: set[bool] = set()

    @settings(max_examples=60, deadline=None, database=None)
    @given(s=scenarios)
    def draw(s: Scenario) -> None:
        seen.add(oracle(s))

    draw()
    assert seen == {True, False}

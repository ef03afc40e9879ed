"""The single place where access to a patient's dossier is decided (DESIGN.md §4, spec §6.4).

`standing(actor, patient)` says what this actor may do on this dossier and which documents they
may see; `decide(actor, action, patient, document)` applies it to one action. The document query
used for lists (`document_filter`) is built from the same Standing, next to `document_allowed`,
so that a list never shows what a direct read would refuse.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import FilteredRelation, Q, QuerySet
from django.utils import timezone

from mes.carers.models import CarerDelegation
from mes.enrolment.models import EspaceState, LegalRepresentation
from mes.enrolment.policies import REFUSALS, EspaceUse, state_allows, state_of
from mes.identity.models import Citizen, Organisation
from mes.lib.prepared import Prepared

from . import matrix
from .actors import AccessMode, Actor, ActorKind
from .models import BreakGlassSession, PrivacySettings, ProfessionalAccess

if TYPE_CHECKING:
    from mes.records.models import Document


class Action(StrEnum):
    READ = "read"  # list the dossier, open a document
    DEPOSIT = "deposit"  # add a document
    MANAGE = "manage"  # the holder's own choices: settings, masking, pins, folders, blocking
    EDIT_OWN = "edit_own"  # edit or delete a document the citizen side deposited
    READ_TRACES = "read_traces"
    # TD3.3: the author (or the médecin traitant) changes a document's visibility or status.
    PRO_MANAGE = "pro_manage"
    # What portal.md §5.8 keeps from a proche aidant: the holder's own account and espace.
    MANAGE_CARERS = "manage_carers"  # give, see and end the access of proches aidants
    MANAGE_ACCOUNT = "manage_account"  # contact details, login, password
    CLOSE_ESPACE = "close_espace"  # closure or deletion of the espace
    EXPORT_DATA = "export_data"  # « Télécharger mes données »
    # Services synchronisés (portal.md §5.5): change a paired service's purposes, approve its
    # new rights, unpair it. Opening the espace to a third party is a sharing choice, kept from
    # the proche aidant like the sharing with other aidants (§5.8); a legal representative
    # makes it for the person they represent.
    MANAGE_PAIRINGS = "manage_pairings"


class Role(StrEnum):
    NONE = "none"
    HOLDER = "holder"
    REPRESENTATIVE = "representative"
    CARER = "carer"  # a proche aidant under an active delegation (portal.md §5.8)
    PROFESSIONAL = "professional"
    INSURER = "insurer"
    APP = "app"  # a catalogue service paired with this espace (mes-spec §8)


@dataclass(frozen=True)
class Standing:
    """What one actor may do on one dossier, computed once per request."""

    role: Role
    reason: str  # why access is refused (empty when some access is possible)
    may_read: bool
    may_deposit: bool
    may_manage: bool
    readable_types: frozenset[str] | None  # None: every type
    sees_masked: bool
    sees_hidden_from_patient: bool
    sees_hidden_from_representatives: bool
    professional_id: object = None  # for "the author still sees what is masked"
    matrix_version: str = ""
    is_treating_physician: bool = False
    # For a paired app only: the (DataCategory, ExchangeAction) pairs its consented purposes
    # allow (mes.catalogue.policies); empty for every other actor.
    exchanges: frozenset[tuple[str, str]] = frozenset()

    @property
    def is_citizen_side(self) -> bool:
        return self.role in (Role.HOLDER, Role.REPRESENTATIVE, Role.CARER)


def _refused(role: Role, reason: str) -> Standing:
    return Standing(
        role=role,
        reason=reason,
        may_read=False,
        may_deposit=False,
        may_manage=False,
        readable_types=frozenset(),
        sees_masked=False,
        sees_hidden_from_patient=False,
        sees_hidden_from_representatives=False,
    )


@dataclass(frozen=True)
class DossierFacts:
    """What the decision reads of one dossier for one actor, fetched together by
    `patient_with_facts` (one query instead of four on the API's hot path). The rule that
    reads them stays here; a caller without facts gets them read one by one, as before."""

    privacy: PrivacySettings
    espace_state: str
    professional_id: object = None  # the professional whose access row was read
    access: ProfessionalAccess | None = None


def _facts_query(values: Mapping[str, Any]) -> QuerySet[Citizen]:
    """The patient with their privacy settings, their espace and (when `professional` is given)
    that professional's access row, in one query."""
    qs = Citizen.objects.filter(pk=values["patient"]).select_related("privacy", "espace")
    if "professional" in values:
        qs = qs.annotate(
            mine=FilteredRelation(
                "pro_accesses", condition=Q(pro_accesses__professional_id=values["professional"])
            )
        ).select_related("mine")  # type: ignore[misc]  # an alias django-stubs cannot see
    return qs[:1]


# Compiled once per process (mes.lib.prepared): only the two ids change between requests.
_FACTS: Prepared[Citizen] = Prepared(Citizen)


def patient_with_facts(
    actor: Actor, patient_id: uuid.UUID
) -> tuple[Citizen | None, DossierFacts | None]:
    """The patient and, in the same query, their privacy settings, their espace's state and
    (for a professional) that professional's access row. (None, None) when nobody."""
    professional_id = actor.professional_id if actor.kind is ActorKind.PROFESSIONAL else None
    values: dict[str, Any] = {"patient": patient_id}
    if professional_id is not None:
        values["professional"] = professional_id
    found = _FACTS.fetch(("facts", professional_id is not None), _facts_query, values)
    if not found:
        return None, None
    patient = found[0]
    privacy = getattr(patient, "privacy", None) if _cached(patient, "privacy") else None
    espace = getattr(patient, "espace", None) if _cached(patient, "espace") else None
    facts = DossierFacts(
        privacy=privacy or PrivacySettings(),
        espace_state=espace.state if espace else EspaceState.ACTIVE,
        professional_id=professional_id,
        access=getattr(patient, "mine", None) if professional_id is not None else None,
    )
    return patient, facts


def _cached(patient: Citizen, name: str) -> bool:
    """A reverse one-to-one loaded by select_related: present, or cached as absent."""
    try:
        getattr(patient, name)
    except ObjectDoesNotExist:
        return False
    return True


def _citizen_standing(actor: Actor, patient: Citizen) -> Standing:
    if actor.citizen_id == patient.id:
        role = Role.HOLDER
    elif (
        LegalRepresentation.objects.current()
        .filter(representative_id=actor.citizen_id, represented_id=patient.id)
        .exists()
    ):
        role = Role.REPRESENTATIVE
    elif (
        CarerDelegation.objects.active()
        .filter(carer_id=actor.citizen_id, aided_id=patient.id)
        .exists()
    ):
        # portal.md §5.8: the aidant sees, adds, edits and deletes data and documents like the
        # holder; what is kept from them is refused in decide() (HOLDER_ONLY_ACTIONS).
        role = Role.CARER
    else:
        return _refused(Role.NONE, "ni titulaire, ni représentant légal, ni proche aidant")
    return Standing(
        role=role,
        reason="",
        may_read=True,
        may_deposit=True,
        may_manage=True,
        readable_types=None,
        sees_masked=True,
        sees_hidden_from_patient=False,  # R1111-53
        sees_hidden_from_representatives=role is Role.HOLDER,  # R1111-50
    )


def _app_standing(actor: Actor, patient: Citizen) -> Standing:
    """A paired catalogue service: what its pairing with this espace and the purposes the
    citizen consented to allow, nothing else (mes-spec §8.1: prior consent always collected).
    Documents it may read are those the citizen who paired it sees."""
    from mes.catalogue.policies import pairing_facts  # the catalogue builds on this module

    facts = pairing_facts(actor.pairing_id, patient)
    if facts.refusal:
        return _refused(Role.APP, facts.refusal)
    documents_read = ("documents", "lecture") in facts.exchanges
    return Standing(
        role=Role.APP,
        reason="" if documents_read else "finalité non consentie (lecture des documents)",
        may_read=documents_read,
        may_deposit=("documents", "ecriture") in facts.exchanges,
        may_manage=False,
        readable_types=None,
        sees_masked=True,  # masking is about professionals; the app reads for the citizen
        sees_hidden_from_patient=False,  # R1111-53
        sees_hidden_from_representatives=facts.granted_by_holder,  # R1111-50
        exchanges=facts.exchanges,
    )


def _is_samu(actor: Actor) -> bool:
    if actor.organisation_id is None:
        return False
    return Organisation.objects.filter(
        pk=actor.organisation_id, kind=Organisation.Kind.SAMU
    ).exists()


def _professional_standing(
    actor: Actor, patient: Citizen, facts: DossierFacts | None = None
) -> Standing:
    assert actor.professional_id is not None
    the_matrix = matrix.current()
    if facts is not None and facts.professional_id == actor.professional_id:
        privacy, access = facts.privacy, facts.access
    else:
        privacy = PrivacySettings.objects.filter(patient=patient).first() or PrivacySettings()
        access = ProfessionalAccess.objects.filter(
            patient=patient, professional_id=actor.professional_id
        ).first()
    if access is not None and access.status == ProfessionalAccess.Status.BLOCKED:
        # A blocked professional neither reads nor writes (mes-spec §5.2 [INF]).
        return _refused(Role.PROFESSIONAL, "professionnel bloqué par l'usager")
    is_treating = bool(access and access.is_treating_physician)
    is_admin = bool(access and access.is_administrator)
    authorised = bool(
        access
        and access.status == ProfessionalAccess.Status.AUTHORISED
        and (access.expires_at is None or access.expires_at > timezone.now())
    )
    emergency = actor.mode in (AccessMode.BREAK_GLASS, AccessMode.CENTRE_15)

    may_read = True
    reason = ""
    # « Masquer tous vos documents, y compris en cas d'urgence »: the administrator and the
    # médecin traitant still read in normal mode, but no emergency access opens the dossier,
    # theirs included (mes-spec §6.4 refuses bris de glace and Centre 15 on mask_all; they need
    # no emergency mode to read, and an emergency access would notify and trace as one).
    if privacy.mask_everything and not emergency and not (is_admin or is_treating):
        may_read, reason = False, "l'usager a tout masqué, y compris en cas d'urgence"
    elif emergency:
        reason = emergency_refusal(actor, patient, privacy)
        if not reason and not emergency_session_open(actor, patient):
            reason = "aucun accès en urgence ouvert pour ce dossier, ou il a expiré"
        may_read = not reason
    elif not (authorised or is_treating):
        may_read, reason = False, "aucune autorisation d'accès"

    # L1111-16: the médecin traitant reads everything, bypassing the matrix and the masking.
    readable = None if is_treating else the_matrix.readable_types(actor.profession)
    sees_masked = is_treating or is_admin or (emergency and privacy.emergency_reveals_masked)
    return Standing(
        role=Role.PROFESSIONAL,
        reason=reason,
        may_read=may_read,
        # Without consent a professional may still send their documents (mes-spec §5.2).
        may_deposit=True,
        may_manage=False,
        readable_types=readable,
        sees_masked=sees_masked,
        sees_hidden_from_patient=True,
        sees_hidden_from_representatives=True,
        professional_id=actor.professional_id,
        matrix_version=the_matrix.version,
        is_treating_physician=is_treating,
    )


def emergency_refusal(
    actor: Actor, patient: Citizen, privacy: PrivacySettings | None = None
) -> str:
    """Why this emergency access may not be opened ("" when it may): the patient's oppositions
    (L1111-17 I, ZFA-6/7), « tout masquer », the justification of a bris de glace, and the
    Centre 15 reserved to the médecin régulateur of a SAMU (mes-spec §5.4, §5.5)."""
    if privacy is None:
        privacy = PrivacySettings.objects.filter(patient=patient).first() or PrivacySettings()
    if privacy.mask_everything:
        return "l'usager a tout masqué, y compris en cas d'urgence"
    if actor.mode is AccessMode.BREAK_GLASS:
        if privacy.oppose_break_glass:
            return "l'usager s'est opposé au bris de glace"
        if not actor.justification.strip():
            return "justification du bris de glace manquante"
        return ""
    if actor.mode is AccessMode.CENTRE_15:
        if privacy.oppose_centre_15:
            return "l'usager s'est opposé à l'accès du Centre 15"
        if actor.profession != "10" or not _is_samu(actor):
            return "réservé au médecin régulateur d'un SAMU"
        return ""
    return "mode d'accès normal : pas d'accès en urgence"


def emergency_session_open(actor: Actor, patient: Citizen) -> bool:
    """An emergency access is bounded in time (MES_BREAK_GLASS_DURATION, mes-spec §5.4 [INF]):
    it reads only while the session opened by `emergency_access_open` lasts."""
    if actor.professional_id is None:
        return False
    return BreakGlassSession.objects.filter(
        patient=patient,
        professional_id=actor.professional_id,
        mode=actor.mode.value,
        expires_at__gt=timezone.now(),
    ).exists()


def standing(actor: Actor, patient: Citizen, facts: DossierFacts | None = None) -> Standing:
    """Everything this actor may do on this patient's dossier, within what the espace's state
    allows (mes.enrolment.policies: an opposed espace never existed for professionals, a
    closed one receives nothing, the citizen side only once activated).
    `facts`: what `patient_with_facts` read with the patient (else read here)."""
    return _within_espace_state(_standing(actor, patient, facts), patient, facts)


def _within_espace_state(
    st: Standing, patient: Citizen, facts: DossierFacts | None = None
) -> Standing:
    state = facts.espace_state if facts is not None else state_of(patient)
    if (st.is_citizen_side or st.role is Role.APP) and not state_allows(
        state, EspaceUse.CITIZEN_SIDE
    ):
        # A paired app acts in the citizen's espace: only while the espace is active.
        return _refused(st.role, REFUSALS[EspaceUse.CITIZEN_SIDE])
    if st.role in (Role.PROFESSIONAL, Role.INSURER):
        may_read = st.may_read and state_allows(state, EspaceUse.PROFESSIONAL_READ)
        may_deposit = st.may_deposit and state_allows(state, EspaceUse.DEPOSIT)
        if (may_read, may_deposit) != (st.may_read, st.may_deposit):
            reason = st.reason or REFUSALS[EspaceUse.PROFESSIONAL_READ]
            if not state_allows(state, EspaceUse.PROFESSIONAL_READ):
                reason = REFUSALS[EspaceUse.PROFESSIONAL_READ]
            return Standing(
                **{
                    **st.__dict__,
                    "may_read": may_read,
                    "may_deposit": may_deposit,
                    "reason": reason,
                }
            )
    return st


def _standing(actor: Actor, patient: Citizen, facts: DossierFacts | None) -> Standing:
    if actor.kind is ActorKind.CITIZEN and actor.citizen_id is not None:
        return _citizen_standing(actor, patient)
    if actor.kind is ActorKind.PROFESSIONAL and actor.professional_id is not None:
        return _professional_standing(actor, patient, facts)
    if actor.kind is ActorKind.APP and actor.pairing_id is not None:
        return _app_standing(actor, patient)
    if actor.kind is ActorKind.INSURER:
        # The Assurance Maladie feeds reimbursements and never reads (mes-spec §1.2).
        refused = _refused(Role.INSURER, "l'Assurance Maladie ne lit pas le dossier")
        return Standing(**{**refused.__dict__, "may_deposit": True, "readable_types": frozenset()})
    return _refused(Role.NONE, "acteur sans droit sur les dossiers")


def document_allowed(st: Standing, doc: Document, now: datetime | None = None) -> tuple[bool, str]:
    """May the actor of this standing read this document?"""
    now = now or timezone.now()
    if not st.may_read:
        return False, st.reason
    if doc.status == doc.Status.DELETED:
        return False, "document supprimé"
    if not st.sees_hidden_from_patient and not doc.released_to_patient(now):
        return False, "document non encore visible par le patient (R1111-53)"
    if not st.sees_hidden_from_representatives and doc.hidden_from_representatives:
        return False, "document non visible par les représentants légaux (R1111-50)"
    if st.readable_types is not None and doc.type_code not in st.readable_types:
        return False, "type de document hors de la matrice d'habilitations"
    if (
        doc.masked_from_professionals
        and not st.sees_masked
        and not (st.professional_id and doc.author_professional_id == st.professional_id)
    ):
        return False, "document masqué aux professionnels"
    return True, ""


# Mon histoire de santé is read as the reimbursement data of the matrix (class 60, mes-spec §6.2).
CARE_HISTORY_TYPE_CODE = "REMB"


def care_history_allowed(st: Standing, *, masked: bool) -> tuple[bool, str]:
    """May the actor of this standing read the care history (portal.md §2.2)? The citizen side
    always; a professional who may read the dossier, whose profession the matrix lets read the
    reimbursement data, unless the citizen masked the history (then only those who see masked
    documents: the médecin traitant, the administrator, an emergency the patient allowed). The
    Assurance Maladie feeds it and never reads it (mes-spec §1.2)."""
    if st.role is Role.INSURER:
        return False, "l'Assurance Maladie alimente Mon histoire de santé mais ne la lit pas"
    if not st.may_read:
        return False, st.reason
    if st.is_citizen_side:
        return True, ""
    if st.readable_types is not None and CARE_HISTORY_TYPE_CODE not in st.readable_types:
        return False, "données de remboursement hors de la matrice d'habilitations"
    if masked and not st.sees_masked:
        return False, "Mon histoire de santé est masquée aux professionnels"
    return True, ""


def document_filter(st: Standing, now: datetime | None = None) -> Q:
    """The same rule as document_allowed, as a query condition (for lists and searches)."""
    now = now or timezone.now()
    if not st.may_read:
        return Q(pk__in=[])
    q = ~Q(status="deleted")
    if not st.sees_hidden_from_patient:
        release_cutoff = now - settings.MES_HIDDEN_FROM_PATIENT_RELEASE_AFTER
        q &= (
            Q(hidden_from_patient=False)
            | Q(hidden_from_patient_released_at__isnull=False)
            | Q(deposited_at__lte=release_cutoff)
        )
    if not st.sees_hidden_from_representatives:
        q &= Q(hidden_from_representatives=False)
    if st.readable_types is not None:
        q &= Q(type_code__in=sorted(st.readable_types))
    if not st.sees_masked:
        visible = Q(masked_from_professionals=False)
        if st.professional_id:
            visible |= Q(author_professional_id=st.professional_id)
        q &= visible
    return q


# portal.md §5.8: the aidant « ne peut pas » manage sharing with other aidants, change contact
# details, login or password, ask for closure, deletion or the data download. The account is
# the holder's; a legal representative manages the account of the person they represent, except
# the proches aidants, a choice of the adult aidé themselves.
ACCOUNT_ACTIONS: dict[Action, frozenset[Role]] = {
    Action.MANAGE_CARERS: frozenset({Role.HOLDER}),
    Action.MANAGE_ACCOUNT: frozenset({Role.HOLDER, Role.REPRESENTATIVE}),
    Action.CLOSE_ESPACE: frozenset({Role.HOLDER, Role.REPRESENTATIVE}),
    Action.EXPORT_DATA: frozenset({Role.HOLDER, Role.REPRESENTATIVE}),
    Action.MANAGE_PAIRINGS: frozenset({Role.HOLDER, Role.REPRESENTATIVE}),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    standing: Standing


def decide_exchange(actor: Actor, patient: Citizen, category: str, action: str) -> Decision:
    """May a paired app read or write one category of data (mes.catalogue.models.DataCategory,
    ExchangeAction) of this espace? Only apps exchange by purpose; everyone else is refused here
    and decided by `decide`. Pure: the caller writes the trace."""
    st = standing(actor, patient)
    if st.role is not Role.APP:
        return Decision(False, "réservé aux services synchronisés", st)
    if not st.exchanges and st.reason:
        return Decision(False, st.reason, st)
    if (category, action) not in st.exchanges:
        return Decision(False, f"finalité non consentie ({category}, {action})", st)
    return Decision(True, "", st)


def decide(
    actor: Actor,
    action: Action,
    patient: Citizen,
    document: Document | None = None,
    *,
    facts: DossierFacts | None = None,
) -> Decision:
    """Allow or refuse one action. Pure: the caller writes the trace (see the policies).
    `facts`: the dossier's facts read with the patient (`patient_with_facts`), if any."""
    st = standing(actor, patient, facts)
    if document is not None and document.patient_id != patient.id:
        return Decision(False, "document d'un autre dossier", st)
    if action is Action.READ:
        if document is None:
            return Decision(st.may_read, st.reason, st)
        ok, why = document_allowed(st, document)
        return Decision(ok, why, st)
    if action is Action.DEPOSIT:
        return Decision(st.may_deposit, st.reason or "", st)
    if action in (Action.MANAGE, Action.READ_TRACES):
        return Decision(st.may_manage, st.reason or "réservé au titulaire", st)
    if action is Action.PRO_MANAGE:
        if st.role is not Role.PROFESSIONAL or document is None:
            return Decision(False, "réservé à l'auteur ou au médecin traitant", st)
        ok, why = document_allowed(st, document)
        is_author = document.author_professional_id == st.professional_id
        if ok and not (is_author or st.is_treating_physician):
            return Decision(False, "réservé à l'auteur ou au médecin traitant", st)
        return Decision(ok, why, st)
    if action is Action.EDIT_OWN:
        if not st.is_citizen_side or document is None:
            return Decision(False, "réservé au titulaire", st)
        ok, why = document_allowed(st, document)
        if ok and not document.deposited_by_citizen:
            return Decision(False, "document déposé par un professionnel : non modifiable", st)
        return Decision(ok, why, st)
    if action in ACCOUNT_ACTIONS:
        if st.role in ACCOUNT_ACTIONS[action]:
            return Decision(True, "", st)
        if st.role is Role.CARER:
            return Decision(False, "interdit au proche aidant (portal.md §5.8)", st)
        return Decision(False, st.reason or "réservé au titulaire", st)
    return Decision(False, "action inconnue", st)

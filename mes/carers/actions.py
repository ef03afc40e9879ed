"""Proches aidants (portal.md §5.8, wave2.md §1.5): the aidé invites, the aidant answers, either
side ends the access. Every step is traced on the aidé's chain, with the other person's name in
`document_title`; refusals are traced and look like "not found".

What the aidant may then do in the aidé's espace is decided in mes/access/decision.py (Role.CARER).
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor, ActorKind, carer_actor, citizen_actor
from mes.access.decision import Action
from mes.access.patients import decided_patient
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.enrolment.policies import citizen_side_q
from mes.identity.models import Citizen
from mes.lib import ins as ins_lib
from mes.lib.errors import InvalidInput
from mes.notifications.actions import notify
from mes.notifications.models import Notification
from mes.records.actions import document_deposit

from . import proof
from .models import CarerDelegation, CarerInvitation

# wave2.md §1.5: the real service's messages.
NO_MATCH = "Profil introuvable, informations incorrectes ou compte Mon espace santé non actif."
ALREADY = "Une autre délégation existe déjà avec ce proche."
CARER_FULL = "Ce proche a atteint le nombre maximum de personnes aidées."
AIDED_FULL = "Vous avez atteint le nombre maximum de proches aidants."
NOT_DECLARED = "Cochez la déclaration pour envoyer votre demande."
EXPIRED = "Cette demande a expiré : la personne aidée peut vous en envoyer une nouvelle."


def _name_key(name: str) -> str:
    """Names compare without case, accents or surrounding spaces (« LEFÈVRE » = « Lefevre »)."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _aided_managed_by(actor: Actor, aided_id: uuid.UUID, action: TraceAction) -> Citizen:
    """The aidé, when the actor may manage their proches aidants (the holder only: never an
    aidant, portal.md §5.8). Otherwise NotFound, traced as `action`."""
    return decided_patient(actor, Action.MANAGE_CARERS, aided_id, refused_as=action)


@dataclass(frozen=True)
class CarersOverview:
    """« Donner accès à mon profil »: who has access, who was asked, what ended."""

    active: list[CarerDelegation]
    pending: list[CarerInvitation]
    past_invitations: list[CarerInvitation]
    limit: int

    @property
    def may_invite(self) -> bool:
        return len(self.active) + len(self.pending) < self.limit


@traced_action
def carers_overview(*, actor: Actor, aided_id: uuid.UUID) -> CarersOverview:
    """The aidé's proches aidants. Precondition: the holder (MANAGE_CARERS). Side effect: a
    CONSULT_AIDANTS trace."""
    aided = _aided_managed_by(actor, aided_id, TraceAction.CONSULT_CARERS)
    trace.record(actor=actor, action=TraceAction.CONSULT_CARERS, patient_id=aided.pk)
    invitations = CarerInvitation.objects.filter(aided=aided).select_related("carer")
    pending = list(invitations.pending().order_by("created_at"))
    past = [
        i
        for i in invitations.exclude(status=CarerInvitation.Status.ACCEPTED).order_by(
            "-created_at"
        )[:10]
        if i not in pending
    ]
    active = list(
        CarerDelegation.objects.active()
        .filter(aided=aided)
        .select_related("carer")
        .order_by("started_at")
    )
    return CarersOverview(
        active=active, pending=pending, past_invitations=past, limit=settings.MES_CARERS_PER_AIDED
    )


def _match(
    aided: Citizen, *, birth_name: str, first_name: str, birth_date: date, ins: str
) -> Citizen:
    """The aidant named by the four traits of their own activated espace (wave2.md §1.5
    delegationMatchPotentialDelegate). A mismatch never says which trait is wrong."""
    try:
        parsed = ins_lib.parse_ins(ins)
    except ins_lib.InvalidIns as error:
        raise InvalidInput(str(error), field="ins") from error
    # An activated espace, still open: a closed one receives nothing (mes-spec §3.1).
    carer = (
        Citizen.objects.filter(
            ins=parsed.value, birth_date=birth_date, user__isnull=False, user__is_active=True
        )
        .filter(citizen_side_q())
        .first()
    )
    if (
        carer is None
        or carer.pk == aided.pk
        or _name_key(carer.birth_name) != _name_key(birth_name)
        or _name_key(carer.first_name) != _name_key(first_name)
    ):
        raise InvalidInput(NO_MATCH)
    return carer


def _check_limits(aided: Citizen, carer: Citizen, *, counting_pending: bool) -> None:
    active = CarerDelegation.objects.active()
    if active.filter(aided=aided, carer=carer).exists():
        raise InvalidInput(ALREADY)
    taken = active.filter(aided=aided).count()
    if counting_pending:
        if CarerInvitation.objects.pending().filter(aided=aided, carer=carer).exists():
            raise InvalidInput(ALREADY)
        taken += CarerInvitation.objects.pending().filter(aided=aided).count()
    if taken >= settings.MES_CARERS_PER_AIDED:
        raise InvalidInput(AIDED_FULL)
    if active.filter(carer=carer).count() >= settings.MES_AIDED_PER_CARER:
        raise InvalidInput(CARER_FULL)


@traced_action
def carer_match(
    *,
    actor: Actor,
    aided_id: uuid.UUID,
    birth_name: str,
    first_name: str,
    birth_date: date,
    ins: str,
) -> Citizen:
    """« Je vérifie l'identité de mon proche aidant »: the person these traits name, when they
    may be invited. Precondition: the holder. Writes nothing; InvalidInput (French) otherwise."""
    aided = _aided_managed_by(actor, aided_id, TraceAction.CARER_INVITE)
    carer = _match(
        aided, birth_name=birth_name, first_name=first_name, birth_date=birth_date, ins=ins
    )
    _check_limits(aided, carer, counting_pending=True)
    return carer


@traced_action
def carer_invite(
    *,
    actor: Actor,
    aided_id: uuid.UUID,
    birth_name: str,
    first_name: str,
    birth_date: date,
    ins: str,
    declared: bool,
) -> CarerInvitation:
    """« Envoyer ma demande »: invite a proche aidant.

    Precondition: the holder (never an aidant), the declaration « Je déclare que la personne
    désignée est mon proche aidant » ticked, the aidant found by the four traits with an active
    espace, no delegation or pending invitation between them, fewer than 3 aidants (active or
    invited) for the aidé and fewer than 5 aidés for the aidant. Side effects: a pending
    invitation valid MES_CARER_INVITATION_VALIDITY, an INVITATION_AIDANT trace, a
    PARTAGE_PROFIL_AIDANT notification to the aidant.
    """
    aided = _aided_managed_by(actor, aided_id, TraceAction.CARER_INVITE)
    if not declared:
        raise InvalidInput(NOT_DECLARED, field="declaration")
    carer = _match(
        aided, birth_name=birth_name, first_name=first_name, birth_date=birth_date, ins=ins
    )
    # Serialise invitations of one aidé, so that two at once cannot pass the limit together.
    Citizen.objects.select_for_update().filter(pk=aided.pk).first()
    _check_limits(aided, carer, counting_pending=True)
    now = timezone.now()
    # A past pending row (expired by date) would block the unique constraint: close it first.
    CarerInvitation.objects.filter(
        aided=aided, carer=carer, status=CarerInvitation.Status.PENDING
    ).update(status=CarerInvitation.Status.EXPIRED)
    invitation = CarerInvitation.objects.create(
        aided=aided,
        carer=carer,
        created_at=now,
        expires_at=now + settings.MES_CARER_INVITATION_VALIDITY,
    )
    trace.record(
        actor=actor,
        action=TraceAction.CARER_INVITE,
        patient_id=aided.pk,
        document_title=carer.display_name,
    )
    notify(
        profile=carer,
        code=Notification.Code.CARER_INVITATION,
        label=f"{aided.display_name} vous demande de devenir son proche aidant.",
        url=reverse("portal:carers_invitation", args=[invitation.pk]),
        link_label="Voir la demande",
    )
    return invitation


def _pending_invitation(
    actor: Actor, invitation_id: int, action: TraceAction, *, answered_too: bool = False
) -> CarerInvitation:
    """A pending invitation addressed to the actor themselves (not while acting for someone);
    with `answered_too`, one they already answered (or that was cancelled) as well."""
    invitation = (
        CarerInvitation.objects.select_related("aided", "carer").filter(pk=invitation_id).first()
    )
    if (
        invitation is None
        or actor.kind is not ActorKind.CITIZEN
        or actor.on_behalf_of is not None
        or invitation.carer_id != actor.citizen_id
        or (not answered_too and invitation.status != CarerInvitation.Status.PENDING)
    ):
        raise Refused.because(
            actor,
            action,
            invitation.aided_id if invitation else None,
            "invitation adressée à une autre personne, ou close",
        )
    return invitation


@traced_action
def invitation_for(*, actor: Actor, invitation_id: int) -> CarerInvitation:
    """An invitation addressed to the actor, pending (possibly expired by date) or already
    closed, or NotFound. Closed ones are shown too: the notification that announced the request
    still links to it once it is answered, and must not lead to an error page."""
    return _pending_invitation(actor, invitation_id, TraceAction.CARER_ACCEPT, answered_too=True)


@traced_action
def carer_accept(*, actor: Actor, invitation_id: int) -> CarerDelegation:
    """The aidant accepts: « Accès complet validé ».

    Precondition: the invitation is addressed to the actor, pending and not expired, and the
    limits still hold. Side effects: a delegation until now + MES_CARER_DELEGATION_VALIDITY, the
    « justificatif d'accès » PDF saved in both espaces' Documents, an ACCORD_AIDANT trace on the
    aidé's chain, an ACCORD_PARTAGE_PROFIL_AIDANT notification to the aidé.
    """
    invitation = _pending_invitation(actor, invitation_id, TraceAction.CARER_ACCEPT)
    if invitation.expires_at <= timezone.now():
        raise InvalidInput(EXPIRED)
    aided, carer = invitation.aided, invitation.carer
    Citizen.objects.select_for_update().filter(pk=aided.pk).first()
    _check_limits(aided, carer, counting_pending=False)
    now = timezone.now()
    invitation.status = CarerInvitation.Status.ACCEPTED
    invitation.answered_at = now
    invitation.save(update_fields=["status", "answered_at"])
    delegation = CarerDelegation.objects.create(
        aided=aided,
        carer=carer,
        invitation=invitation,
        started_at=now,
        ends_at=now + settings.MES_CARER_DELEGATION_VALIDITY,
    )
    trace.record(
        actor=carer_actor(carer, aided=aided),
        action=TraceAction.CARER_ACCEPT,
        patient_id=aided.pk,
        document_title=carer.display_name,
    )
    content = proof.render(delegation)
    title = f"Justificatif d'accès – proche aidant ({carer.display_name})"
    # The aidant files it in the aidé's espace, where the new delegation now lets them in, and
    # in their own; the same bytes in both.
    aided_doc = document_deposit(
        actor=carer_actor(carer, aided=aided),
        patient_id=aided.pk,
        content=content,
        title=title,
        category="DOC_ADM",
        generated=True,
        masked=True,  # an administrative paper: no professional needs it
    )
    carer_doc = document_deposit(
        actor=citizen_actor(carer),
        patient_id=carer.pk,
        content=content,
        title=f"Justificatif d'accès – proche aidant de {aided.display_name}",
        category="DOC_ADM",
        generated=True,
        masked=True,
    )
    delegation.aided_proof_id = aided_doc.pk
    delegation.carer_proof_id = carer_doc.pk
    delegation.save(update_fields=["aided_proof_id", "carer_proof_id"])
    notify(
        profile=aided,
        code=Notification.Code.CARER_ACCEPTED,
        label=f"{carer.display_name} a accepté de devenir votre proche aidant.",
        url=reverse("portal:document", args=[aided_doc.pk]),
        link_label="Voir le justificatif",
    )
    return delegation


@traced_action
def carer_refuse(*, actor: Actor, invitation_id: int) -> CarerInvitation:
    """The aidant declines. Side effects: REFUS_AIDANT trace, REFUS_PARTAGE_PROFIL_AIDANT
    notification to the aidé."""
    invitation = _pending_invitation(actor, invitation_id, TraceAction.CARER_REFUSE)
    invitation.status = CarerInvitation.Status.REFUSED
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    trace.record(
        actor=actor,
        action=TraceAction.CARER_REFUSE,
        patient_id=invitation.aided_id,
        document_title=invitation.carer.display_name,
    )
    notify(
        profile=invitation.aided,
        code=Notification.Code.CARER_DECLINED,
        label=f"{invitation.carer.display_name} a refusé de devenir votre proche aidant.",
        url=reverse("portal:carers"),
        link_label="Mettre à jour les autorisations",
    )
    return invitation


@traced_action
def carer_invitation_cancel(*, actor: Actor, invitation_id: int) -> CarerInvitation:
    """The aidé withdraws a pending invitation. Precondition: the holder. Side effect: an
    ANNULATION_INVITATION_AIDANT trace."""
    invitation = CarerInvitation.objects.select_related("carer").filter(pk=invitation_id).first()
    if invitation is None:
        raise Refused.because(actor, TraceAction.CARER_CANCEL, None, "invitation inconnue")
    aided = _aided_managed_by(actor, invitation.aided_id, TraceAction.CARER_CANCEL)
    if invitation.status != CarerInvitation.Status.PENDING:
        raise InvalidInput("Cette demande n'est plus en attente.")
    invitation.status = CarerInvitation.Status.CANCELLED
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    trace.record(
        actor=actor,
        action=TraceAction.CARER_CANCEL,
        patient_id=aided.pk,
        document_title=invitation.carer.display_name,
    )
    return invitation


@traced_action
def carer_revoke(*, actor: Actor, delegation_id: int) -> CarerDelegation:
    """End an active delegation, from either side (portal.md §5.8).

    Precondition: the actor is the aidé (holder: MANAGE_CARERS) or the aidant of this delegation.
    Side effects: the delegation ends now, a FIN_ACCES_AIDANT trace on the aidé's chain, and a
    notification to the other side (REVOCATION_PAR_AIDE to the aidant, REVOCATION_PAR_AIDANT to
    the aidé).
    """
    delegation = (
        CarerDelegation.objects.active()
        .select_related("aided", "carer")
        .filter(pk=delegation_id)
        .first()
    )
    if delegation is None:
        raise Refused.because(
            actor, TraceAction.CARER_REVOKE, None, "délégation inconnue ou terminée"
        )
    aided, carer = delegation.aided, delegation.carer
    by_carer = actor.kind is ActorKind.CITIZEN and actor.citizen_id == carer.pk
    if not by_carer:
        _aided_managed_by(actor, aided.pk, TraceAction.CARER_REVOKE)
    delegation.revoked_at = timezone.now()
    delegation.revoked_by = (
        CarerDelegation.EndedBy.CARER if by_carer else CarerDelegation.EndedBy.AIDED
    )
    delegation.save(update_fields=["revoked_at", "revoked_by"])
    trace.record(
        actor=carer_actor(carer, aided=aided) if by_carer else actor,
        action=TraceAction.CARER_REVOKE,
        patient_id=aided.pk,
        document_title=carer.display_name,
    )
    if by_carer:
        notify(
            profile=aided,
            code=Notification.Code.CARER_REVOKED_BY_CARER,
            label=f"{carer.display_name} n'est plus votre proche aidant : son accès a pris fin.",
            url=reverse("portal:carers"),
            link_label="Mettre à jour les autorisations",
        )
    else:
        notify(
            profile=carer,
            code=Notification.Code.CARER_REVOKED_BY_AIDED,
            label=f"{aided.display_name} a mis fin à votre accès de proche aidant.",
            url=reverse("portal:carers"),
            link_label="Voir mes aidés",
        )
    return delegation


@dataclass(frozen=True)
class AidedOverview:
    """« Les personnes que j'aide »: the aidant's side."""

    active: list[CarerDelegation]
    invitations: list[CarerInvitation]  # pending, addressed to the aidant
    limit: int


def aided_of(*, actor: Actor) -> AidedOverview:
    """The actor's own delegations as aidant and the invitations waiting for their answer. Reads
    only the actor's own rows (no dossier is reached): nothing to trace."""
    if actor.kind is not ActorKind.CITIZEN or actor.citizen_id is None:
        return AidedOverview(active=[], invitations=[], limit=settings.MES_AIDED_PER_CARER)
    return AidedOverview(
        active=list(
            CarerDelegation.objects.active()
            .filter(carer_id=actor.citizen_id)
            .select_related("aided")
            .order_by("started_at")
        ),
        invitations=list(
            CarerInvitation.objects.pending()
            .filter(carer_id=actor.citizen_id)
            .select_related("aided")
            .order_by("created_at")
        ),
        limit=settings.MES_AIDED_PER_CARER,
    )

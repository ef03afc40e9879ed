"""Sharing the management of a represented person's profile (portal.md §6 « Partage du
profil »). Each step is traced on the represented person's chain."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Role, standing
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib import ins as ins_lib
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.actions import notify
from mes.notifications.models import Notification

from .models import LegalRepresentation, ProfileShareRequest
from .policies import citizen_side_q

NO_MATCH = (
    "Ces informations ne correspondent à aucun profil Mon espace santé activé. Vérifiez le nom "
    "de naissance, le prénom, la date de naissance et le numéro de sécurité sociale."
)


def _name_key(name: str) -> str:
    """Names compare without case, accents or surrounding spaces (« LEFÈVRE » = « Lefevre »):
    done here because SQLite folds only ASCII letters."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _represented_by(actor: Actor, represented_id: uuid.UUID, action: TraceAction) -> Citizen:
    """The represented person, when the actor is one of their current legal representatives.
    The holder of a profile does not share it: only a representative acts here."""
    represented = Citizen.objects.filter(pk=represented_id).first()
    if (
        represented is None
        or actor.kind is not ActorKind.CITIZEN
        or standing(actor, represented).role is not Role.REPRESENTATIVE
    ):
        raise Refused.because(
            actor,
            action,
            represented.pk if represented else None,
            "réservé aux représentants légaux du profil",
        )
    return represented


@traced_action
def managers_of(*, actor: Actor, represented_id: uuid.UUID) -> QuerySet[LegalRepresentation]:
    """« Le profil de X est géré par : » the current representations (for a representative)."""
    represented = _represented_by(actor, represented_id, TraceAction.SHARE_PROFILE)
    return (
        LegalRepresentation.objects.current()
        .filter(represented=represented)
        .select_related("representative")
        .order_by("started_at")
    )


def pending_requests_for(*, represented_id: uuid.UUID) -> QuerySet[ProfileShareRequest]:
    return ProfileShareRequest.objects.filter(
        represented_id=represented_id, accepted_at__isnull=True, closed_at__isnull=True
    ).select_related("invitee")


@traced_action
def profile_share_request(
    *,
    actor: Actor,
    represented_id: uuid.UUID,
    birth_name: str,
    first_name: str,
    birth_date: date,
    ins: str,
    role: str,
) -> ProfileShareRequest:
    """Invite another legal representative to manage the profile.

    Precondition: the actor is a current legal representative of the represented person. The
    invitee is found by the four traits of their own activated profile (birth name, first name,
    birth date, social security number); a mismatch says so without telling which trait is
    wrong. Side effects: a pending request, a PARTAGE_PROFIL trace on the represented person's
    chain, a notification to the invitee.
    """
    represented = _represented_by(actor, represented_id, TraceAction.SHARE_PROFILE)
    if role not in LegalRepresentation.Role.values:
        raise InvalidInput("Indiquez le lien avec l'enfant.", field="role")
    try:
        parsed = ins_lib.parse_ins(ins)
    except ins_lib.InvalidIns as error:
        raise InvalidInput(str(error), field="ins") from error
    # An activated espace, still open: a closed one receives nothing (mes-spec §3.1).
    invitee = (
        Citizen.objects.filter(ins=parsed.value, birth_date=birth_date, user__isnull=False)
        .filter(citizen_side_q())
        .first()
    )
    if (
        invitee is None
        or invitee.pk == represented.pk
        or _name_key(invitee.birth_name) != _name_key(birth_name)
        or _name_key(invitee.first_name) != _name_key(first_name)
    ):
        raise InvalidInput(NO_MATCH)
    already = LegalRepresentation.objects.current().filter(
        representative=invitee, represented=represented
    )
    if already.exists():
        raise InvalidInput(f"{invitee.display_name} gère déjà ce profil.")
    if pending_requests_for(represented_id=represented.pk).filter(invitee=invitee).exists():
        raise InvalidInput(
            f"Une demande de partage attend déjà la réponse de {invitee.display_name}."
        )
    assert actor.citizen_id is not None  # a representative is a citizen (_represented_by)
    request = ProfileShareRequest.objects.create(
        represented=represented,
        requested_by_id=actor.citizen_id,
        invitee=invitee,
        role=role,
    )
    trace.record(
        actor=actor,
        action=TraceAction.SHARE_PROFILE,
        patient_id=represented.pk,
        document_title=invitee.display_name,
    )
    notify(
        profile=invitee,
        code=Notification.Code.PROFILE_SHARE,
        label=(
            f"{actor.display_name} vous propose de gérer avec elle ou lui le profil de "
            f"{represented.display_name}."
        ),
        url=reverse("portal:share_invitation", args=[request.pk]),
        link_label="Répondre à la demande",
    )
    return request


def _invitation(actor: Actor, request_id: int, action: TraceAction) -> ProfileShareRequest:
    request = (
        ProfileShareRequest.objects.select_related("represented")
        .filter(pk=request_id, accepted_at__isnull=True, closed_at__isnull=True)
        .first()
    )
    if request is None or request.invitee_id != actor.citizen_id:
        raise Refused.because(
            actor,
            action,
            request.represented_id if request else None,
            "demande de partage adressée à une autre personne, ou close",
        )
    if (
        not LegalRepresentation.objects.current()
        .filter(representative_id=request.requested_by_id, represented_id=request.represented_id)
        .exists()
    ):
        # Whoever asked must still manage the profile when the answer comes (not after the
        # represented person's 18th birthday, nor after their own access ended).
        raise Refused.because(
            actor, action, request.represented_id, "l'auteur de la demande ne gère plus ce profil"
        )
    return request


def invitation_for(*, actor: Actor, request_id: int) -> ProfileShareRequest:
    """A pending request addressed to the actor, or NotFound."""
    request = invitations_of_actor(actor).filter(pk=request_id).first()
    if request is None:
        raise NotFound()
    return request


def invitations_of_actor(actor: Actor) -> QuerySet[ProfileShareRequest]:
    return ProfileShareRequest.objects.filter(
        invitee_id=actor.citizen_id, accepted_at__isnull=True, closed_at__isnull=True
    ).select_related("represented", "requested_by")


@traced_action
def profile_share_accept(*, actor: Actor, request_id: int) -> LegalRepresentation:
    """The invitee accepts « en tant que représentant légal »: they now manage the profile.
    Side effects: a LegalRepresentation, an ACCEPTATION_PARTAGE_PROFIL trace."""
    request = _invitation(actor, request_id, TraceAction.ACCEPT_SHARE)
    now = timezone.now()
    representation, _ = LegalRepresentation.objects.update_or_create(
        representative_id=request.invitee_id,
        represented_id=request.represented_id,
        defaults={"role": request.role, "started_at": now, "ended_at": None},
    )
    request.accepted_at = now
    request.save(update_fields=["accepted_at"])
    trace.record(actor=actor, action=TraceAction.ACCEPT_SHARE, patient_id=request.represented_id)
    return representation


@traced_action
def profile_share_decline(*, actor: Actor, request_id: int) -> ProfileShareRequest:
    """The invitee declines; nothing changes for the profile but the trace."""
    request = _invitation(actor, request_id, TraceAction.CANCEL_SHARE)
    request.closed_at = timezone.now()
    request.save(update_fields=["closed_at"])
    trace.record(actor=actor, action=TraceAction.CANCEL_SHARE, patient_id=request.represented_id)
    return request


@traced_action
def profile_share_cancel(*, actor: Actor, request_id: int) -> ProfileShareRequest:
    """A representative withdraws a pending request before it is answered."""
    request = ProfileShareRequest.objects.filter(pk=request_id).first()
    if request is None or not request.pending:
        raise NotFound()
    _represented_by(actor, request.represented_id, TraceAction.CANCEL_SHARE)
    request.closed_at = timezone.now()
    request.save(update_fields=["closed_at"])
    trace.record(
        actor=actor,
        action=TraceAction.CANCEL_SHARE,
        patient_id=request.represented_id,
        document_title=request.invitee.display_name,
    )
    return request

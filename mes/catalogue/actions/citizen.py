"""The Catalogue de services for citizens (mes-spec §8, wave2.md §1.4, portal.md §5.5): they
browse the catalogue and report a service; on the current profile (their own, or a represented
person's) they see the services synchronisés, change the purposes they consented to, approve a
service's new rights and unpair it.

What a citizen may do on a profile is decided by mes.access.decision (Action.READ to see the
pairings, Action.MANAGE_PAIRINGS to change them: the holder or a legal representative, never a
proche aidant). Refusals are traced and look like "not found". The pairing itself (OAuth, the
consent page) is mes.catalogue.pairing.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, decide
from mes.access.patients import decided_patient
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.notifications.channels.person import notify_through_channels
from mes.notifications.models import Notification

from ..models import (
    Category,
    Consent,
    DataCategory,
    Pairing,
    PairingToken,
    Purpose,
    Service,
    ServiceReport,
)
from ..policies import EXCHANGING, pairing_lapsed, service_exchanges
from .shared import UNKNOWN_PURPOSE, exchange_line

# The real service's texts (wave2.md §1.4, portal.md §5.5).
UNAVAILABLE = (
    "Ce service est temporairement indisponible. Vous pouvez tout de même le désynchroniser."
)
KEEP_ONE = (
    "Gardez au moins une autorisation, ou désynchronisez le service pour qu'il n'échange plus "
    "de données avec Mon espace santé."
)
LAPSED = (
    "La date limite de mise à jour des autorisations est passée : la synchronisation est "
    "arrêtée. Synchronisez de nouveau le service depuis son application."
)
NOTHING_TO_APPROVE = "Ce service n'a pas demandé de nouvelles autorisations."

# Shown in the catalogue; a dereferenced service is no longer referenced.
LISTED = (
    Service.Status.ONLINE,
    Service.Status.OFFLINE,
    Service.Status.PRESERIES,
    Service.Status.SUSPENDED,
)
NO_EXCHANGE = "aucune"  # the « sans échange de données » filter


# --- The catalogue, for citizens ---------------------------------------------------------------


def _fold(text: str) -> str:
    """Search without case or accents (« creche » finds « Crèche »)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _profile_read(actor: Actor, patient_id: uuid.UUID, action: TraceAction) -> Citizen:
    """The profile, when the actor may see it (holder, representative, aidant)."""
    return decided_patient(actor, Action.READ, patient_id, refused_as=action)


@dataclass(frozen=True)
class CatalogueEntry:
    service: Service
    synchronised: bool  # paired with the current profile


def _matches(service: Service, words: Sequence[str]) -> bool:
    haystack = _fold(
        " ".join((service.name, service.editor_name, service.summary, service.description))
    )
    return all(word in haystack for word in words)


@traced_action
def catalogue_search(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    category: str = "",
    data: str = "",
    query: str = "",
) -> list[CatalogueEntry]:
    """The referenced services for the current profile, filtered by thématique, by the data they
    exchange (a DataCategory, or `NO_EXCHANGE`) and by words of their name, editor or
    description (without case or accents). Precondition: the actor may see the profile."""
    patient = _profile_read(actor, patient_id, TraceAction.CONSULT_SYNCED_SERVICES)
    services = Service.objects.filter(status__in=LISTED)
    if category in Category.values:
        services = services.filter(category=category)
    if data == NO_EXCHANGE:
        services = services.filter(application__isnull=True)
    elif data in DataCategory.values:
        services = services.filter(
            application__isnull=False, purposes__exchanges__category=data
        ).distinct()
    words = [_fold(w) for w in query.split()][:10]
    paired = set(
        Pairing.objects.filter(patient=patient, status=Pairing.Status.ACTIVE).values_list(
            "service_id", flat=True
        )
    )
    return [
        CatalogueEntry(service=s, synchronised=s.pk in paired)
        for s in services.order_by("name")
        if not words or _matches(s, words)
    ]


@dataclass(frozen=True)
class PurposeView:
    purpose: Purpose
    lines: list[str]  # « Mesures ajoutées : glucose interstitiel… »
    consented: bool = False
    is_new: bool = False  # asked with the service's new rights, not approved yet


def _purposes_of(service: Service, published_up_to: int) -> list[Purpose]:
    return list(
        service.purposes.filter(since_version__lte=published_up_to).prefetch_related("exchanges")
    )


def _purpose_view(purpose: Purpose, **flags: bool) -> PurposeView:
    return PurposeView(
        purpose=purpose, lines=[exchange_line(e) for e in purpose.exchanges.all()], **flags
    )


@dataclass(frozen=True)
class ServicePage:
    service: Service
    purposes: list[PurposeView]
    pairing: Pairing | None  # the current profile's active pairing
    last_report_at: datetime | None  # the actor's last report of this service
    may_report: bool

    @property
    def available(self) -> bool:
        """« Synchroniser » or « Ce service est temporairement indisponible… »."""
        return self.service.status in EXCHANGING


@traced_action
def service_page(*, actor: Actor, patient_id: uuid.UUID, slug: str) -> ServicePage:
    """One service of the catalogue, its purposes in plain French and, for the current profile,
    whether it is synchronised. Precondition: the actor may see the profile; a dereferenced
    service is not found."""
    patient = _profile_read(actor, patient_id, TraceAction.CONSULT_SYNCED_SERVICES)
    service = Service.objects.filter(slug=slug, status__in=LISTED).first()
    if service is None:
        raise Refused.because(
            actor, TraceAction.CONSULT_SYNCED_SERVICES, patient.pk, "service non référencé"
        )
    pairing = Pairing.objects.filter(
        service=service, patient=patient, status=Pairing.Status.ACTIVE
    ).first()
    last = _last_report_at(actor, service)
    return ServicePage(
        service=service,
        purposes=[_purpose_view(p) for p in _purposes_of(service, service.rights_version)],
        pairing=pairing,
        last_report_at=last,
        may_report=_may_report(last),
    )


def _last_report_at(actor: Actor, service: Service) -> datetime | None:
    if actor.user_id is None:
        return None
    found: datetime | None = ServiceReport.objects.filter(
        service=service, reporter_id=actor.user_id
    ).aggregate(last=Max("created_at"))["last"]
    return found


def _may_report(last: datetime | None) -> bool:
    return last is None or last <= timezone.now() - settings.MES_CATALOGUE_REPORT_INTERVAL


@traced_action
def service_report(*, actor: Actor, slug: str, reason: str, comment: str = "") -> ServiceReport:
    """« Signaler ce service »: a citizen reports a service that does not meet the referencing
    requirements. At most one report per account and service per MES_CATALOGUE_REPORT_INTERVAL.
    Side effects: a ServiceReport for the operators; a SIGNALEMENT_SERVICE trace on the
    reporter's own chain."""
    if actor.kind is not ActorKind.CITIZEN or actor.user_id is None:
        raise Refused.because(actor, TraceAction.REPORT_SERVICE, None, "réservé aux usagers")
    service = Service.objects.filter(slug=slug, status__in=LISTED).first()
    if service is None:
        raise Refused.because(
            actor, TraceAction.REPORT_SERVICE, actor.citizen_id, "service inconnu"
        )
    if reason not in ServiceReport.Reason.values:
        raise InvalidInput("Choisissez le motif du signalement.", field="reason")
    comment = comment.strip()
    if len(comment) > 2000:
        raise InvalidInput("Le commentaire dépasse 2000 caractères.", field="comment")
    last = _last_report_at(actor, service)
    if not _may_report(last):
        assert last is not None
        local = timezone.localtime(last)
        raise InvalidInput(
            f"Vous avez déjà signalé ce service le {local:%d/%m/%Y} à {local:%H:%M}. "
            "Notre équipe l'examine : vous pourrez le signaler de nouveau demain."
        )
    report = ServiceReport.objects.create(
        service=service, reporter_id=actor.user_id, reason=reason, comment=comment
    )
    trace.record(
        actor=actor,
        action=TraceAction.REPORT_SERVICE,
        patient_id=actor.citizen_id,
        document_title=service.name,
    )
    return report


# --- Services synchronisés, for the holder and their legal representatives --------------------


class PairingState:
    ACTIVE = "active"
    REAPPROVAL = "reapproval"  # new rights to approve before the deadline
    UNAVAILABLE = "unavailable"  # the service is not exchanging (suspended, offline...)
    LAPSED = "lapsed"  # « Arrêté »: the deadline passed


def pairing_state(pairing: Pairing, now: datetime | None = None) -> str:
    """What « Services synchronisés » shows for a pairing, from its rows and the clock."""
    if pairing.status == Pairing.Status.LAPSED or pairing_lapsed(pairing, now):
        return PairingState.LAPSED
    if not service_exchanges(pairing.service):
        return PairingState.UNAVAILABLE
    if pairing.reapproval_deadline is not None:
        return PairingState.REAPPROVAL
    return PairingState.ACTIVE


@dataclass(frozen=True)
class PairingView:
    pairing: Pairing
    state: str
    purposes: list[PurposeView]  # the approved purposes, with the citizen's choice
    new_purposes: list[PurposeView]  # asked with the new rights (REAPPROVAL only)

    @property
    def service(self) -> Service:
        return self.pairing.service


def _pairing_view(pairing: Pairing) -> PairingView:
    service = pairing.service
    consented = set(Consent.objects.filter(pairing=pairing).values_list("purpose_id", flat=True))
    state = pairing_state(pairing)
    purposes: list[PurposeView] = []
    new: list[PurposeView] = []
    for p in _purposes_of(service, service.rights_version):
        fresh = p.since_version > pairing.approved_version
        view = _purpose_view(p, consented=p.pk in consented and not fresh, is_new=fresh)
        (new if fresh else purposes).append(view)
    if state != PairingState.REAPPROVAL:
        new = []
    return PairingView(pairing=pairing, state=state, purposes=purposes, new_purposes=new)


@dataclass(frozen=True)
class SyncedServices:
    views: list[PairingView]
    may_manage: bool  # False for a proche aidant: they see, they do not change


@traced_action
def synced_services(*, actor: Actor, patient_id: uuid.UUID) -> SyncedServices:
    """« Services synchronisés » of a profile: its active (and stopped) pairings with their
    purposes. Precondition: the actor may see the profile. Side effect: a
    CONSULT_SERVICES_SYNCHRONISES trace."""
    patient = _profile_read(actor, patient_id, TraceAction.CONSULT_SYNCED_SERVICES)
    trace.record(actor=actor, action=TraceAction.CONSULT_SYNCED_SERVICES, patient_id=patient.pk)
    pairings = (
        Pairing.objects.filter(
            patient=patient, status__in=(Pairing.Status.ACTIVE, Pairing.Status.LAPSED)
        )
        .select_related("service")
        .order_by("service__name")
    )
    return SyncedServices(
        views=[_pairing_view(p) for p in pairings],
        may_manage=decide(actor, Action.MANAGE_PAIRINGS, patient).allowed,
    )


def _pairing_managed(actor: Actor, pairing_id: uuid.UUID, action: TraceAction) -> Pairing:
    """The pairing, when the actor may manage the pairings of its espace; otherwise NotFound,
    traced as `action`."""
    pairing = (
        Pairing.objects.select_for_update()
        .select_related("service", "patient")
        .filter(pk=pairing_id)
        .first()
    )
    if pairing is None:
        raise Refused.because(actor, action, None, "appariement inconnu")
    decision = decide(actor, Action.MANAGE_PAIRINGS, pairing.patient)
    if not decision.allowed:
        raise Refused.because(
            actor, action, pairing.patient_id, decision.reason, document_title=pairing.service.name
        )
    if pairing.status == Pairing.Status.UNPAIRED:
        raise Refused.because(
            actor,
            action,
            pairing.patient_id,
            "service déjà désynchronisé",
            document_title=pairing.service.name,
        )
    return pairing


def _notify(patient: Citizen, label: str) -> None:
    """The SERVICES_SYNCHRONISES notification (portal.md §7.2 « (services) »): in the centre,
    and on the channels the holder and representatives chose, with a generic text."""
    notify_through_channels(
        profile=patient,
        code=Notification.Code.SYNCED_SERVICES,
        label=label,
        url=reverse("portal:catalogue_synced"),
        link_label="Voir mes services synchronisés",
    )


def _chosen(pairing: Pairing, codes: Collection[str], up_to: int) -> list[Purpose]:
    allowed = {p.code: p for p in _purposes_of(pairing.service, up_to)}
    unknown = set(codes) - set(allowed)
    if unknown:
        raise InvalidInput(UNKNOWN_PURPOSE)
    if not codes:
        raise InvalidInput(KEEP_ONE)
    return [allowed[c] for c in sorted(set(codes))]


def _set_consents(actor: Actor, pairing: Pairing, chosen: Sequence[Purpose]) -> tuple[int, int]:
    """Make the pairing's consents exactly `chosen`; trace each purpose given or withdrawn."""
    current = {c.purpose_id: c for c in Consent.objects.filter(pairing=pairing)}
    wanted = {p.pk: p for p in chosen}
    withdrawn = [c for pid, c in current.items() if pid not in wanted]
    given = [p for pid, p in wanted.items() if pid not in current]
    service = pairing.service
    for consent in withdrawn:
        consent.delete()
        trace.record(
            actor=actor,
            action=TraceAction.PAIRING_CONSENT_WITHDRAWN,
            patient_id=pairing.patient_id,
            document_title=f"{service.name} — {consent.purpose.label}"[:255],
        )
    for purpose in given:
        Consent.objects.create(pairing=pairing, purpose=purpose)
        trace.record(
            actor=actor,
            action=TraceAction.PAIRING_CONSENT_GIVEN,
            patient_id=pairing.patient_id,
            document_title=f"{service.name} — {purpose.label}"[:255],
        )
    return len(given), len(withdrawn)


def _pairing_exchanging(
    actor: Actor, pairing_id: uuid.UUID, action: TraceAction
) -> tuple[Pairing, str]:
    """The managed pairing and its state, when its consents may change: not stopped, and its
    service exchanging (InvalidInput otherwise, nothing changed)."""
    pairing = _pairing_managed(actor, pairing_id, action)
    state = pairing_state(pairing)
    if state == PairingState.LAPSED:
        raise InvalidInput(LAPSED)
    if state == PairingState.UNAVAILABLE:
        raise InvalidInput(UNAVAILABLE)
    return pairing, state


@traced_action
def pairing_consents_set(
    *, actor: Actor, pairing_id: uuid.UUID, purpose_codes: Collection[str]
) -> Pairing:
    """« J'autorise <service> à effectuer les actions suivantes sur Mon espace santé : »: the
    purposes the citizen keeps (at least one: withdrawing every purpose is asked as an
    unpairing). Takes effect at once, the service's tokens staying bound to fewer purposes.
    Preconditions: MANAGE_PAIRINGS on the espace, a pairing that still stands and a service that
    exchanges. Side effects: consent rows; one trace per purpose given or withdrawn; a
    SERVICES_SYNCHRONISES notification when something changed."""
    pairing, _ = _pairing_exchanging(actor, pairing_id, TraceAction.PAIRING_CONSENT_WITHDRAWN)
    chosen = _chosen(pairing, purpose_codes, pairing.approved_version)
    given, withdrawn = _set_consents(actor, pairing, chosen)
    if given or withdrawn:
        _notify(
            pairing.patient,
            f"Les autorisations accordées à {pairing.service.name} ont été modifiées.",
        )
    return pairing


@traced_action
def pairing_reapprove(
    *, actor: Actor, pairing_id: uuid.UUID, purpose_codes: Collection[str]
) -> Pairing:
    """« Mise à jour de mes autorisations »: the citizen approves the service's new rights before
    the deadline, choosing again purpose by purpose. Preconditions: MANAGE_PAIRINGS, a pending
    re-approval not past its deadline, a service that exchanges. Side effects: consents, the
    pairing's approved version, traces, a notification."""
    pairing, state = _pairing_exchanging(actor, pairing_id, TraceAction.PAIRING_REAPPROVED)
    if state != PairingState.REAPPROVAL:
        raise InvalidInput(NOTHING_TO_APPROVE)
    service = pairing.service
    chosen = _chosen(pairing, purpose_codes, service.rights_version)
    _set_consents(actor, pairing, chosen)
    pairing.approved_version = service.rights_version
    pairing.reapproval_deadline = None
    pairing.save(update_fields=["approved_version", "reapproval_deadline"])
    trace.record(
        actor=actor,
        action=TraceAction.PAIRING_REAPPROVED,
        patient_id=pairing.patient_id,
        document_title=service.name,
    )
    _notify(pairing.patient, f"Les autorisations de {service.name} sont à jour.")
    return pairing


def revoke_pairing_tokens(pairing: Pairing) -> int:
    """Revoke, through django-oauth-toolkit, everything issued for the pairing: pending
    authorization codes, access tokens, and refresh tokens with every rotation of their family,
    so that neither a call nor a refresh succeeds afterwards. Returns how many were revoked."""
    links = list(
        PairingToken.objects.filter(pairing=pairing).values_list(
            "grant_id", "access_token_id", "refresh_token_id"
        )
    )
    grant_ids = [g for g, _, _ in links if g is not None]
    access_ids = [a for _, a, _ in links if a is not None]
    refresh_ids = [r for _, _, r in links if r is not None]
    count = 0
    refresh_model = get_refresh_token_model()
    refreshes = refresh_model.objects.filter(
        Q(pk__in=refresh_ids) | Q(access_token_id__in=access_ids), revoked__isnull=True
    )
    for refresh in refreshes:
        family = getattr(refresh, "token_family", None)
        refresh.revoke()
        if family:
            refresh_model.revoke_family(family)
        count += 1
    for access in get_access_token_model().objects.filter(pk__in=access_ids):
        access.revoke()
        count += 1
    deleted, _ = get_grant_model().objects.filter(pk__in=grant_ids).delete()
    return count + deleted


def _end(pairing: Pairing, status: str) -> None:
    pairing.status = status
    pairing.ended_at = timezone.now()
    pairing.save(update_fields=["status", "ended_at"])
    revoke_pairing_tokens(pairing)


@traced_action
def pairing_unpair(*, actor: Actor, pairing_id: uuid.UUID) -> Pairing:
    """« Désynchroniser <service> »: the service « ne pourra plus échanger de données avec Mon
    espace santé ». Allowed whatever the service's status (a suspended service may still be
    unpaired) and for a stopped pairing. Preconditions: MANAGE_PAIRINGS. Side effects: the
    pairing ends, its tokens are revoked at once (a refresh fails too), a
    DESYNCHRONISATION_SERVICE trace, a notification."""
    pairing = _pairing_managed(actor, pairing_id, TraceAction.UNPAIR)
    _end(pairing, Pairing.Status.UNPAIRED)
    trace.record(
        actor=actor,
        action=TraceAction.UNPAIR,
        patient_id=pairing.patient_id,
        document_title=pairing.service.name,
    )
    _notify(
        pairing.patient,
        f"{pairing.service.name} est désynchronisé : il ne peut plus échanger de données avec "
        "Mon espace santé.",
    )
    return pairing

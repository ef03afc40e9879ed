"""The Catalogue de services for citizens and operators (mes-spec §8, wave2.md §1.4, portal.md
§5.5).

Citizens browse the catalogue and report a service; on the current profile (their own, or a
represented person's) they see the services synchronisés, change the purposes they consented to,
approve a service's new rights and unpair it. Catalogue operators (mes.backoffice.catalogue)
reference services, their purposes and logos, change their status, publish new rights and close
reports.

Every action is keyword-only with `actor` first; what a citizen may do on a profile is decided by
mes.access.decision (Action.READ to see the pairings, Action.MANAGE_PAIRINGS to change them:
the holder or a legal representative, never a proche aidant); what an operator may do by
`mes.catalogue.policies.is_catalogue_operator`. Refusals are traced and look like "not found".
The pairing itself (OAuth, the consent page) is mes.catalogue.pairing.
"""

from __future__ import annotations

import io
import secrets
import unicodedata
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, decide
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction, TraceOutcome
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.notifications.channels import Event, notify_many, notify_through_channels
from mes.notifications.models import Notification

from .models import (
    Category,
    Consent,
    DataCategory,
    ExchangeAction,
    Pairing,
    PairingToken,
    Purpose,
    PurposeExchange,
    Service,
    ServiceReport,
)
from .policies import EXCHANGING, is_catalogue_operator, pairing_lapsed, service_exchanges
from .registry import ExchangeSpec, reference_service

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
UNKNOWN_PURPOSE = "Cette autorisation n'existe pas pour ce service."
NOTHING_TO_APPROVE = "Ce service n'a pas demandé de nouvelles autorisations."

# Shown in the catalogue; a dereferenced service is no longer referenced.
LISTED = (
    Service.Status.ONLINE,
    Service.Status.OFFLINE,
    Service.Status.PRESERIES,
    Service.Status.SUSPENDED,
)
NO_EXCHANGE = "aucune"  # the « sans échange de données » filter

# « MESURES AJOUTÉES / CONSULTÉES » (wave2.md §1.4): what an exchange does, in plain French.
_EXCHANGE_TITLES: dict[tuple[str, str], str] = {
    (DataCategory.MEASURES, ExchangeAction.WRITE): "Mesures ajoutées",
    (DataCategory.MEASURES, ExchangeAction.READ): "Mesures consultées",
    (DataCategory.DOCUMENTS, ExchangeAction.WRITE): "Documents ajoutés",
    (DataCategory.DOCUMENTS, ExchangeAction.READ): "Documents consultés",
    (DataCategory.AGENDA, ExchangeAction.WRITE): "Rendez-vous ajoutés à l'agenda",
    (DataCategory.AGENDA, ExchangeAction.READ): "Rendez-vous de l'agenda consultés",
    (DataCategory.PROFILE, ExchangeAction.WRITE): "Profil médical complété",
    (DataCategory.PROFILE, ExchangeAction.READ): "Synthèse du profil médical reçue",
}


def exchange_title(category: str, action: str) -> str:
    return _EXCHANGE_TITLES.get((category, action), f"{category} ({action})")


def exchange_line(exchange: PurposeExchange) -> str:
    """« Mesures ajoutées : glucose interstitiel, HbA1c, index de gestion de glycémie »."""
    title = exchange_title(exchange.category, exchange.action)
    return f"{title} : {exchange.details}" if exchange.details else title


# --- The catalogue, for citizens ---------------------------------------------------------------


def _fold(text: str) -> str:
    """Search without case or accents (« creche » finds « Crèche »)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _profile_read(actor: Actor, patient_id: uuid.UUID, action: TraceAction) -> Citizen:
    """The profile, when the actor may see it (holder, representative, aidant)."""
    patient = Citizen.objects.filter(pk=patient_id).first()
    if patient is None:
        raise _refused(actor, action, None, "dossier inconnu")
    decision = decide(actor, Action.READ, patient)
    if not decision.allowed:
        raise _refused(actor, action, patient.pk, decision.reason)
    return patient


def _refused(
    actor: Actor,
    action: TraceAction,
    patient_id: uuid.UUID | None,
    why: str,
    title: str = "",
) -> Refused:
    return Refused(
        {
            "actor": actor,
            "action": action,
            "outcome": TraceOutcome.REFUSED,
            "patient_id": patient_id,
            "reason": why[:200],
            "document_title": title[:255],
        }
    )


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
        raise _refused(
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
        raise _refused(actor, TraceAction.REPORT_SERVICE, None, "réservé aux usagers")
    service = Service.objects.filter(slug=slug, status__in=LISTED).first()
    if service is None:
        raise _refused(actor, TraceAction.REPORT_SERVICE, actor.citizen_id, "service inconnu")
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
        raise _refused(actor, action, None, "appariement inconnu")
    decision = decide(actor, Action.MANAGE_PAIRINGS, pairing.patient)
    if not decision.allowed:
        raise _refused(actor, action, pairing.patient_id, decision.reason, pairing.service.name)
    if pairing.status == Pairing.Status.UNPAIRED:
        raise _refused(
            actor, action, pairing.patient_id, "service déjà désynchronisé", pairing.service.name
        )
    return pairing


def _synced_url() -> str:
    return reverse("portal:catalogue_synced")


def _notify(patient: Citizen, label: str) -> None:
    """The SERVICES_SYNCHRONISES notification (portal.md §7.2 « (services) »): in the centre,
    and on the channels the holder and representatives chose, with a generic text."""
    notify_through_channels(
        profile=patient,
        code=Notification.Code.SYNCED_SERVICES,
        label=label,
        url=_synced_url(),
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
    pairing = _pairing_managed(actor, pairing_id, TraceAction.PAIRING_CONSENT_WITHDRAWN)
    state = pairing_state(pairing)
    if state == PairingState.LAPSED:
        raise InvalidInput(LAPSED)
    if state == PairingState.UNAVAILABLE:
        raise InvalidInput(UNAVAILABLE)
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
    pairing = _pairing_managed(actor, pairing_id, TraceAction.PAIRING_REAPPROVED)
    state = pairing_state(pairing)
    if state == PairingState.LAPSED:
        raise InvalidInput(LAPSED)
    if state == PairingState.UNAVAILABLE:
        raise InvalidInput(UNAVAILABLE)
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


# --- Catalogue operators ----------------------------------------------------------------------


def _operator(actor: Actor, action: TraceAction, title: str = "") -> None:
    if not is_catalogue_operator(actor):
        raise _refused(actor, action, None, "réservé aux opérateurs du catalogue", title)


def _service_for_operator(actor: Actor, service_id: uuid.UUID, action: TraceAction) -> Service:
    _operator(actor, action)
    service = Service.objects.select_for_update().filter(pk=service_id).first()
    if service is None:
        raise _refused(actor, action, None, "service inconnu")
    return service


def _operator_trace(actor: Actor, action: TraceAction, title: str) -> None:
    trace.record(actor=actor, action=action, patient_id=None, document_title=title[:255])


def operator_services(*, actor: Actor) -> list[Service]:
    """Every service, dereferenced ones included, with its open reports counted. Operators
    only; nothing of any espace."""
    _operator(actor, TraceAction.CATALOGUE_SERVICE_EDIT)
    return list(Service.objects.order_by("name"))


def operator_service(*, actor: Actor, service_id: uuid.UUID) -> Service:
    _operator(actor, TraceAction.CATALOGUE_SERVICE_EDIT)
    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        raise _refused(actor, TraceAction.CATALOGUE_SERVICE_EDIT, None, "service inconnu")
    return service


SERVICE_FIELDS = (
    "name",
    "editor_name",
    "category",
    "summary",
    "description",
    "web_url",
    "ios_url",
    "android_url",
    "cgu_url",
    "pairing_url",
)


@traced_action
def service_create(
    *, actor: Actor, oid: str, slug: str, redirect_uris: str = "", **fields: str
) -> Service:
    """Reference a service (hors ligne until its status changes). With `redirect_uris` it is
    referenced « avec échange de données »: a public OAuth client (PKCE) is registered for it.
    Preconditions: a catalogue operator; unique OID and slug. Side effect: a trace."""
    _operator(actor, TraceAction.CATALOGUE_SERVICE_EDIT, fields.get("name", ""))
    if Service.objects.filter(Q(oid=oid) | Q(slug=slug)).exists():
        raise InvalidInput("Un service porte déjà cet OID ou cet identifiant court.", field="oid")
    card: dict[str, Any] = {k: v for k, v in fields.items() if k in SERVICE_FIELDS}
    service = reference_service(
        oid=oid, slug=slug, redirect_uris=redirect_uris, status=Service.Status.OFFLINE, **card
    ).service
    _operator_trace(actor, TraceAction.CATALOGUE_SERVICE_EDIT, f"Création : {service.name}")
    return service


@traced_action
def service_update(*, actor: Actor, service_id: uuid.UUID, **fields: str) -> Service:
    """Change a service's card (name, editor, texts, links). Its status and rights have their
    own actions. Preconditions: a catalogue operator. Side effect: a trace."""
    service = _service_for_operator(actor, service_id, TraceAction.CATALOGUE_SERVICE_EDIT)
    changed = [k for k in SERVICE_FIELDS if k in fields and getattr(service, k) != fields[k]]
    for key in changed:
        setattr(service, key, fields[key])
    if changed:
        service.full_clean(exclude=["logo", "application"])
        service.save(update_fields=changed)
        _operator_trace(actor, TraceAction.CATALOGUE_SERVICE_EDIT, f"Modification : {service.name}")
    return service


LOGO_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg")}
LOGO_FORMATS["WEBP"] = ("webp", "image/webp")
LOGO_MAX_SIDE = 2048


def _checked_logo(upload: UploadedFile) -> tuple[bytes, str]:
    """The upload's bytes and extension when it is a PNG, JPEG or WebP image that Pillow reads
    through, within MES_CATALOGUE_LOGO_MAX_BYTES; otherwise InvalidInput."""
    from PIL import Image, UnidentifiedImageError

    limit = settings.MES_CATALOGUE_LOGO_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise InvalidInput(f"Le logo dépasse {limit // 1024} Ko.", field="logo")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"Le logo dépasse {limit // 1024} Ko.", field="logo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InvalidInput(
            "Ce fichier n'est pas une image PNG, JPEG ou WebP lisible.", field="logo"
        ) from error
    if fmt not in LOGO_FORMATS:
        raise InvalidInput("Le logo doit être une image PNG, JPEG ou WebP.", field="logo")
    if max(width, height) > LOGO_MAX_SIDE:
        raise InvalidInput(f"Le logo dépasse {LOGO_MAX_SIDE} pixels de côté.", field="logo")
    return data, LOGO_FORMATS[fmt][0]


@traced_action
def service_logo_set(*, actor: Actor, service_id: uuid.UUID, upload: UploadedFile) -> Service:
    """Upload a service's logo (self-hosted: served by the portal, never hot-linked).
    Preconditions: a catalogue operator; a PNG, JPEG or WebP image within the size limit.
    Side effects: the file in the default storage (the previous one removed), a trace."""
    service = _service_for_operator(actor, service_id, TraceAction.CATALOGUE_SERVICE_EDIT)
    data, ext = _checked_logo(upload)
    previous = service.logo.name if service.logo else ""
    service.logo.save(f"{service.slug}-{secrets.token_hex(4)}.{ext}", ContentFile(data))
    if previous:
        service.logo.storage.delete(previous)
    _operator_trace(actor, TraceAction.CATALOGUE_SERVICE_EDIT, f"Logo : {service.name}")
    return service


def _notify_holders(pairings: Sequence[Pairing], label: str, key: str) -> None:
    notify_many(
        [
            Event(
                profile=p.patient,
                code=Notification.Code.SYNCED_SERVICES,
                label=label,
                key=f"{key}:{p.pk}",
                url=_synced_url(),
                link_label="Voir mes services synchronisés",
            )
            for p in pairings
        ]
    )


def _active_pairings(service: Service) -> list[Pairing]:
    return list(
        Pairing.objects.filter(service=service, status=Pairing.Status.ACTIVE).select_related(
            "patient"
        )
    )


@traced_action
def service_status_set(*, actor: Actor, service_id: uuid.UUID, status: str) -> Service:
    """Change a service's status, dated now. A suspended, offline or dereferenced service stops
    exchanging data at once: mes.catalogue.policies reads the status on every call; its pairings
    stay (a suspended service may come back online, and may be unpaired meanwhile).
    Preconditions: a catalogue operator, a known status. Side effects: a trace; when the service
    stops exchanging, the holders of its pairings are told."""
    service = _service_for_operator(actor, service_id, TraceAction.CATALOGUE_SERVICE_STATUS)
    if status not in Service.Status.values:
        raise InvalidInput("Statut inconnu.", field="status")
    if status == service.status:
        return service
    was_exchanging = service.status in EXCHANGING
    service.status = status
    service.status_changed_at = timezone.now()
    service.save(update_fields=["status", "status_changed_at"])
    _operator_trace(
        actor,
        TraceAction.CATALOGUE_SERVICE_STATUS,
        f"{service.name} : {service.get_status_display()}",
    )
    if was_exchanging and status not in EXCHANGING and service.exchanges_data:
        _notify_holders(
            _active_pairings(service),
            f"{service.name} n'échange plus de données avec Mon espace santé pour le moment "
            f"(service {service.get_status_display().lower()}).",
            f"catalogue-status:{service.pk}:{service.status_changed_at.isoformat()}",
        )
    return service


def _pending_version(service: Service) -> int:
    """The version a purpose changed now belongs to: the next rights of a service already
    paired (approved again by each holder), the current ones of a service never paired."""
    if Pairing.objects.filter(service=service).exists():
        return service.rights_version + 1
    return service.rights_version


@traced_action
def purpose_save(
    *,
    actor: Actor,
    service_id: uuid.UUID,
    code: str,
    label: str,
    description: str,
    exchanges: Sequence[ExchangeSpec],
) -> Purpose:
    """Add a purpose to a service or change one (found by its code). When what it exchanges
    changes on a service already paired, the purpose belongs to the service's next rights: until
    they are published and approved, the pairings consented to it do not exercise it
    (mes.catalogue.policies), so no back-office edit widens a pairing without the citizen.
    Preconditions: a catalogue operator, a service exchanging data, at least one exchange.
    Side effect: a trace."""
    service = _service_for_operator(actor, service_id, TraceAction.CATALOGUE_SERVICE_EDIT)
    if not service.exchanges_data:
        raise InvalidInput(
            "Ce service est référencé sans échange de données : il n'a pas de finalités."
        )
    code, label = code.strip(), label.strip()
    if not code or not label:
        raise InvalidInput("Le code et le libellé de la finalité sont obligatoires.")
    wanted = {(e.category, e.action): e.details.strip() for e in exchanges}
    if not wanted:
        raise InvalidInput("Une finalité échange au moins une catégorie de données.")
    for category, action in wanted:
        if category not in DataCategory.values or action not in ExchangeAction.values:
            raise InvalidInput("Catégorie de données ou action inconnue.")
    purpose = Purpose.objects.filter(service=service, code=code).first()
    if purpose is None:
        purpose = Purpose.objects.create(
            service=service,
            code=code,
            label=label,
            description=description.strip(),
            since_version=_pending_version(service),
        )
        verb = "Ajout"
    else:
        current = {(e.category, e.action): e.details for e in purpose.exchanges.all()}
        if current != wanted:
            purpose.since_version = _pending_version(service)
        purpose.label, purpose.description = label, description.strip()
        purpose.save(update_fields=["label", "description", "since_version"])
        purpose.exchanges.all().delete()
        verb = "Modification"
    PurposeExchange.objects.bulk_create(
        PurposeExchange(purpose=purpose, category=c, action=a, details=d)
        for (c, a), d in wanted.items()
    )
    _operator_trace(
        actor,
        TraceAction.CATALOGUE_SERVICE_EDIT,
        f"{verb} de la finalité {code} : {service.name}",
    )
    return purpose


@traced_action
def purpose_delete(*, actor: Actor, service_id: uuid.UUID, code: str) -> None:
    """Remove a purpose: the consents to it go with it, and what it allowed stops at once (a
    narrowing needs no approval). Preconditions: a catalogue operator. Side effect: a trace."""
    service = _service_for_operator(actor, service_id, TraceAction.CATALOGUE_SERVICE_EDIT)
    deleted, _ = Purpose.objects.filter(service=service, code=code).delete()
    if not deleted:
        raise InvalidInput(UNKNOWN_PURPOSE)
    _operator_trace(
        actor, TraceAction.CATALOGUE_SERVICE_EDIT, f"Retrait de la finalité {code} : {service.name}"
    )


@dataclass(frozen=True)
class NewRights:
    service: Service
    pairings: int
    deadline: datetime


def pending_purposes(service: Service) -> list[Purpose]:
    """Purposes added or changed since the rights last published."""
    return list(service.purposes.filter(since_version__gt=service.rights_version))


@traced_action
def service_publish_rights(*, actor: Actor, service_id: uuid.UUID) -> NewRights:
    """Publish a service's new rights: rights_version + 1, and every active pairing must be
    approved again before now + MES_CATALOGUE_REAPPROVAL_PERIOD or it stops (the policies read
    the deadline; mes.catalogue.tasks marks it). Preconditions: a catalogue operator, a service
    exchanging data. Side effects: the deadlines, a trace, each holder notified."""
    service = _service_for_operator(actor, service_id, TraceAction.CATALOGUE_NEW_RIGHTS)
    if not service.exchanges_data:
        raise InvalidInput("Ce service est référencé sans échange de données.")
    service.rights_version += 1
    service.save(update_fields=["rights_version"])
    # A purpose left pending beyond the next version (never, but fail closed) joins this one.
    Purpose.objects.filter(service=service, since_version__gt=service.rights_version).update(
        since_version=service.rights_version
    )
    deadline = timezone.now() + settings.MES_CATALOGUE_REAPPROVAL_PERIOD
    pairings = [
        p
        for p in _active_pairings(service)
        if p.approved_version < service.rights_version and not pairing_lapsed(p)
    ]
    Pairing.objects.filter(pk__in=[p.pk for p in pairings]).update(reapproval_deadline=deadline)
    _operator_trace(
        actor,
        TraceAction.CATALOGUE_NEW_RIGHTS,
        f"{service.name} : droits v{service.rights_version}, {len(pairings)} synchronisation(s)",
    )
    local = timezone.localtime(deadline)
    _notify_holders(
        pairings,
        f"La mise à jour des autorisations de {service.name} est nécessaire avant le "
        f"{local:%d/%m/%Y} pour conserver la synchronisation.",
        f"catalogue-rights:{service.pk}:{service.rights_version}",
    )
    return NewRights(service=service, pairings=len(pairings), deadline=deadline)


def operator_reports(*, actor: Actor, open_only: bool = True) -> list[ServiceReport]:
    """The citizens' reports (reason, comment, date): never who reported, nor any espace."""
    _operator(actor, TraceAction.CATALOGUE_REPORT_CLOSE)
    reports = ServiceReport.objects.select_related("service").order_by("-created_at")
    if open_only:
        reports = reports.filter(handled_at__isnull=True)
    return list(reports[:500])


@traced_action
def report_close(*, actor: Actor, report_id: int) -> ServiceReport:
    """Close a report once examined. Preconditions: a catalogue operator. Side effect: a trace."""
    _operator(actor, TraceAction.CATALOGUE_REPORT_CLOSE)
    report = ServiceReport.objects.select_related("service").filter(pk=report_id).first()
    if report is None:
        raise _refused(actor, TraceAction.CATALOGUE_REPORT_CLOSE, None, "signalement inconnu")
    if report.handled_at is None:
        report.handled_at = timezone.now()
        report.save(update_fields=["handled_at"])
        _operator_trace(
            actor,
            TraceAction.CATALOGUE_REPORT_CLOSE,
            f"Signalement n° {report.pk} : {report.service.name}",
        )
    return report

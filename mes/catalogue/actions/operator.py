"""The Catalogue de services for its operators (mes-spec §8, wave2.md §1.4; the pages are
mes.backoffice.catalogue): they reference services, their purposes and logos, change their
status, publish new rights and close the citizens' reports. Nothing of any espace is shown to
them.

Who is an operator is `mes.catalogue.policies.is_catalogue_operator`; a refusal is traced and
looks like "not found".
"""

from __future__ import annotations

import io
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.lib.errors import InvalidInput
from mes.notifications.channels.many import Event, notify_many
from mes.notifications.models import Notification

from ..models import (
    DataCategory,
    ExchangeAction,
    Pairing,
    Purpose,
    PurposeExchange,
    Service,
    ServiceReport,
)
from ..policies import EXCHANGING, is_catalogue_operator, pairing_lapsed
from ..registry import ExchangeSpec, reference_service
from .shared import UNKNOWN_PURPOSE


def _operator(actor: Actor, action: TraceAction, title: str = "") -> None:
    if not is_catalogue_operator(actor):
        raise Refused.because(
            actor, action, None, "réservé aux opérateurs du catalogue", document_title=title
        )


def _service_for_operator(actor: Actor, service_id: uuid.UUID, action: TraceAction) -> Service:
    _operator(actor, action)
    service = Service.objects.select_for_update().filter(pk=service_id).first()
    if service is None:
        raise Refused.because(actor, action, None, "service inconnu")
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
        raise Refused.because(actor, TraceAction.CATALOGUE_SERVICE_EDIT, None, "service inconnu")
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
                url=reverse("portal:catalogue_synced"),
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
        raise Refused.because(
            actor, TraceAction.CATALOGUE_REPORT_CLOSE, None, "signalement inconnu"
        )
    if report.handled_at is None:
        report.handled_at = timezone.now()
        report.save(update_fields=["handled_at"])
        _operator_trace(
            actor,
            TraceAction.CATALOGUE_REPORT_CLOSE,
            f"Signalement n° {report.pk} : {report.service.name}",
        )
    return report

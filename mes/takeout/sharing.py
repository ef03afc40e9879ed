"""Share by link (issue 15): a SMART Health Link (HL7 SMART Health Cards and Links IG) to one
document or a chosen set, instead of e-mailing PDFs.

- The citizen (the citizen side of the dossier: Action.MANAGE) picks documents they can read,
  a label, a validity (at most MES_SHARE_LINK_MAX_VALIDITY) and an optional passcode.
- The link is `<viewer URL>#shlink:/<payload>`, the payload being base64url JSON
  `{url, key, exp, flag, label, v}`: `url` the manifest, `key` the 32-byte AES key. The key
  travels in the URL fragment, which browsers never send to a server.
- The manifest (`POST url` with `{recipient, passcode}`) answers the files, each a JWE compact
  (`alg: dir`, `enc: A256GCM`, `cty: application/fhir+json`) holding a FHIR DocumentReference
  with the document inline: only the holder of the link's key reads them.
- The recipient's browser can also open the viewer page, which shows the documents directly.
- Every opening (manifest or viewer) is traced on the patient's chain (OUVERTURE_LIEN_PARTAGE),
  every refusal too (expired, revoked, wrong passcode); the citizen sees when it was opened and
  revokes it at will. Wrong passcodes lock the link after MES_SHARE_LINK_MAX_PASSCODE_FAILURES.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from mes.access.actors import Actor, ActorKind, citizen_actor
from mes.access.decision import Action, standing
from mes.access.patients import decided_patient
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction, TraceOutcome
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput, NotFound
from mes.records.models import Document
from mes.records.policies import documents_visible_to
from mes.vault import store

from .models import ShareLink, ShareLinkOpening

LABEL_MAX = 80
PASSCODE_MIN = 4
PASSCODE_MAX = 40
DOCUMENTS_MAX = 20


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwe_encrypt(key: bytes, plaintext: bytes, content_type: str) -> str:
    """JWE compact serialisation, `dir` + `A256GCM` (RFC 7516 §7.1, RFC 7518 §4.5, §5.3)."""
    header = _b64(
        json.dumps(
            {"alg": "dir", "enc": "A256GCM", "cty": content_type}, separators=(",", ":")
        ).encode()
    )
    iv = os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, plaintext, header.encode("ascii"))
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return ".".join((header, "", _b64(iv), _b64(ciphertext), _b64(tag)))


def _recipient_actor(link: ShareLink) -> Actor:
    """Who opens a link: not a known person; traced under the link's label."""
    return Actor(
        kind=ActorKind.SYSTEM,
        display_name=f"Destinataire du lien de partage « {link.label} »",
        national_id=f"lien-partage:{link.pk}",
    )


def _managed(actor: Actor, patient_id: uuid.UUID, action: TraceAction) -> Citizen:
    return decided_patient(actor, Action.MANAGE, patient_id, refused_as=action)


@traced_action
def share_link_create(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    document_ids: list[uuid.UUID],
    label: str,
    days: int,
    passcode: str = "",
) -> ShareLink:
    """Make a link to these documents. Precondition: the citizen side of the dossier, each
    document readable by them. Side effects: the link, a CREATION_LIEN_PARTAGE trace.
    InvalidInput (French) for bad input; nothing is stored then."""
    patient = _managed(actor, patient_id, TraceAction.SHARE_LINK_CREATE)
    label = (label or "").strip()
    if not label:
        raise InvalidInput("Donnez un nom à ce partage.", field="label")
    if len(label) > LABEL_MAX:
        raise InvalidInput(f"Le nom ne doit pas dépasser {LABEL_MAX} caractères.", field="label")
    wanted = list(dict.fromkeys(document_ids))
    if not wanted:
        raise InvalidInput("Choisissez au moins un document à partager.", field="documents")
    if len(wanted) > DOCUMENTS_MAX:
        raise InvalidInput(f"Un partage compte au plus {DOCUMENTS_MAX} documents.", "documents")
    readable = set(
        documents_visible_to(actor, patient).filter(pk__in=wanted).values_list("pk", flat=True)
    )
    if readable != set(wanted):
        raise InvalidInput("Un des documents choisis n'est pas disponible.", field="documents")
    max_days = settings.MES_SHARE_LINK_MAX_VALIDITY.days
    if not 1 <= days <= max_days:
        raise InvalidInput(f"La durée de validité va de 1 à {max_days} jours.", field="days")
    passcode = passcode or ""
    if passcode and not PASSCODE_MIN <= len(passcode) <= PASSCODE_MAX:
        raise InvalidInput(
            f"Le code d'accès compte de {PASSCODE_MIN} à {PASSCODE_MAX} caractères.",
            field="passcode",
        )
    assert actor.citizen_id is not None  # MANAGE is the citizen side
    link = ShareLink.objects.create(
        patient=patient,
        created_by_id=actor.citizen_id,
        token=secrets.token_urlsafe(32),
        key=_b64(secrets.token_bytes(32)),
        label=label,
        document_ids=[str(pk) for pk in wanted],
        expires_at=timezone.now() + timedelta(days=days),
        passcode_hash=make_password(passcode) if passcode else "",
    )
    trace.record(
        actor=actor,
        action=TraceAction.SHARE_LINK_CREATE,
        patient_id=patient.pk,
        document_title=f"{label} ({len(wanted)} document(s))",
    )
    return link


def shlink(link: ShareLink, *, manifest_url: str, viewer_url: str) -> str:
    """The link to hand out: the viewer page, with the SHL payload in the fragment."""
    payload = {
        "url": manifest_url,
        "key": link.key,
        "exp": int(link.expires_at.timestamp()),
        "flag": "P" if link.passcode_hash else "",
        "label": link.label,
        "v": 1,
    }
    if not payload["flag"]:
        del payload["flag"]
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{viewer_url}#shlink:/{body}"


@traced_action
def share_links_of(*, actor: Actor, patient_id: uuid.UUID) -> QuerySet[ShareLink]:
    """The dossier's links, newest first (the citizen side; no trace when allowed: their own
    settings)."""
    patient = _managed(actor, patient_id, TraceAction.SHARE_LINK_CREATE)
    return ShareLink.objects.filter(patient=patient).order_by("-created_at")


@traced_action
def share_link_revoke(*, actor: Actor, link_id: uuid.UUID) -> ShareLink:
    """End a link now. Precondition: the citizen side of its dossier. Side effects: the key is
    wiped (nothing can be decrypted with the old link any more), a REVOCATION_LIEN_PARTAGE
    trace."""
    link = ShareLink.objects.filter(pk=link_id).first()
    if link is None:
        raise Refused.because(actor, TraceAction.SHARE_LINK_REVOKE, None, "lien inconnu")
    _managed(actor, link.patient_id, TraceAction.SHARE_LINK_REVOKE)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.key = ""
        link.save(update_fields=["revoked_at", "key"])
        trace.record(
            actor=actor,
            action=TraceAction.SHARE_LINK_REVOKE,
            patient_id=link.patient_id,
            document_title=link.label,
        )
    return link


# --- the recipient's side ---------------------------------------------------------------------


class LinkUnavailable(Exception):
    """The link exists but cannot be opened; `message` is the French page text."""

    def __init__(self, message: str, *, passcode_wrong: bool = False, remaining: int = 0):
        super().__init__(message)
        self.message = message
        self.passcode_wrong = passcode_wrong
        self.remaining = remaining


EXPIRED = (
    "Ce lien de partage a expiré. Demandez à la personne qui vous l'a envoyé d'en créer un nouveau."
)
REVOKED = "Ce lien de partage a été désactivé par la personne qui l'a créé."
LOCKED = "Ce lien de partage est bloqué après trop de codes d'accès erronés."
UNAVAILABLE = "Ce lien de partage n'est plus disponible."
WRONG_PASSCODE = "Code d'accès incorrect."
PASSCODE_NEEDED = "Ce partage est protégé par un code d'accès."


@dataclass(frozen=True)
class Opened:
    link: ShareLink
    documents: list[Document]


def _refuse_opening(link: ShareLink, why: str) -> None:
    trace.record(
        actor=_recipient_actor(link),
        action=TraceAction.SHARE_LINK_OPEN,
        outcome=TraceOutcome.REFUSED,
        patient_id=link.patient_id,
        document_title=link.label,
        reason=why,
    )


def share_link_open(*, token: str, passcode: str | None) -> Opened:
    """Open a link as its recipient. An unknown token is NotFound; an expired, revoked or locked
    link, or a wrong passcode, raises LinkUnavailable after a refused trace that stays written
    (the refusal is the answer, not an error to roll back). Side effects when allowed: an
    opening row, the counters, an OUVERTURE_LIEN_PARTAGE trace. The documents are those still
    readable by the link's author: a document deleted or hidden since is left out."""
    with transaction.atomic():
        result = _attempt(token, passcode)
    if result is None:
        raise NotFound()
    if isinstance(result, LinkUnavailable):
        raise result
    return result


def _attempt(token: str, passcode: str | None) -> Opened | LinkUnavailable | None:
    link = ShareLink.objects.select_for_update().filter(token=token).first()
    if link is None:
        trace.record(
            actor=Actor(kind=ActorKind.SYSTEM, display_name="Lien de partage", national_id="lien"),
            action=TraceAction.SHARE_LINK_OPEN,
            outcome=TraceOutcome.REFUSED,
            patient_id=None,
            reason="lien inconnu",
        )
        return None
    if link.revoked_at is not None:
        _refuse_opening(link, "lien révoqué")
        return LinkUnavailable(REVOKED)
    if link.expires_at <= timezone.now():
        _refuse_opening(link, "lien expiré")
        return LinkUnavailable(EXPIRED)
    # What the author may still read of what they shared (through the one decision): nothing
    # once the espace is closed, or their representation of the person ended.
    author = citizen_actor(Citizen.objects.get(pk=link.created_by_id))
    st = standing(author, link.patient)
    if not st.may_read:
        _refuse_opening(link, st.reason)
        return LinkUnavailable(UNAVAILABLE)
    limit = settings.MES_SHARE_LINK_MAX_PASSCODE_FAILURES
    if link.passcode_hash:
        if link.failed_passcodes >= limit:
            _refuse_opening(link, "lien bloqué (codes erronés)")
            return LinkUnavailable(LOCKED)
        if passcode is None:
            return LinkUnavailable(PASSCODE_NEEDED, remaining=limit - link.failed_passcodes)
        if not check_password(passcode, link.passcode_hash):
            ShareLink.objects.filter(pk=link.pk).update(failed_passcodes=F("failed_passcodes") + 1)
            _refuse_opening(link, "code d'accès erroné")
            remaining = max(limit - link.failed_passcodes - 1, 0)
            return LinkUnavailable(WRONG_PASSCODE, passcode_wrong=True, remaining=remaining)
    now = timezone.now()
    ShareLink.objects.filter(pk=link.pk).update(
        opened_count=F("opened_count") + 1, last_opened_at=now
    )
    ShareLinkOpening.objects.create(link=link, at=now)
    trace.record(
        actor=_recipient_actor(link),
        action=TraceAction.SHARE_LINK_OPEN,
        patient_id=link.patient_id,
        document_title=link.label,
    )
    documents = list(
        documents_visible_to(author, link.patient, st).filter(pk__in=link.document_ids)
    )
    return Opened(link=link, documents=documents)


def document_bytes(opened: Opened, document_id: uuid.UUID) -> tuple[Document, bytes] | None:
    """One document of an opened link (already decided and traced by share_link_open)."""
    for doc in opened.documents:
        if doc.pk == document_id:
            return doc, store.get(doc.patient_id, doc.pk)
    return None


def manifest(opened: Opened) -> dict[str, Any]:
    """The SHL manifest: each document as a JWE-encrypted FHIR DocumentReference, inline."""
    key = _unb64(opened.link.key)
    files = []
    for doc in opened.documents:
        content = store.get(doc.patient_id, doc.pk)
        resource = {
            "resourceType": "DocumentReference",
            "id": str(doc.pk),
            "status": "current",
            "type": {"coding": [{"code": doc.type_code}]},
            "date": doc.deposited_at.isoformat(timespec="seconds"),
            "description": doc.title,
            "content": [
                {
                    "attachment": {
                        "contentType": doc.mime_type,
                        "data": base64.b64encode(content).decode("ascii"),
                        "title": doc.title,
                    }
                }
            ],
        }
        files.append(
            {
                "contentType": "application/fhir+json",
                "embedded": jwe_encrypt(
                    key, json.dumps(resource).encode(), "application/fhir+json"
                ),
            }
        )
    return {"files": files}

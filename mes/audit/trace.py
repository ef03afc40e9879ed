"""Writing and verifying the trace. Every access decision that lets data out, and every refusal,
is recorded here inside the caller's transaction (DESIGN.md §4)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from mes.access.actors import Actor

from .models import ChainHead, Trace, TraceAction, TraceOutcome

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"

# The fields covered by the hash, in a fixed order. Adding a field means a new chain version.
HASHED_FIELDS = (
    "chain",
    "seq",
    "at",
    "patient_id",
    "action",
    "outcome",
    "actor_kind",
    "actor_id",
    "actor_name",
    "acting_citizen_id",
    "profession",
    "specialty",
    "organisation_name",
    "access_mode",
    "justification",
    "document_id",
    "document_title",
    "software",
    "matrix_version",
    "reason",
    "hidden_from_representatives",
)


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def row_hash(trace: Trace, prev_hash: str) -> str:
    payload = {name: _canonical(getattr(trace, name)) for name in HASHED_FIELDS}
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def record(
    *,
    actor: Actor,
    action: TraceAction,
    outcome: TraceOutcome = TraceOutcome.ALLOWED,
    patient_id: uuid.UUID | None,
    document_id: uuid.UUID | None = None,
    document_title: str = "",
    matrix_version: str = "",
    reason: str = "",
    hidden_from_representatives: bool = False,
) -> Trace:
    """Append one row to the patient's chain. Must run inside the caller's transaction so that
    the access and its trace commit (or roll back) together."""
    chain = str(patient_id) if patient_id else SYSTEM_CHAIN
    with transaction.atomic():
        ChainHead.objects.get_or_create(chain=chain)
        head = ChainHead.objects.select_for_update().get(chain=chain)
        trace = Trace(
            chain=chain,
            seq=head.seq + 1,
            at=timezone.now(),
            patient_id=patient_id,
            action=action,
            outcome=outcome,
            actor_kind=actor.kind.value,
            actor_id=actor.national_id,
            actor_name=actor.display_name,
            acting_citizen_id=actor.citizen_id if actor.citizen_id != patient_id else None,
            profession=actor.profession,
            specialty=actor.specialty,
            organisation_name=actor.organisation_name,
            access_mode=actor.mode.value,
            justification=actor.justification,
            document_id=document_id,
            document_title=document_title,
            software=actor.software,
            matrix_version=matrix_version,
            reason=reason,
            hidden_from_representatives=hidden_from_representatives,
            prev_hash=head.hash,
        )
        trace.hash = row_hash(trace, head.hash)
        trace.save()
        ChainHead.objects.filter(chain=chain).update(seq=trace.seq, hash=trace.hash)
    return trace


@dataclass(frozen=True)
class BrokenLink:
    chain: str
    seq: int
    trace_id: int
    problem: str


def verify_chain(chain: str) -> BrokenLink | None:
    """Recompute one chain from its first row; name the first row that does not hold."""
    prev = GENESIS
    expected_seq = 1
    for trace in Trace.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000):
        if trace.seq != expected_seq:
            return BrokenLink(chain, expected_seq, trace.pk, "ligne manquante dans la chaîne")
        if trace.prev_hash != prev:
            return BrokenLink(chain, trace.seq, trace.pk, "lien vers la ligne précédente rompu")
        if row_hash(trace, prev) != trace.hash:
            return BrokenLink(chain, trace.seq, trace.pk, "contenu modifié")
        prev = trace.hash
        expected_seq += 1
    head = ChainHead.objects.filter(chain=chain).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        return BrokenLink(chain, expected_seq, 0, "fin de chaîne tronquée")
    return None


def verify_all() -> Iterator[BrokenLink]:
    chains = ChainHead.objects.values_list("chain", flat=True).order_by("chain")
    for chain in chains.iterator(chunk_size=2000):
        broken = verify_chain(chain)
        if broken:
            yield broken

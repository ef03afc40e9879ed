"""Writing and verifying the trace. Every access decision that lets data out, and every refusal,
is recorded here inside the caller's transaction (DESIGN.md §4)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from mes.access.actors import Actor
from mes.lib import prepared

from . import integrity, keys
from .keys import AuditKey
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


def _body(trace: Trace, *, with_key_id: bool) -> str:
    payload = {name: _canonical(getattr(trace, name)) for name in HASHED_FIELDS}
    if with_key_id:
        payload["key_id"] = trace.key_id
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def legacy_row_hash(trace: Trace, prev_hash: str) -> str:
    """The unkeyed SHA-256 of the rows written before the trace had a key (migration 0008)."""
    return hashlib.sha256((prev_hash + _body(trace, with_key_id=False)).encode()).hexdigest()


def row_hash(trace: Trace, prev_hash: str, key: AuditKey | None = None) -> str:
    """The row's seal: HMAC-SHA256, under the key its `key_id` names (or `key`), of every
    field and the previous row's seal."""
    if key is None:
        found = keys.keyring().get(trace.key_id)
        if found is None:
            raise LookupError(trace.key_id)
        key = found
    return key.mac((prev_hash + _body(trace, with_key_id=True)).encode())


def _head_sql(statement: str) -> str:
    q = connection.ops.quote_name
    table, chain, seq, hash_ = (
        q(ChainHead._meta.db_table),
        q("chain"),
        q("seq"),
        q("hash"),
    )
    if statement == "select":
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        return f"SELECT {seq}, {hash_} FROM {table} WHERE {chain} = %s{lock}"  # noqa: S608
    return f"UPDATE {table} SET {seq} = %s, {hash_} = %s WHERE {chain} = %s"  # noqa: S608


def _head_for_update(chain: str) -> tuple[int, str]:
    """The chain's head (seq, hash), locked. A missing head (never written, or deleted by hand)
    starts from the chain's last row, so appending never collides with the rows already there.
    In SQL rather than through the ORM: it runs on every access (only the models' own table
    and column names are formatted in; the values are bound)."""
    with connection.cursor() as cursor:
        cursor.execute(_head_sql("select"), [chain])
        row = cursor.fetchone()
    if row is not None:
        return int(row[0]), str(row[1])
    last = Trace.objects.filter(chain=chain).order_by("-seq").first()
    ChainHead.objects.get_or_create(
        chain=chain,
        defaults={"seq": last.seq, "hash": last.hash} if last else {},
    )
    head = ChainHead.objects.select_for_update().get(chain=chain)
    return head.seq, head.hash


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
    key = keys.keyring().current
    # Inside the caller's transaction, no savepoint of its own: a failure here fails the
    # caller's work with it (an access is never kept without its trace), and the two
    # statements a savepoint costs are saved on every request of the API.
    with transaction.atomic(savepoint=False):
        head_seq, head_hash = _head_for_update(chain)
        trace = Trace(
            chain=chain,
            seq=head_seq + 1,
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
            prev_hash=head_hash,
            key_id=key.key_id,
        )
        trace.hash = row_hash(trace, head_hash, key)
        # One INSERT compiled once per process (what trace.save() stores, without compiling it
        # on every access of the API).
        prepared.insert(trace)
        with connection.cursor() as cursor:
            cursor.execute(_head_sql("update"), [trace.seq, trace.hash, chain])
    return trace


def verify_chain(chain: str) -> integrity.BrokenLink | None:
    """Recompute one chain; name the first row that does not hold (mes.audit.integrity)."""
    return integrity.verify_chain(chain)


def verify_all() -> Iterator[integrity.BrokenLink]:
    """Every chain, every citizen's, against its key and the last checkpoint."""
    return integrity.verify_all()

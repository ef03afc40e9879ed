"""Verifying the trace against someone who holds the database, and writing its checkpoints.

`verify_all` walks every chain that exists anywhere: rows in the trace table, chain heads,
chains a checkpoint attested, and every citizen's (so deleting a head row, or a whole chain,
hides nothing). Each row's HMAC is recomputed with the key it names; each chain is compared
with the last checkpoint that attested it, so a tail cut, a chain deleted, or a row rewritten
by someone who also stole the key, before that checkpoint, is named.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.db.models import Max

from . import checkpoints, keys
from .checkpoints import Attested
from .models import ChainHead, Trace

GENESIS = "0" * 64
CHECKPOINTS = "points de contrôle"


@dataclass(frozen=True)
class BrokenLink:
    chain: str
    seq: int
    trace_id: int
    problem: str


@dataclass(frozen=True)
class _Walked:
    seq: int
    hash: str


def _walk(chain: str, *, attested: Attested | None, start: Attested | None) -> BrokenLink | _Walked:
    """Recompute a chain from its first row, or from `start` (a head a checkpoint attested,
    whose earlier rows were verified when it was written); name the first row that does not
    hold, then compare the end with what `attested` saw."""
    ring = keys.keyring()
    rows = Trace.objects.filter(chain=chain)
    prev: str | None = GENESIS
    expected = 1
    if start is not None:
        rows = rows.filter(seq__gte=start.seq)
        prev, expected = None, start.seq
    for row in rows.order_by("seq").iterator(chunk_size=2000):
        if row.seq != expected:
            return BrokenLink(chain, expected, row.pk, "ligne manquante dans la chaîne")
        if prev is None:
            prev = row.hash  # the start row itself is compared with the checkpoint below
        else:
            problem = _row_problem(row, prev, ring)
            if problem:
                return BrokenLink(chain, row.seq, row.pk, problem)
            prev = row.hash
        if attested is not None and row.seq == attested.seq and row.hash != attested.hash:
            return BrokenLink(
                chain, row.seq, row.pk, f"ligne réécrite : diffère du {attested.describe()}"
            )
        expected += 1
    last = expected - 1
    if attested is not None and last < attested.seq:
        if last == 0:
            problem = (
                f"chaîne supprimée : le {attested.describe()} attestait {attested.seq} ligne(s)"
            )
        else:
            problem = (
                f"chaîne tronquée : le {attested.describe()} attestait {attested.seq} ligne(s), "
                f"il en reste {last}"
            )
        return BrokenLink(chain, last + 1, 0, problem)
    return _Walked(last, prev if prev is not None else GENESIS)


def _row_problem(row: Trace, prev: str, ring: keys.Keyring) -> str:
    from .trace import row_hash

    if row.prev_hash != prev:
        return "lien vers la ligne précédente rompu"
    if not row.key_id:
        return "ligne non scellée par la clé de la trace (chaîne déjà rompue avant la clé)"
    key = ring.get(row.key_id)
    if key is None:
        return f"scellée par une clé inconnue ({row.key_id})"
    if not hmac.compare_digest(row_hash(row, prev, key), row.hash):
        return "contenu modifié"
    return ""


def verify_chain(
    chain: str, *, state: checkpoints.State | None = None, head: ChainHead | None = None
) -> BrokenLink | None:
    """Recompute one chain from its first row and compare it with its head and checkpoint."""
    state = state if state is not None else checkpoints.read_state()
    head = head if head is not None else ChainHead.objects.filter(chain=chain).first()
    walked = _walk(chain, attested=state.chains.get(chain), start=None)
    if isinstance(walked, BrokenLink):
        return walked
    if head is None:
        if walked.seq:
            return BrokenLink(chain, walked.seq, 0, "tête de chaîne supprimée")
        return None
    if walked.seq == 0 and head.seq:
        return BrokenLink(chain, 1, 0, f"chaîne supprimée : sa tête comptait {head.seq} ligne(s)")
    if head.seq != walked.seq or head.hash != walked.hash:
        return BrokenLink(chain, walked.seq + 1, 0, "fin de chaîne tronquée")
    return None


def every_chain(state: checkpoints.State) -> list[str]:
    """Every chain that exists anywhere: table rows, heads, checkpoints, and citizens."""
    citizen = apps.get_model("identity", "Citizen")
    chains = set(Trace.objects.values_list("chain", flat=True).distinct())
    chains.update(ChainHead.objects.values_list("chain", flat=True))
    chains.update(state.chains)
    chains.update(str(pk) for pk in citizen.objects.values_list("pk", flat=True))
    return sorted(chains)


def verify_all(state: checkpoints.State | None = None) -> Iterator[BrokenLink]:
    state = state if state is not None else checkpoints.read_state()
    for problem in state.problems:
        yield BrokenLink(CHECKPOINTS, 0, 0, problem)
    heads = {head.chain: head for head in ChainHead.objects.all()}
    for chain in every_chain(state):
        broken = verify_chain(chain, state=state, head=heads.get(chain))
        if broken:
            yield broken


@dataclass
class CheckpointReport:
    path: Path | None
    number: int
    chains: int
    broken: list[BrokenLink] = field(default_factory=list)


def write_checkpoint() -> CheckpointReport:
    """Publish the heads of the chains that moved since the last checkpoint. Each moved chain
    is verified from its previous checkpoint first: a chain that does not hold is reported and
    left out, so no checkpoint ever blesses a tampered chain."""
    state = checkpoints.read_state()
    tops = dict(Trace.objects.values("chain").annotate(top=Max("seq")).values_list("chain", "top"))
    moved: dict[str, tuple[int, str]] = {}
    broken: list[BrokenLink] = []
    for chain in sorted(set(tops) | set(state.chains)):
        attested = state.chains.get(chain)
        if attested is not None and tops.get(chain) == attested.seq:
            continue
        walked = _walk(chain, attested=attested, start=attested)
        if isinstance(walked, BrokenLink):
            broken.append(walked)
        elif walked.seq:
            moved[chain] = (walked.seq, walked.hash)
    path = None
    if moved or state.last_number == 0:
        path = checkpoints.append(state, moved, chain_count=len(tops))
        return CheckpointReport(path, state.last_number + 1, len(moved), broken)
    return CheckpointReport(None, state.last_number, 0, broken)

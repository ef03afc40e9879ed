"""Signed checkpoints of the chain heads, published outside the database.

Someone who can write to the database can cut a chain's tail or delete a whole chain, and the
chain alone cannot show it: the HMAC proves each row, not that no row is missing. So the heads
are published from time to time in files that the database does not hold: one JSON file per
checkpoint in `MES_AUDIT_CHECKPOINT_DIR`, created once and never rewritten (O_EXCL, read-only),
each signed with Ed25519 (a key derived from the trace key, mes.audit.keys) and linked to the
previous one by its SHA-256, so a missing, altered or forged checkpoint is named as well.

A checkpoint holds only the chains whose head moved since the previous one; folding them in
order gives, for every chain, the last head a checkpoint attested (`read_state`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from django.conf import settings

from . import keys

FORMAT = "mes-audit-checkpoint/1"
_NAME = re.compile(r"^checkpoint-(\d{8})\.json$")


@dataclass(frozen=True)
class Attested:
    """A chain's head as the checkpoint `number` saw it."""

    seq: int
    hash: str
    number: int
    at: str

    def describe(self) -> str:
        return f"point de contrôle n°{self.number} du {self.at[:19].replace('T', ' ')} UTC"


@dataclass
class State:
    chains: dict[str, Attested] = field(default_factory=dict)
    last_number: int = 0
    last_digest: str = ""
    problems: list[str] = field(default_factory=list)


def directory() -> Path:
    return Path(settings.MES_AUDIT_CHECKPOINT_DIR)


def _signed_bytes(doc: dict[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _files() -> list[tuple[int, Path]]:
    folder = directory()
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def _check(number: int, raw: bytes, state: State) -> dict[str, Any] | str:
    """The checkpoint's content, or why it cannot be trusted."""
    try:
        doc = json.loads(raw)
    except ValueError:
        return f"point de contrôle n°{number} illisible"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("number") != number:
        return f"point de contrôle n°{number} : format ou numéro inattendu"
    key = keys.keyring().get(str(doc.get("key_id", "")))
    if key is None:
        return f"point de contrôle n°{number} : signé par une clé inconnue"
    try:
        key.public_key().verify(base64.b64decode(str(doc.get("signature", ""))), _signed_bytes(doc))
    except (InvalidSignature, ValueError):
        return f"point de contrôle n°{number} : signature invalide"
    if doc.get("previous") != state.last_digest:
        return f"point de contrôle n°{number} : ne suit pas le point de contrôle précédent"
    if not isinstance(doc.get("chains"), dict):
        return f"point de contrôle n°{number} : format inattendu"
    return doc


def read_state() -> State:
    """Fold every checkpoint in order; name the missing, altered or forged ones."""
    state = State()
    for number, path in _files():
        if number != state.last_number + 1:
            state.problems.append(
                f"point(s) de contrôle n°{state.last_number + 1} à n°{number - 1} manquant(s)"
            )
        raw = path.read_bytes()
        checked = _check(number, raw, state)
        state.last_number = number
        state.last_digest = hashlib.sha256(raw).hexdigest()
        if isinstance(checked, str):
            state.problems.append(checked)
            continue
        at = str(checked["at"])
        try:
            attested = {
                str(chain): Attested(int(seq), str(head), number, at)
                for chain, (seq, head) in checked["chains"].items()
            }
        except (TypeError, ValueError):
            state.problems.append(f"point de contrôle n°{number} : format inattendu")
            continue
        state.chains.update(attested)
    return state


def append(state: State, heads: dict[str, tuple[int, str]], chain_count: int) -> Path:
    """Write the next checkpoint; never overwrites one (two writers: the second one fails)."""
    key = keys.keyring().current
    number = state.last_number + 1
    doc: dict[str, Any] = {
        "format": FORMAT,
        "number": number,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "previous": state.last_digest,
        "key_id": key.key_id,
        "chain_count": chain_count,
        "chains": {chain: [seq, head] for chain, (seq, head) in sorted(heads.items())},
    }
    doc["signature"] = base64.b64encode(key.signing_key().sign(_signed_bytes(doc))).decode()
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"checkpoint-{number:08d}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, sort_keys=True, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    return path

"""Drill: the blob store's disk fills up under ITI-65 deposits.

A demo instance is prepared in a throwaway folder; its vault is copied onto a small tmpfs
filesystem mounted for the drill (a real filesystem that really answers ENOSPC: this needs
root), and a ballast file takes most of what is left. `mes serve` (gunicorn) serves it with
MES_VAULT_DIR on that filesystem. Then:

- PDFs are deposited through the FHIR API (IHE MHD ITI-65) one after the other until the disk
  is full: each refused deposit must get a FHIR OperationOutcome with status 507 (Insufficient
  Storage) and a Retry-After, never an HTML page or a hang;
- while the disk is full, the service must go on serving reads: /healthz, an ITI-67 search and
  the Binary of a document deposited before (bytes identical);
- nothing half-stored: every acknowledged deposit whole (row and blob that decrypts to the bytes
  sent), no row of a refused deposit, no blob without its row (before and after `mes
  vault_sweep`);
- the ballast is removed (space freed): deposits succeed again, with nothing restarted.

    uv run python -m drills.disk_full [--disk-mb 2] [--pdf-kb 64] [--database-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from drills.common import deposit, fhir_headers
from drills.common import token as access_token
from drills.kill_web import (
    CHECK,
    LOUISE_INS,
    MES,
    _database_state,
    _env,
    _free_port,
    _serve,
)

SCOPES = "user/DocumentReference.write user/DocumentReference.read user/Binary.read"
FULL_AFTER = 3  # consecutive refusals that say the disk is full
MAX_DEPOSITS = 400
HEADROOM = 200 * 1024  # what the ballast leaves free: a few deposits' worth

_ = CHECK  # the same database check as the kill_web drill (_database_state runs it)


@dataclass
class Found:
    acknowledged: dict[str, str] = field(default_factory=dict)  # unique id -> sha256 sent
    refused: list[dict[str, Any]] = field(default_factory=list)  # status, type, body excerpt
    refused_ids: list[str] = field(default_factory=list)


def _pdf(n: int, size: int) -> bytes:
    """A real PDF of about `size` bytes: pages of random hexadecimal (hardly compressible)."""
    import io

    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pageCompression=0)
    c.drawString(72, 800, f"Compte rendu de surveillance n° {n}")
    y, written = 780, 0
    while written < size:
        line = os.urandom(40).hex()
        c.drawString(40, y, line)
        written += len(line) + 20
        y -= 10
        if y < 40:
            c.showPage()
            y = 800
    c.save()
    return out.getvalue()


@contextlib.contextmanager
def small_disk(path: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of `megabytes` mounted at `path`, unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs", str(path)],  # noqa: S607
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)  # noqa: S603, S607


def _deposit(
    client: httpx.Client, base: str, token: str, n: int, size: int
) -> tuple[str, str, httpx.Response]:
    sent = deposit(token, LOUISE_INS, f"Exercice de surveillance {n}", _pdf(n, size))
    return sent.unique_id, sent.digest, sent.send(client, base, token)


def _refusal(response: httpx.Response) -> dict[str, Any]:
    kind = ""
    with contextlib.suppress(ValueError):
        kind = response.json().get("resourceType", "")
    return {
        "status": response.status_code,
        "resourceType": kind,
        "retry_after": response.headers.get("Retry-After", ""),
        "content_type": response.headers.get("Content-Type", ""),
    }


def _reads(client: httpx.Client, base: str, token: str, found: Found) -> dict[str, Any]:
    """What a reader sees while the disk is full."""
    out: dict[str, Any] = {"healthz": client.get(f"{base}/healthz").status_code}
    search = client.get(
        f"{base}/fhir/DocumentReference",
        params={
            "patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{LOUISE_INS}",
            "status": "current",
            "_count": "50",
        },
        headers={**fhir_headers(token), "Accept": "application/fhir+json"},
    )
    out["search"] = search.status_code
    out["binary_identical"] = False
    if search.status_code == 200:
        for entry in search.json().get("entry", []):
            res = entry["resource"]
            uid = res.get("masterIdentifier", {}).get("value", "").removeprefix("urn:oid:")
            if uid in found.acknowledged:
                url = res["content"][0]["attachment"]["url"]
                blob = client.get(url, headers=fhir_headers(token))
                out["binary"] = blob.status_code
                digest = hashlib.sha256(blob.content).hexdigest()
                out["binary_identical"] = digest == found.acknowledged[uid]
                break
    return out


def _blobs(vault: Path) -> int:
    """Blob files in the vault (the ballast lives beside it, not in it)."""
    return sum(1 for p in vault.rglob("*") if p.is_file())


def _swept(output: str) -> int:
    """How many orphans `mes vault_sweep` removed, read from its report."""
    words = output.split()
    return int(words[words.index("orphelins") - 1]) if "orphelins" in words else -1


def run(opts: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        print("Cet exercice monte un petit système de fichiers (tmpfs) : lancez-le en root.")
        return 2
    work = Path(tempfile.mkdtemp(prefix="mes-drill-disk-full-"))
    env = _env(work / "var", opts.database_url)
    print(f"Préparation de l'instance de démonstration dans {work} …")
    subprocess.run([MES, "demo", "--load-only"], env=env, check=True, capture_output=True)  # noqa: S603
    secret = (work / "var" / "demo-api-client.secret").read_text().strip()
    demo_vault = work / "var" / "vault"
    used = sum(p.stat().st_size for p in demo_vault.rglob("*") if p.is_file())
    megabytes = max(opts.disk_mb, (used + 2 * HEADROOM) // 2**20 + 1)
    with small_disk(work / "disk", megabytes) as disk:
        vault = disk / "vault"
        shutil.copytree(demo_vault, vault)
        free = shutil.disk_usage(disk).free
        ballast = disk / "ballast"
        ballast.write_bytes(b"\0" * max(0, free - HEADROOM))
        print(
            f"Coffre sur un tmpfs de {megabytes} Mo : {used // 1024} ko de la démonstration, "
            f"lest de {ballast.stat().st_size // 1024} ko, "
            f"{shutil.disk_usage(disk).free // 1024} ko libres."
        )
        env = {**env, "MES_VAULT_DIR": str(vault)}
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(env, port, work / "server.log")
        try:
            return _drill(env, base, secret, vault, ballast, opts)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()


def _drill(
    env: dict[str, str],
    base: str,
    secret: str,
    vault: Path,
    ballast: Path,
    opts: argparse.Namespace,
) -> int:
    token = access_token(base, secret, scopes=SCOPES)
    found = Found()
    before = _blobs(vault)
    size = opts.pdf_kb * 1024
    streak = 0
    with httpx.Client(timeout=60) as client:
        for n in range(1, MAX_DEPOSITS + 1):
            unique_id, digest, response = _deposit(client, base, token, n, size)
            if 200 <= response.status_code < 300:
                found.acknowledged[unique_id] = digest
                streak = 0
                continue
            found.refused.append(_refusal(response))
            found.refused_ids.append(unique_id)
            streak += 1
            if streak >= FULL_AFTER:
                break
        print(
            f"{len(found.acknowledged)} dépôts acceptés, puis {len(found.refused)} refusés "
            f"(disque plein) ; {shutil.disk_usage(vault).free // 1024} ko libres."
        )
        kinds = {(r["status"], r["resourceType"], r["retry_after"]) for r in found.refused}
        print(f"Réponses aux dépôts refusés (statut, ressource, Retry-After) : {sorted(kinds)}")
        reads = _reads(client, base, token, found)
        print(
            f"Lectures disque plein : /healthz {reads['healthz']}, recherche ITI-67 "
            f"{reads['search']}, document relu {reads.get('binary', '-')} "
            f"({'identique' if reads['binary_identical'] else 'DIFFÉRENT'})"
        )

        state = _database_state(env)
        stored = {u.removeprefix("urn:oid:"): h for u, h in state["found"].items()}
        missing = [u for u in found.acknowledged if stored.get(u) != found.acknowledged[u]]
        half = [u for u in found.refused_ids if u in stored]
        extra = _blobs(vault) - before - len(found.acknowledged)
        sweep = subprocess.run(  # noqa: S603
            [MES, "vault_sweep"],
            env={**env, "MES_VAULT_SWEEP_GRACE_HOURS": "0"},
            capture_output=True,
            text=True,
            check=True,
        )
        extra_after = _blobs(vault) - before - len(found.acknowledged)
        print(f"Dépôts acceptés absents ou altérés : {len(missing)}")
        print(f"Dépôts refusés présents en base : {len(half)}")
        print(f"Lignes sans fichier lisible : {len(state['broken'])}")
        print(
            f"Fichiers sans ligne : {extra} ; balayage : {_swept(sweep.stdout)} orphelin(s) "
            f"supprimé(s) ; fichiers sans ligne après : {extra_after}"
        )

        ballast.unlink()  # the operator frees space: no restart
        again, digest, response = _deposit(client, base, token, 0, size)
        recovered = 200 <= response.status_code < 300
        if recovered:
            found.acknowledged[again] = digest
        after = _database_state(env)
        stored = {u.removeprefix("urn:oid:"): h for u, h in after["found"].items()}
        recovered = recovered and stored.get(again) == digest
        print(
            f"Place libérée : dépôt {'accepté et relu' if recovered else 'ÉCHOUÉ'} "
            f"({response.status_code}), sans redémarrage."
        )

    clean = all(
        r["status"] == 507 and r["resourceType"] == "OperationOutcome" for r in found.refused
    )
    failed = (
        not found.acknowledged
        or not found.refused
        or not clean
        or missing
        or half
        or state["broken"]
        or extra
        or extra_after
        or reads["healthz"] != 200
        or reads["search"] != 200
        or not reads["binary_identical"]
        or not recovered
    )
    print(
        "RÉSULTAT : "
        + (
            "ÉCHEC"
            if failed
            else "refus propres (507), rien à moitié écrit, lectures servies, "
            "reprise dès la place libérée"
        )
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--disk-mb", type=int, default=2, help="taille minimale du tmpfs")
    p.add_argument("--pdf-kb", type=int, default=48, help="taille des PDF déposés")
    p.add_argument("--database-url", help="PostgreSQL (sinon SQLite dans le dossier jetable)")
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

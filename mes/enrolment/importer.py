"""Population import: the affiliation file of the insurance schemes (mes-spec §3.2) becomes
citizens with an espace NOT_NOTIFIED; then the notices go out (e-mail, or postal letters).

Built for tens of millions of rows (docs/enrolment-import.md has the file layout):
- streamed line by line, written in batches of settings.MES_ENROLMENT_IMPORT_BATCH rows:
  memory is bounded by one batch, whatever the file's size;
- every row validated: a bad row goes to the rejection report (line, reason) and never holds
  back the good ones;
- idempotent: a person already known (by INS) is left as is, so the same file twice changes
  nothing;
- resumable: the checkpoint (next line, byte offset) commits in the same transaction as the
  batch it follows, so an interrupted run resumes exactly after its last committed batch;
- on PostgreSQL the new rows go in with COPY (the rows are checked in Python first).
"""

from __future__ import annotations

import csv
import hashlib
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from mes.access.actors import system_actor
from mes.identity.models import Citizen

from . import checks
from .layout import COLUMNS
from .models import (
    Espace,
    EspaceState,
    ImportRejection,
    ImportRun,
    LegalRepresentation,
)


class Interrupted(Exception):
    """Raised by the test hook to stop a run as a crash would."""


@dataclass(frozen=True)
class Person:
    line: int
    ins: str
    ins_kind: str
    birth_name: str
    first_names: str
    used_name: str
    used_first_name: str
    sex: str
    birth_date: date
    birth_place: str
    email: str
    phone: str
    address: str
    postcode: str
    city: str
    vitale_serial: str
    parent_ins: str
    parent_role: str


def validate(values: list[str], line: int, today: date | None = None) -> Person:
    """One row, checked (mes/enrolment/checks.py); ValueError with a French reason otherwise."""
    reason = checks.reason_of(values, today or timezone.localdate())
    if reason:
        raise ValueError(reason)
    row = checks.fields(values)
    ins = checks.compact_ins(row["ins"])
    return Person(
        line=line,
        ins=ins,
        ins_kind=(row["type_ins"] or "NIR").upper(),
        birth_name=row["nom_naissance"],
        first_names=row["prenoms"],
        used_name=row["nom_utilise"],
        used_first_name=row["prenom_utilise"],
        sex=row["sexe"].upper(),
        birth_date=date.fromisoformat(row["date_naissance"]),
        birth_place=row["lieu_naissance"] or ins[5:10],
        email=row["email"],
        phone=checks.compact_phone(row["telephone"]),
        address=row["adresse"],
        postcode=row["code_postal"],
        city=row["commune"],
        vitale_serial=row["numero_serie_vitale"],
        parent_ins=checks.compact_ins(row["ins_parent"]) if row["ins_parent"] else "",
        parent_role=checks.LINKS[checks.fold_link(row["lien_parent"])] if row["ins_parent"] else "",
    )


# --- Reading with a checkpoint ------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _lines(f: IO[bytes], start_line: int, offset: int) -> Iterator[tuple[int, int, list[str]]]:
    """(line number, byte offset after the line, values), from a checkpoint. One record per
    line (the layout forbids line breaks inside a field)."""
    header = f.readline()
    if not offset:
        offset = len(header)
    f.seek(offset)
    line = start_line
    for raw in f:
        offset += len(raw)
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if text:
            yield line, offset, next(csv.reader([text], delimiter=";"))
        line += 1


def check_header(path: Path) -> None:
    with path.open("rb") as f:
        header = f.readline().decode("utf-8-sig").rstrip("\r\n").split(";")
    if tuple(h.strip().lower() for h in header) != COLUMNS:
        raise ValueError(
            "En-tête inattendu. Colonnes attendues, dans l'ordre : " + ";".join(COLUMNS)
        )


# --- Writing one batch ---------------------------------------------------------------------------


@dataclass
class BatchResult:
    created: int = 0
    already_known: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _write_batch(people: list[Person], rejected: list[tuple[int, str]]) -> BatchResult:
    result = BatchResult(rejected=list(rejected))
    wanted = {p.ins for p in people} | {p.parent_ins for p in people if p.parent_ins}
    known = dict(Citizen.objects.filter(ins__in=wanted).values_list("ins", "pk"))
    new: list[tuple[Person, uuid.UUID]] = []
    ids = dict(known)
    for person in people:
        if person.ins in ids:
            result.already_known += 1
            continue
        if person.parent_ins and person.parent_ins not in ids:
            # Parents come before their children in the file (docs/enrolment-import.md).
            result.rejected.append((person.line, checks.PARENT_UNKNOWN))
            continue
        pk = uuid.uuid4()
        ids[person.ins] = pk
        new.append((person, pk))
    now = timezone.now()
    citizens = [_citizen_row(p, pk, now) for p, pk in new]
    espaces = [_espace_row(p, pk, ids, now) for p, pk in new]
    links = [(ids[p.parent_ins], pk, p.parent_role, now) for p, pk in new if p.parent_ins]
    _insert_rows(citizens, espaces, links)
    result.created = len(new)
    return result


CITIZEN_COLS = (
    "id",
    "ins",
    "ins_kind",
    "identity_status",
    "birth_name",
    "used_name",
    "first_names",
    "first_name",
    "used_first_name",
    "birth_date",
    "sex",
    "birth_place_insee",
    "email",
    "created_at",
)
ESPACE_COLS = (
    "citizen_id",
    "state",
    "state_changed_at",
    "vitale_serial",
    "phone",
    "address",
    "postcode",
    "city",
    "attached_to_id",
    "notice_channel",
    "code_failures",
)


def _citizen_row(p: Person, pk: uuid.UUID, now: datetime) -> tuple[Any, ...]:
    return (
        pk,
        p.ins,
        p.ins_kind,
        Citizen.IdentityStatus.VALI,  # from the insurer's reference data (RNIAM), not yet QUAL
        p.birth_name,
        p.used_name,
        p.first_names,
        checks.first_word(p.first_names),
        p.used_first_name,
        p.birth_date,
        p.sex,
        p.birth_place,
        p.email,
        now,
    )


def _espace_row(
    p: Person, pk: uuid.UUID, ids: dict[str, uuid.UUID], now: datetime
) -> tuple[Any, ...]:
    return (
        pk,
        EspaceState.NOT_NOTIFIED,
        now,
        p.vitale_serial,
        p.phone,
        p.address,
        p.postcode,
        p.city,
        ids[p.parent_ins] if p.parent_ins else None,
        "",
        0,
    )


def _insert_rows(citizens: list[tuple], espaces: list[tuple], links: list[tuple]) -> None:
    Citizen.objects.bulk_create(
        [Citizen(**dict(zip(CITIZEN_COLS, row, strict=True))) for row in citizens]
    )
    Espace.objects.bulk_create(
        [Espace(**dict(zip(ESPACE_COLS, row, strict=True))) for row in espaces]
    )
    LegalRepresentation.objects.bulk_create(
        [
            LegalRepresentation(representative_id=a, represented_id=b, role=role, started_at=at)
            for a, b, role, at in links
        ],
        ignore_conflicts=True,
    )


# --- The run ------------------------------------------------------------------------------------


@dataclass
class Progress:
    """A progress line on stderr: rows, rate, share done and ETA (from the position reached
    out of the total: bytes read, or lines checked)."""

    total: int
    out: IO[str] | None = sys.stderr
    started: float = field(default_factory=time.monotonic)
    start: int = 0
    rows: int = 0

    def update(self, rows: int, offset: int) -> None:
        self.rows += rows
        if self.out is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.rows / elapsed
        done = offset / max(self.total, 1)
        position_rate = (offset - self.start) / elapsed
        eta = (self.total - offset) / position_rate if position_rate else 0
        width = 30
        bar = "█" * int(done * width) + "·" * (width - int(done * width))
        self.out.write(
            f"\r{bar} {done:6.1%}  {self.rows:>12,} lignes  {rate:>9,.0f} lignes/s  "
            f"reste {int(eta) // 3600}:{int(eta) % 3600 // 60:02d}:{int(eta) % 60:02d}".replace(
                ",", " "
            )
        )
        self.out.flush()


def import_file(
    path: Path,
    *,
    batch_size: int | None = None,
    progress_out: IO[str] | None = sys.stderr,
    interrupt_after: int | None = None,
    engine: str | None = None,
) -> ImportRun:
    """Load the affiliation file (resuming a run of the same file where it stopped).

    engine: "sql" (PostgreSQL's default: the file COPYed into a staging table, every check
    and write set-based, mes/enrolment/import_sql.py) or "rows" (SQLite's: each row checked
    in Python, batches written with the ORM). Both give the same people and the same reasons.
    batch_size: lines per committed batch (default MES_ENROLMENT_IMPORT_BATCH, or
    MES_ENROLMENT_IMPORT_CHUNK for the SQL path).
    interrupt_after: for the tests, a crash inside the N-th batch's transaction (its writes
    roll back with its checkpoint). Raises ValueError for a file that is not the layout.
    """
    check_header(path)
    engine = engine or ("sql" if connection.vendor == "postgresql" else "rows")
    run, _ = ImportRun.objects.get_or_create(
        sha256=file_sha256(path), defaults={"file_name": str(path)}
    )
    if run.finished_at is not None:
        return run
    if engine == "sql":
        from . import import_sql

        import_sql.import_staged(
            run,
            path,
            chunk=batch_size or settings.MES_ENROLMENT_IMPORT_CHUNK,
            progress_out=progress_out,
            interrupt_after=interrupt_after,
        )
    else:
        _import_rows(
            run,
            path,
            batch_size=batch_size or settings.MES_ENROLMENT_IMPORT_BATCH,
            progress_out=progress_out,
            interrupt_after=interrupt_after,
        )
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at"])
    if progress_out is not None:
        progress_out.write("\n")
    return run


def _import_rows(
    run: ImportRun,
    path: Path,
    *,
    batch_size: int,
    progress_out: IO[str] | None,
    interrupt_after: int | None,
) -> None:
    progress = Progress(total=path.stat().st_size, out=progress_out, start=run.byte_offset)
    batches = 0
    today = timezone.localdate()
    with path.open("rb") as f:
        people: list[Person] = []
        rejected: list[tuple[int, str]] = []
        last = (run.next_line, run.byte_offset)
        for line, offset, values in _lines(f, run.next_line, run.byte_offset):
            try:
                people.append(validate(values, line, today))
            except ValueError as error:
                rejected.append((line, str(error)[:300]))
            last = (line + 1, offset)
            if len(people) + len(rejected) >= batch_size:
                batches += 1
                _commit(run, people, rejected, last, crash=batches == interrupt_after)
                progress.update(len(people) + len(rejected), offset)
                people, rejected = [], []
        batches += 1
        _commit(run, people, rejected, last, crash=batches == interrupt_after)
        progress.update(len(people) + len(rejected), last[1])


def _commit(
    run: ImportRun,
    people: list[Person],
    rejected: list[tuple[int, str]],
    last: tuple[int, int],
    *,
    crash: bool,
) -> None:
    with transaction.atomic():
        result = _write_batch(people, rejected)
        ImportRejection.objects.bulk_create(
            [ImportRejection(run=run, line=n, reason=why) for n, why in result.rejected],
            ignore_conflicts=True,
        )
        if crash:
            raise Interrupted("interruption simulée")
        run.next_line, run.byte_offset = last
        run.created += result.created
        run.already_known += result.already_known
        run.rejected += len(result.rejected)
        run.save(update_fields=["next_line", "byte_offset", "created", "already_known", "rejected"])


def write_rejection_report(run: ImportRun, path: Path) -> int:
    """The rejection report: `ligne;motif`, one bad row per line."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["ligne", "motif"])
        for line, reason in run.rejections.values_list("line", "reason").iterator(2000):
            writer.writerow([line, reason])
            n += 1
    return n


# --- The notices ------------------------------------------------------------------------------


@dataclass
class NoticeReport:
    emailed: int = 0
    letters: int = 0
    letter_files: list[Path] = field(default_factory=list)


def send_notices(
    *,
    letters_dir: Path,
    batch: int = 500,
    on_batch: Callable[[int], None] | None = None,
) -> NoticeReport:
    """Inform every NOT_NOTIFIED person (resumable: the state says who is left): e-mail where
    an address is known, else one PDF of postal letters per batch (mes-spec §3.2). Adults and
    parents first, so a child's notice can name a parent already informed."""
    from . import lifecycle, notices

    actor = system_actor("import-affiliation")
    report = NoticeReport()
    letters_dir.mkdir(parents=True, exist_ok=True)
    while ids := list(
        Espace.objects.filter(state=EspaceState.NOT_NOTIFIED)
        .order_by("citizen__birth_date")
        .values_list("pk", flat=True)[:batch]
    ):
        letters = []
        for pk in ids:
            result = lifecycle.espace_notify(actor=actor, citizen_id=pk)
            if result.emailed:
                report.emailed += 1
            else:
                letters.append(result.notice)
        if letters:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
            target = letters_dir / f"courriers-{stamp}.pdf"
            target.write_bytes(notices.letters_pdf(letters))
            report.letters += len(letters)
            report.letter_files.append(target)
        if on_batch:
            on_batch(len(ids))
    return report

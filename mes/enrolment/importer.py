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
import re
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
from mes.lib.ins import InsKind, InvalidIns, parse_ins

from .layout import COLUMNS
from .models import (
    Espace,
    EspaceState,
    ImportRejection,
    ImportRun,
    LegalRepresentation,
)

REQUIRED = ("ins", "nom_naissance", "prenoms", "sexe", "date_naissance", "numero_serie_vitale")
LINKS = {
    "mere": LegalRepresentation.Role.MOTHER,
    "pere": LegalRepresentation.Role.FATHER,
    "tuteur": LegalRepresentation.Role.GUARDIAN,
}
_PHONE = re.compile(r"^(?:\+33|0)[67]\d{8}$")
_POSTCODE = re.compile(r"^\d{5}$|^2[AB]\d{3}$")
_INSEE = re.compile(r"^[0-9][0-9AB]\d{3}$")
# The usual shape (one @, a dotted domain, no spaces): the notice's delivery tells the rest.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")


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


def _fold(text: str) -> str:
    return text.strip().casefold().replace("è", "e").replace("é", "e")


def validate(values: list[str], line: int, today: date | None = None) -> Person:
    """One row, checked; ValueError with a French reason otherwise."""
    if len(values) != len(COLUMNS):
        raise ValueError(f"{len(values)} colonnes au lieu de {len(COLUMNS)}")
    row = dict(zip(COLUMNS, (v.strip() for v in values), strict=True))
    for name in REQUIRED:
        if not row[name]:
            raise ValueError(f"colonne « {name} » vide")
    kind = (row["type_ins"] or "NIR").upper()
    if kind not in ("NIR", "NIA"):
        raise ValueError("type_ins doit valoir NIR ou NIA")
    try:
        ins = parse_ins(row["ins"], InsKind(kind)).value
    except InvalidIns as error:
        raise ValueError(f"INS invalide : {error}") from error
    try:
        born = date.fromisoformat(row["date_naissance"])
    except ValueError as error:
        raise ValueError("date_naissance invalide (AAAA-MM-JJ attendu)") from error
    if born > (today or timezone.localdate()) or born.year < 1890:
        raise ValueError("date_naissance hors limites")
    sex = row["sexe"].upper()
    if sex not in ("F", "M", "I"):
        raise ValueError("sexe doit valoir F, M ou I")
    if row["email"] and (len(row["email"]) > 254 or not _EMAIL.match(row["email"])):
        raise ValueError("adresse e-mail invalide")
    phone = re.sub(r"[\s.]", "", row["telephone"])
    if phone and not _PHONE.match(phone):
        raise ValueError("téléphone mobile invalide")
    if row["code_postal"] and not _POSTCODE.match(row["code_postal"]):
        raise ValueError("code_postal invalide")
    reachable = row["email"] or (row["adresse"] and row["code_postal"] and row["commune"])
    if not reachable and not row["ins_parent"]:  # a child is reached through the parent
        raise ValueError("ni e-mail ni adresse postale complète : impossible d'informer")
    serial = row["numero_serie_vitale"]
    if not serial.isdigit() or not 8 <= len(serial) <= 13:
        raise ValueError("numero_serie_vitale : 8 à 13 chiffres")
    if row["lieu_naissance"] and not _INSEE.match(row["lieu_naissance"]):
        raise ValueError("lieu_naissance : code INSEE à 5 caractères")
    parent_ins, parent_role = "", ""
    if row["ins_parent"]:
        try:
            parent_ins = parse_ins(row["ins_parent"]).value
        except InvalidIns as error:
            raise ValueError(f"ins_parent invalide : {error}") from error
        if parent_ins == ins:
            raise ValueError("une personne ne peut pas être rattachée à elle-même")
        parent_role = LINKS.get(_fold(row["lien_parent"]), "")
        if not parent_role:
            raise ValueError("lien_parent doit valoir mere, pere ou tuteur")
    for name in ("nom_naissance", "prenoms", "nom_utilise", "prenom_utilise", "commune"):
        if len(row[name]) > 100:
            raise ValueError(f"colonne « {name} » trop longue")
    return Person(
        line=line,
        ins=ins,
        ins_kind=kind,
        birth_name=row["nom_naissance"],
        first_names=row["prenoms"][:200],
        used_name=row["nom_utilise"],
        used_first_name=row["prenom_utilise"],
        sex=sex,
        birth_date=born,
        birth_place=row["lieu_naissance"] or ins[5:10],
        email=row["email"],
        phone=phone,
        address=row["adresse"][:200],
        postcode=row["code_postal"],
        city=row["commune"],
        vitale_serial=serial,
        parent_ins=parent_ins,
        parent_role=parent_role,
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
            result.rejected.append((person.line, "parent (ins_parent) inconnu ou rejeté"))
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


# --- PostgreSQL: one COPY into a staging table, then set-based statements ------------------------

STAGE = "enrolment_import_stage"
STAGE_COLS = (
    "line int",
    "ins text",
    "ins_kind text",
    "birth_name text",
    "used_name text",
    "first_names text",
    "first_name text",
    "used_first_name text",
    "birth_date date",
    "sex text",
    "birth_place text",
    "email text",
    "vitale_serial text",
    "phone text",
    "address text",
    "postcode text",
    "city text",
    "parent_ins text",
    "parent_role text",
)

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _stage_line(p: Person) -> str:
    """One staged row in COPY's text format. The file holds one record per line, so only a
    backslash or a tab can need escaping: the common case is a plain join."""
    values = (
        str(p.line),
        p.ins,
        p.ins_kind,
        p.birth_name,
        p.used_name,
        p.first_names,
        p.first_names.split()[0],
        p.used_first_name,
        p.birth_date.isoformat(),
        p.sex,
        p.birth_place,
        p.email,
        p.vitale_serial,
        p.phone,
        p.address,
        p.postcode,
        p.city,
        p.parent_ins,
        p.parent_role,
    )
    text = "\t".join(values)
    if text.count("\t") != len(values) - 1 or "\\" in text:
        text = "\t".join(v.translate(_COPY_ESCAPES) for v in values)
    return text + "\n"


# New citizens of the staging table (ON CONFLICT: a person already known is left as is), with
# their espace NOT_NOTIFIED and, for a child, the espace's attachment and the legal
# representation. {where} picks the rows: without a parent, or with a parent now known.
_INSERT = f"""
WITH new AS (
    INSERT INTO identity_citizen (id, ins, ins_kind, identity_status, birth_name, used_name,
        first_names, first_name, used_first_name, birth_date, sex, birth_place_insee, email,
        created_at)
    SELECT gen_random_uuid(), s.ins, s.ins_kind, %(status)s, s.birth_name, s.used_name,
        s.first_names, s.first_name, s.used_first_name, s.birth_date, s.sex, s.birth_place,
        s.email, %(now)s
    FROM {STAGE} s WHERE {{where}} ORDER BY s.line
    ON CONFLICT (ins) DO NOTHING
    RETURNING id, ins
), rows AS (
    SELECT new.id, s.*, parent.id AS parent_id
    FROM new JOIN {STAGE} s ON s.ins = new.ins
    LEFT JOIN identity_citizen parent ON parent.ins = s.parent_ins AND s.parent_ins <> ''
), espaces AS (
    INSERT INTO enrolment_espace (citizen_id, state, state_changed_at, vitale_serial, phone,
        address, postcode, city, attached_to_id, notice_channel, code_failures)
    SELECT id, %(state)s, %(now)s, vitale_serial, phone, address, postcode, city, parent_id, '', 0
    FROM rows
), links AS (
    INSERT INTO enrolment_legalrepresentation (representative_id, represented_id, role,
        started_at)
    SELECT parent_id, id, parent_role, %(now)s FROM rows WHERE parent_id IS NOT NULL
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM new
"""  # noqa: S608 - table names are constants
_NO_PARENT = "s.parent_ins = ''"
_PARENT_KNOWN = (
    "s.parent_ins <> '' AND EXISTS (SELECT 1 FROM identity_citizen p WHERE p.ins = s.parent_ins)"
)
_PARENT_MISSING = f"""
SELECT s.line FROM {STAGE} s
WHERE s.parent_ins <> ''
  AND NOT EXISTS (SELECT 1 FROM identity_citizen c WHERE c.ins = s.ins)
ORDER BY s.line
"""  # noqa: S608 - table names are constants


def _write_batch_postgresql(people: list[Person], rejected: list[tuple[int, str]]) -> BatchResult:
    """The batch in a handful of statements, whatever its size: COPY into a temporary staging
    table, then INSERT … SELECT … ON CONFLICT DO NOTHING into citizen, espace and legal
    representation. A person named twice in the batch is staged once (the first line)."""
    result = BatchResult(rejected=list(rejected))
    seen: set[str] = set()
    lines: list[str] = []
    for person in people:
        if person.ins in seen:
            result.already_known += 1
            continue
        seen.add(person.ins)
        lines.append(_stage_line(person))
    params: dict[str, str | datetime] = {
        "status": Citizen.IdentityStatus.VALI,  # insurer's reference data (RNIAM), not yet QUAL
        "state": EspaceState.NOT_NOTIFIED,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        # ON COMMIT DELETE ROWS: the staging table is empty at each batch's start.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ({', '.join(STAGE_COLS)}) "
            "ON COMMIT DELETE ROWS"
        )
        # And emptied here too: inside an outer transaction (a test's), there is no commit.
        cursor.execute(f"TRUNCATE {STAGE}")
        if lines:
            with cursor.cursor.copy(f"COPY {STAGE} FROM STDIN") as copy:
                copy.write("".join(lines).encode())
        cursor.execute(f"ANALYZE {STAGE}")
        cursor.execute(_INSERT.format(where=_NO_PARENT), params)
        result.created += cursor.fetchone()[0]
        # A child whose parent is a child of the same batch comes in on the next round.
        while True:
            cursor.execute(_INSERT.format(where=_PARENT_KNOWN), params)
            created = cursor.fetchone()[0]
            result.created += created
            if not created:
                break
        cursor.execute(_PARENT_MISSING)
        missing = [line for (line,) in cursor.fetchall()]
    # Parents come before their children in the file (docs/enrolment-import.md).
    result.rejected += [(line, "parent (ins_parent) inconnu ou rejeté") for line in missing]
    result.already_known += len(seen) - result.created - len(missing)
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
        p.first_names.split()[0],
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
    """A progress line on stderr: rows, rate, share done and ETA (from bytes read)."""

    total_bytes: int
    out: IO[str] | None = sys.stderr
    started: float = field(default_factory=time.monotonic)
    start_offset: int = 0
    rows: int = 0

    def update(self, rows: int, offset: int) -> None:
        self.rows += rows
        if self.out is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.rows / elapsed
        done = offset / max(self.total_bytes, 1)
        bytes_rate = (offset - self.start_offset) / elapsed
        eta = (self.total_bytes - offset) / bytes_rate if bytes_rate else 0
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
) -> ImportRun:
    """Load the affiliation file (resuming a run of the same file where it stopped).

    interrupt_after: for the tests, a crash inside the N-th batch's transaction (its writes
    roll back with its checkpoint). Raises ValueError for a file that is not the layout.
    """
    check_header(path)
    batch_size = batch_size or settings.MES_ENROLMENT_IMPORT_BATCH
    run, _ = ImportRun.objects.get_or_create(
        sha256=file_sha256(path), defaults={"file_name": str(path)}
    )
    if run.finished_at is not None:
        return run
    progress = Progress(
        total_bytes=path.stat().st_size, out=progress_out, start_offset=run.byte_offset
    )
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
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at"])
    if progress_out is not None:
        progress_out.write("\n")
    return run


def _commit(
    run: ImportRun,
    people: list[Person],
    rejected: list[tuple[int, str]],
    last: tuple[int, int],
    *,
    crash: bool,
) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            result = _write_batch_postgresql(people, rejected)
        else:
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

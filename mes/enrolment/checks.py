"""The checks of one affiliation-file row, each written ONCE with its two forms side by side:
the Python form (the row path: SQLite, and any database when asked) and the SQL form (the
set-based path of PostgreSQL, run over a staging table). Both give the same French reason for
the same row: `mes/enrolment/tests/test_import_paths.py` feeds one file of good and bad rows
through both paths and compares the people loaded and the reasons given.

The forms stay equal by construction where they can: the same regular expressions (plain
ASCII classes, understood alike by Python's `re` and PostgreSQL's), the same characters
stripped, the same messages (mes.lib.ins's for the INS). The first failing check gives the
reason, in the order of CHECKS (COALESCE in SQL evaluates its arguments left to right and stops
at the first reason).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from mes.lib import ins as ins_lib

from .layout import COLUMNS

# What the file's values are stripped of, at both ends (Python's bare strip() would also take
# Unicode spaces that PostgreSQL's btrim keeps).
SPACES = " \t\n\r\f\v\u00a0"
# Taken out of an INS or a phone number typed with separators.
INS_SEPARATORS = SPACES + ".-"
PHONE_SEPARATORS = SPACES + "."

REQUIRED = ("ins", "nom_naissance", "prenoms", "sexe", "date_naissance", "numero_serie_vitale")
LINKS = {"mere": "mother", "pere": "father", "tuteur": "guardian"}
# lien_parent is compared without case or accent: « Mère », « PÈRE » are fine.
LINK_FOLD = ("ÈÉèé", "EEee")
MAX_LENGTHS = {
    "nom_naissance": 100,
    "prenoms": 200,
    "nom_utilise": 100,
    "prenom_utilise": 100,
    "adresse": 200,
    "commune": 100,
}

DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
PHONE = r"^(?:\+33|0)[67][0-9]{8}$"
POSTCODE = r"^[0-9]{5}$|^2[AB][0-9]{3}$"
INSEE = r"^[0-9][0-9AB][0-9]{3}$"
SERIAL = r"^[0-9]{8,13}$"
# The usual shape (one @, a dotted domain, no spaces): the notice's delivery tells the rest.
EMAIL = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$"
EMAIL_MAX = 254
OLDEST_YEAR = 1890

PARENT_UNKNOWN = "parent (ins_parent) inconnu ou rejeté"

Fields = dict[str, str]


def _match(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda value: compiled.match(value) is not None


_date, _phone, _postcode, _insee, _serial, _email = map(
    _match, (DATE, PHONE, POSTCODE, INSEE, SERIAL, EMAIL)
)
_INS_DROP = str.maketrans("", "", INS_SEPARATORS)
_PHONE_DROP = str.maketrans("", "", PHONE_SEPARATORS)
_FOLD = str.maketrans(*LINK_FOLD)


def compact_ins(value: str) -> str:
    return value.translate(_INS_DROP).upper()


def compact_phone(value: str) -> str:
    return value.translate(_PHONE_DROP)


def fold_link(value: str) -> str:
    return value.translate(_FOLD).lower()


def first_word(first_names: str) -> str:
    return first_names.split(" ", 1)[0]


# --- SQL helpers --------------------------------------------------------------------------------


def lit(text: str) -> str:
    """An SQL string literal (standard_conforming_strings: only the quote is special)."""
    return "'" + text.replace("'", "''") + "'"


def _sql_chars(chars: str) -> str:
    """An E'' literal of these characters, each written as a \\uXXXX escape."""
    return "E'" + "".join(f"\\u{ord(c):04x}" for c in chars) + "'"


def _reason(condition: str, reason: str) -> str:
    return f"CASE WHEN {condition} THEN {lit(reason)} END"


# --- The INS (also the parent's) ---------------------------------------------------------------


def _ins_python(value: str, prefix: str) -> str | None:
    try:
        ins_lib.parse_ins(compact_ins(value))
    except ins_lib.InvalidIns as error:
        return f"{prefix} : {error}"
    return None


def _ins_sql(column: str, prefix: str) -> str:
    """mes.lib.ins.parse_ins in SQL: the same messages, the key 97 - (N mod 97) with Corsica's
    2A/2B counted as 19/18 for the key only."""
    n = column
    corsica = (
        f"CASE substr({n}, 6, 2) WHEN '2A' THEN overlay({n} PLACING '19' FROM 6 FOR 2) "
        f"WHEN '2B' THEN overlay({n} PLACING '18' FROM 6 FOR 2) ELSE {n} END"
    )
    before, after = ins_lib.MESSAGE_LENGTH.split("{n}")
    p = f"{prefix} : "
    return (
        f"CASE WHEN {n} = '' THEN {lit(p + ins_lib.MESSAGE_EMPTY)} "
        f"WHEN length({n}) <> 15 THEN {lit(p + before)} || length({n}) || {lit(after)} "
        f"WHEN {n} !~ {lit(ins_lib.SHAPE)} THEN {lit(p + ins_lib.MESSAGE_SHAPE)} "
        f"WHEN 97 - (left({corsica}, 13)::bigint % 97) <> right({n}, 2)::int "
        f"THEN {lit(p + ins_lib.MESSAGE_KEY)} END"
    )


def _valid_date_sql(column: str) -> str:
    """A real calendar day (PostgreSQL's cast would abort the whole statement otherwise)."""
    y = f"substr({column}, 1, 4)::int"
    m = f"substr({column}, 6, 2)::int"
    d = f"substr({column}, 9, 2)::int"
    leap = f"(({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0)"
    days = f"CASE WHEN {m} = 2 THEN 28 + ({leap})::int ELSE 31 - ({m} - 1) % 7 % 2 END"
    return f"({y} >= 1 AND {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {days})"


def _date_python(value: str) -> date | None:
    if not _date(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# --- The checks, in order -----------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One rule: `python` gives the reason for a row (its stripped values by column name) or
    None; `sql` is an SQL expression over the staged row's columns giving the same reason or
    NULL. `today` is the import's day ({today} in the SQL)."""

    python: Callable[[Fields, date], str | None]
    sql: str


def _required(column: str) -> Check:
    reason = f"colonne « {column} » vide"
    return Check(lambda r, _: reason if not r[column] else None, _reason(f"{column} = ''", reason))


def _too_long(column: str, limit: int) -> Check:
    reason = f"colonne « {column} » trop longue"
    return Check(
        lambda r, _: reason if len(r[column]) > limit else None,
        _reason(f"length({column}) > {limit}", reason),
    )


def _born_python(r: Fields, today: date) -> str | None:
    born = _date_python(r["date_naissance"])
    if born is None:
        return "date_naissance invalide (AAAA-MM-JJ attendu)"
    if born > today or born.year < OLDEST_YEAR:
        return "date_naissance hors limites"
    return None


_BORN_SQL = (
    # CASE, not OR: SQL does not promise to stop at the first true operand of an OR, and the
    # day's arithmetic needs the shape checked first.
    f"CASE WHEN date_naissance !~ {lit(DATE)} "
    f"THEN {lit('date_naissance invalide (AAAA-MM-JJ attendu)')} "
    f"WHEN NOT {_valid_date_sql('date_naissance')} "
    f"THEN {lit('date_naissance invalide (AAAA-MM-JJ attendu)')} "
    f"WHEN date_naissance::date > {{today}} OR substr(date_naissance, 1, 4)::int < {OLDEST_YEAR} "
    f"THEN {lit('date_naissance hors limites')} END"
)


def _reachable(r: Fields) -> bool:
    return bool(r["email"] or (r["adresse"] and r["code_postal"] and r["commune"]))


UNREACHABLE = "ni e-mail ni adresse postale complète : impossible d'informer"

CHECKS: tuple[Check, ...] = (
    *(_required(c) for c in REQUIRED),
    Check(
        lambda r, _: (
            None
            if (r["type_ins"] or "NIR").upper() in ("NIR", "NIA")
            else "type_ins doit valoir NIR ou NIA"
        ),
        _reason("upper(type_ins) NOT IN ('', 'NIR', 'NIA')", "type_ins doit valoir NIR ou NIA"),
    ),
    Check(lambda r, _: _ins_python(r["ins"], "INS invalide"), _ins_sql("ins_n", "INS invalide")),
    Check(_born_python, _BORN_SQL),
    Check(
        lambda r, _: None if r["sexe"].upper() in ("F", "M", "I") else "sexe doit valoir F, M ou I",
        _reason("upper(sexe) NOT IN ('F', 'M', 'I')", "sexe doit valoir F, M ou I"),
    ),
    Check(
        lambda r, _: (
            "adresse e-mail invalide"
            if r["email"] and (len(r["email"]) > EMAIL_MAX or not _email(r["email"]))
            else None
        ),
        _reason(
            f"email <> '' AND (length(email) > {EMAIL_MAX} OR email !~ {lit(EMAIL)})",
            "adresse e-mail invalide",
        ),
    ),
    Check(
        lambda r, _: (
            "téléphone mobile invalide"
            if compact_phone(r["telephone"]) and not _phone(compact_phone(r["telephone"]))
            else None
        ),
        _reason(f"phone_n <> '' AND phone_n !~ {lit(PHONE)}", "téléphone mobile invalide"),
    ),
    Check(
        lambda r, _: (
            "code_postal invalide" if r["code_postal"] and not _postcode(r["code_postal"]) else None
        ),
        _reason(f"code_postal <> '' AND code_postal !~ {lit(POSTCODE)}", "code_postal invalide"),
    ),
    # A child is reached through the parent.
    Check(
        lambda r, _: UNREACHABLE if not _reachable(r) and not r["ins_parent"] else None,
        _reason(
            "email = '' AND (adresse = '' OR code_postal = '' OR commune = '') AND ins_parent = ''",
            UNREACHABLE,
        ),
    ),
    Check(
        lambda r, _: (
            None if _serial(r["numero_serie_vitale"]) else "numero_serie_vitale : 8 à 13 chiffres"
        ),
        _reason(f"numero_serie_vitale !~ {lit(SERIAL)}", "numero_serie_vitale : 8 à 13 chiffres"),
    ),
    Check(
        lambda r, _: (
            "lieu_naissance : code INSEE à 5 caractères"
            if r["lieu_naissance"] and not _insee(r["lieu_naissance"])
            else None
        ),
        _reason(
            f"lieu_naissance <> '' AND lieu_naissance !~ {lit(INSEE)}",
            "lieu_naissance : code INSEE à 5 caractères",
        ),
    ),
    Check(
        lambda r, _: (
            _ins_python(r["ins_parent"], "ins_parent invalide") if r["ins_parent"] else None
        ),
        f"CASE WHEN ins_parent <> '' THEN {_ins_sql('parent_n', 'ins_parent invalide')} END",
    ),
    Check(
        lambda r, _: (
            "une personne ne peut pas être rattachée à elle-même"
            if r["ins_parent"] and compact_ins(r["ins_parent"]) == compact_ins(r["ins"])
            else None
        ),
        _reason(
            "ins_parent <> '' AND parent_n = ins_n",
            "une personne ne peut pas être rattachée à elle-même",
        ),
    ),
    Check(
        lambda r, _: (
            "lien_parent doit valoir mere, pere ou tuteur"
            if r["ins_parent"] and fold_link(r["lien_parent"]) not in LINKS
            else None
        ),
        _reason(
            "ins_parent <> '' AND role IS NULL", "lien_parent doit valoir mere, pere ou tuteur"
        ),
    ),
    *(_too_long(c, n) for c, n in MAX_LENGTHS.items()),
    Check(
        lambda r, _: "premier prénom trop long" if len(first_word(r["prenoms"])) > 100 else None,
        _reason("length(split_part(prenoms, ' ', 1)) > 100", "premier prénom trop long"),
    ),
)


def column_count_reason(n: int) -> str:
    return f"{n} colonnes au lieu de {len(COLUMNS)}"


def reason_of(values: list[str], today: date) -> str | None:
    """The Python form: the reason a row is refused, or None."""
    if len(values) != len(COLUMNS):
        return column_count_reason(len(values))
    row = dict(zip(COLUMNS, (v.strip(SPACES) for v in values), strict=True))
    for check in CHECKS:
        if reason := check.python(row, today):
            return reason
    return None


def fields(values: list[str]) -> Fields:
    return dict(zip(COLUMNS, (v.strip(SPACES) for v in values), strict=True))


# --- The SQL form: the staged line, split, stripped, checked ------------------------------------

# OFFSET 0 keeps each level a subquery of its own: flattened, every use of a derived column
# would repeat its whole expression (the split, the strip...), dozens of times per row.
#
# A line without a double quote is split on `;` (the common case, no function call per row);
# one with a quote goes through pg_temp.enrolment_csv_fields, which reads it as Python's csv
# module does (CSV_FIELDS_FUNCTION, created by the importer in its session).
CSV_FIELDS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION pg_temp.enrolment_csv_fields(line text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    out text[] := '{}';
    field text := '';
    quoted boolean := false;   -- inside a quoted field
    was_quoted boolean := false;
    i int := 1;
    c text;
BEGIN
    WHILE i <= length(line) LOOP
        c := substr(line, i, 1);
        IF quoted THEN
            IF c = '"' THEN
                IF substr(line, i + 1, 1) = '"' THEN
                    field := field || '"';
                    i := i + 1;
                ELSE
                    quoted := false;
                END IF;
            ELSE
                field := field || c;
            END IF;
        ELSIF c = ';' THEN
            out := out || field;
            field := '';
            was_quoted := false;
        ELSIF c = '"' AND field = '' AND NOT was_quoted THEN
            quoted := true;
            was_quoted := true;
        ELSE
            field := field || c;
        END IF;
        i := i + 1;
    END LOOP;
    RETURN out || field;
END
$$
"""


def _strip(expression: str) -> str:
    return f"btrim({expression}, {_sql_chars(SPACES)})"


def checked_rows_sql(stage: str, *, first: int, last: int, today: date) -> str:
    """SELECT line, reason, and the person's values (NULL reason) of the staged lines
    [first, last): every check of CHECKS, in SQL, no function call per row but for the
    rare line with a quote."""
    split = (
        "CASE WHEN strpos(r, '\"') = 0 THEN string_to_array(r, ';') "
        "ELSE pg_temp.enrolment_csv_fields(r) END"
    )
    columns = ", ".join(f"{_strip(f'v[{i}]')} AS {c}" for i, c in enumerate(COLUMNS, 1))
    ins_drop = _sql_chars(INS_SEPARATORS)
    phone_drop = _sql_chars(PHONE_SEPARATORS)
    role = (
        "CASE lower(translate(lien_parent, "
        f"{lit(LINK_FOLD[0])}, {lit(LINK_FOLD[1])})) "
        + " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in LINKS.items())
        + " END"
    )
    reasons = ", ".join(c.sql.replace("{today}", lit(today.isoformat()) + "::date") for c in CHECKS)
    count_reason = (
        f"CASE WHEN ncol <> {len(COLUMNS)} THEN ncol || {lit(column_count_reason(0)[1:])} END"
    )
    return f"""
SELECT line, COALESCE({count_reason}, {reasons}) AS reason,
    ins_n AS ins, CASE WHEN type_ins = '' THEN 'NIR' ELSE upper(type_ins) END AS ins_kind,
    nom_naissance AS birth_name, nom_utilise AS used_name, prenoms AS first_names,
    split_part(prenoms, ' ', 1) AS first_name, prenom_utilise AS used_first_name,
    date_naissance AS birth_date, upper(sexe) AS sex,
    CASE WHEN lieu_naissance = '' THEN substr(ins_n, 6, 5) ELSE lieu_naissance END
        AS birth_place,
    email, phone_n AS phone, adresse AS address, code_postal AS postcode, commune AS city,
    numero_serie_vitale AS vitale_serial,
    CASE WHEN ins_parent = '' THEN '' ELSE parent_n END AS parent_ins,
    COALESCE(role, '') AS parent_role
FROM (
    SELECT *, upper(translate(ins, {ins_drop}, '')) AS ins_n,
        upper(translate(ins_parent, {ins_drop}, '')) AS parent_n,
        translate(telephone, {phone_drop}, '') AS phone_n,
        {role} AS role
    FROM (
        SELECT line, cardinality(v) AS ncol, {columns}
        FROM (
            SELECT line, {split} AS v
            FROM (SELECT line, rtrim(raw, E'\\r') AS r FROM {stage}
                  WHERE line >= {int(first)} AND line < {int(last)}) lines
            WHERE r <> '' OFFSET 0
        ) split OFFSET 0
    ) stripped OFFSET 0
) derived
"""  # noqa: S608 - stage is our own table name, the bounds are ints

"""ITI-67 Find Document References: the search parameters of spec/mhd.md as a query.

The parameters only narrow what the access decision already lets this actor see
(mes.records.policies.documents_visible_to): nothing here widens a list.

- `patient` (Patient/<id>, <id> or an absolute URL) or `patient.identifier` (INS token), and
  `status`, are required (400 otherwise).
- tokens (`category`, `type`, `format`, `security-label`, `facility`, `setting`, `event`,
  `related`, `identifier`, `_id`, `status`, `isArchived`): `system|code`, `|code` or `code`; a comma
  is an OR; a repeated parameter is an AND; the `:not` modifier negates.
- dates (`date`, `creation`, `period`, `_lastUpdated`): FHIR precision ranges with the prefixes
  eq, ne, lt, le, gt, ge, sa, eb; a value without time zone is read in the server's zone.
- strings (`author.given`, `author.family`): case-insensitive « starts with », or `:exact`,
  `:contains`.
- `_count` (default 20, at most 100), `_offset` (the page cursor of the `next` links), `_sort`
  (date, period, creation, each ascending or with « - »; default -date).
- `isArchived` (PDSm SearchParameter PDSm_isArchived): archived documents (TD3.3) stay out of
  the results unless it is given, as in the DMP's default lists.

Unknown parameters are ignored (and left out of the `self` link).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mes.fhir.core.outcome import FhirError, IssueCode
from mes.identity.models import Organisation
from mes.lib import codes
from mes.records import packed
from mes.records.models import Document

from . import document_reference as dr
from . import systems

DEFAULT_COUNT = 20
MAX_COUNT = 100
NONE = Q(pk__in=[])
ALL = Q(pk__isnull=False)  # not Q(): an empty Q vanishes when OR-ed

TOKEN_PARAMS = (
    "category",
    "type",
    "format",
    "security-label",
    "facility",
    "setting",
    "event",
    "related",
    "identifier",
    "_id",
    "status",
    "isArchived",
)
DATE_PARAMS = {
    "date": "deposited_at",
    "_lastUpdated": "deposited_at",
    "creation": "created_at",
    "period": "service_date",
}
STRING_PARAMS = ("author.given", "author.family")
CONTROL_PARAMS = ("_count", "_offset", "_sort")
PATIENT_PARAMS = ("patient", "patient.identifier")
SORTS = {"date": "deposited_at", "period": "service_date", "creation": "created_at"}

_DATE = re.compile(
    r"^(?P<prefix>eq|ne|lt|le|gt|ge|sa|eb|ap)?"
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$",
    re.ASCII,  # « ٢٠٢٤ » is not a year for FHIR
)
# The deepest page a search may ask for: beyond, the client narrows its search (no database
# takes an unbounded OFFSET, and SQLite's is 64 bits).
MAX_OFFSET = 100_000
_INTEGER = re.compile(r"[0-9]{1,9}")


def _bad(param: str, message: str) -> FhirError:
    return FhirError(400, IssueCode.VALUE, message, expression=param)


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "": explicitly none
    code: str


def tokens(value: str) -> list[Token]:
    """`a|b,c` -> the OR-list of tokens (a comma inside a value is escaped as `\\,`)."""
    out = []
    for raw in re.split(r"(?<!\\),", value):
        raw = raw.replace("\\,", ",").strip()
        if not raw:
            continue
        system, sep, code = raw.partition("|")
        out.append(Token(system if sep else None, code if sep else raw))
    return out


# --- tokens -----------------------------------------------------------------------------------


def _system_ok(token: Token, canonical: str) -> bool:
    return token.system is None or systems.same_system(token.system, canonical)


def _category(t: Token, now: datetime) -> Q:
    return Q(class_code=t.code) if _system_ok(t, systems.TRE_A03) else NONE


def _type(t: Token, now: datetime) -> Q:
    known = codes.type_codes().get(t.code)
    if known is None or not _system_ok(t, known.system_uri):
        return NONE
    return Q(type_code=t.code)


def _format(t: Token, now: datetime) -> Q:
    # Format codes are URNs, unique whatever the system a sender names.
    return Q(format_code=t.code)


def hidden_from_patient_q(now: datetime) -> Q:
    """INVISIBLE_PATIENT still in force: not released, and deposited less than a month ago."""
    cutoff = now - settings.MES_HIDDEN_FROM_PATIENT_RELEASE_AFTER
    return Q(
        hidden_from_patient=True,
        hidden_from_patient_released_at__isnull=True,
        deposited_at__gt=cutoff,
    )


def _security_label(t: Token, now: datetime) -> Q:
    if t.code in ("N", "R", "V"):
        if not _system_ok(t, systems.HL7_CONFIDENTIALITY):
            return NONE
        return ALL if t.code == "N" else NONE  # every document is « N » (mes-spec §4.6)
    if not _system_ok(t, systems.TRE_A07):
        return NONE
    if t.code == "MASQUE_PS":
        return Q(masked_from_professionals=True)
    if t.code == "INVISIBLE_PATIENT":
        return hidden_from_patient_q(now)
    if t.code == "INVISIBLE_REPRESENTANTS_LEGAUX":
        return Q(hidden_from_representatives=True)
    return NONE


def authored_from(kinds: Iterable[str]) -> Q:
    """Documents whose context is derived from one of these structure kinds
    (document_reference.author_kind_of, as a query)."""
    kinds = set(kinds)
    if not kinds:
        return NONE
    q = Q(
        author_kind__in=[Document.AuthorKind.PROFESSIONAL, Document.AuthorKind.STRUCTURE],
        author_organisation__kind__in=sorted(kinds),
    )
    if dr.NO_STRUCTURE in kinds:
        q |= Q(author_kind=Document.AuthorKind.PROFESSIONAL, author_organisation__isnull=True)
    if Organisation.Kind.INSURER in kinds:
        q |= Q(author_kind=Document.AuthorKind.INSURER)
    return q


def _facility(t: Token, now: datetime) -> Q:
    if not _system_ok(t, systems.TRE_R02):
        return NONE
    return authored_from(k for k, (code, _) in dr.FACILITY_BY_KIND.items() if code == t.code)


def _setting(t: Token, now: datetime) -> Q:
    if t.code == dr.PATIENT_SETTING[0] and _system_ok(t, systems.TRE_A00):
        return Q(author_kind=Document.AuthorKind.PATIENT)
    if not _system_ok(t, systems.TRE_A01):
        return NONE
    return authored_from(k for k, (code, _) in dr.SETTING_BY_KIND.items() if code == t.code)


def _event(t: Token, now: datetime) -> Q:
    # eventCodeList, kept as sent: `system|code` (the same system string), `|code` (sent without
    # a system) or `code` (any system).
    return packed.code_q("event_codes", t.code, t.system)


def _related(t: Token, now: datetime) -> Q:
    # referenceIdList keeps the identifier values only: a system in the token is not compared.
    return packed.value_q("reference_ids", t.code)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _identifier(t: Token, now: datetime) -> Q:
    if t.system not in (None, "", systems.RFC3986):
        return NONE
    value = t.code.strip()
    if value.startswith("urn:uuid:"):
        pk = _as_uuid(value.removeprefix("urn:uuid:"))
        return Q(pk=pk) if pk else NONE
    if value.startswith("urn:oid:"):
        return Q(unique_id=value.removeprefix("urn:oid:"))
    pk = _as_uuid(value)
    return Q(pk=pk) if pk else Q(unique_id=value)


def _id(t: Token, now: datetime) -> Q:
    pk = _as_uuid(t.code)
    return Q(pk=pk) if pk else NONE


def _status(t: Token, now: datetime) -> Q:
    # ITI-67: `status` without a system (current ↔ Approved, superseded ↔ Deprecated); an
    # archived document is current (PDSm) and filtered by isArchived.
    if t.system:
        return NONE
    if t.code == "current":
        return Q(status__in=[Document.Status.CURRENT, Document.Status.ARCHIVED])
    if t.code == "superseded":
        return Q(status=Document.Status.SUPERSEDED)
    return NONE


def _is_archived(t: Token, now: datetime) -> Q:
    if t.code == "true":
        return Q(status=Document.Status.ARCHIVED)
    if t.code == "false":
        return ~Q(status=Document.Status.ARCHIVED)
    raise _bad("isArchived", "isArchived attend true ou false.")


TOKEN_FILTERS: dict[str, Callable[[Token, datetime], Q]] = {
    "category": _category,
    "type": _type,
    "format": _format,
    "security-label": _security_label,
    "facility": _facility,
    "setting": _setting,
    "event": _event,
    "related": _related,
    "identifier": _identifier,
    "_id": _id,
    "status": _status,
    "isArchived": _is_archived,
}


# --- dates ------------------------------------------------------------------------------------


def date_range(param: str, value: str) -> tuple[str, datetime, datetime]:
    """(prefix, start, end) of a FHIR date search value: the instant range its precision covers,
    end excluded."""
    m = _DATE.match(value.strip())
    if m is None:
        raise _bad(
            param,
            f"Date invalide pour « {param} » : « {value[:40]} » (AAAA, AAAA-MM, AAAA-MM-JJ ou "
            "AAAA-MM-JJThh:mm[:ss][fuseau], précédée de eq, ne, lt, le, gt, ge, sa ou eb).",
        )
    prefix = m["prefix"] or "eq"
    if prefix == "ap":
        raise FhirError(
            400,
            IssueCode.NOT_SUPPORTED,
            "Le préfixe « ap » (approximativement) n'est pas pris en charge.",
            expression=param,
        )
    try:
        year, month, day = int(m["year"]), int(m["month"] or 1), int(m["day"] or 1)
        if m["hour"] is None:
            start = datetime.combine(date(year, month, day), time())
            if m["day"]:
                end = start + timedelta(days=1)
            elif m["month"]:
                end = start.replace(year=year + month // 12, month=month % 12 + 1)
            else:
                end = start.replace(year=year + 1)
        else:
            fraction = m["fraction"] or ""
            start = datetime(
                year,
                month,
                day,
                int(m["hour"]),
                int(m["minute"]),
                int(m["second"] or 0),
                int(fraction[:6].ljust(6, "0")) if fraction else 0,
            )
            if fraction:
                step = timedelta(microseconds=10 ** (6 - min(len(fraction), 6)))
            elif m["second"]:
                step = timedelta(seconds=1)
            else:
                step = timedelta(minutes=1)
            end = start + step
        tz = m["tz"]
        if tz is None:
            lo, hi = timezone.make_aware(start), timezone.make_aware(end)
        else:
            offset = "+00:00" if tz == "Z" else tz
            lo = datetime.fromisoformat(start.isoformat() + offset)
            hi = datetime.fromisoformat(end.isoformat() + offset)
        # Years 1 and 9999 with an offset leave the range of datetime once in UTC, where the
        # database compares them: refused here rather than there.
        lo.astimezone(UTC), hi.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _bad(param, f"Date impossible pour « {param} » : « {value[:40]} ».") from None
    return prefix, lo, hi


def _instant_q(field_name: str, prefix: str, lo: datetime, hi: datetime) -> Q:
    f = field_name
    if prefix == "eq":
        return Q(**{f"{f}__gte": lo, f"{f}__lt": hi})
    if prefix == "ne":
        return ~Q(**{f"{f}__gte": lo, f"{f}__lt": hi})
    if prefix in ("gt", "sa"):
        return Q(**{f"{f}__gte": hi})
    if prefix in ("lt", "eb"):
        return Q(**{f"{f}__lt": lo})
    if prefix == "ge":
        return Q(**{f"{f}__gte": lo})
    return Q(**{f"{f}__lt": hi})  # le


def _day_q(field_name: str, prefix: str, lo: datetime, hi: datetime) -> Q:
    # A date field covers its whole day: compare the days the search range touches.
    first = timezone.localtime(lo).date()
    after = timezone.localtime(hi - timedelta(microseconds=1)).date() + timedelta(days=1)
    f = field_name
    if prefix == "eq":
        return Q(**{f"{f}__gte": first, f"{f}__lt": after})
    if prefix == "ne":
        return ~Q(**{f"{f}__gte": first, f"{f}__lt": after})
    if prefix in ("gt", "sa"):
        return Q(**{f"{f}__gte": after})
    if prefix in ("lt", "eb"):
        return Q(**{f"{f}__lt": first})
    if prefix == "ge":
        return Q(**{f"{f}__gte": first})
    return Q(**{f"{f}__lt": after})  # le


def date_q(param: str, value: str) -> Q:
    """One date parameter (a comma is an OR)."""
    q = NONE
    for part in value.split(","):
        prefix, lo, hi = date_range(param, part)
        field_name = DATE_PARAMS[param]
        build = _day_q if field_name == "service_date" else _instant_q
        q |= build(field_name, prefix, lo, hi)
    return q


# --- strings ----------------------------------------------------------------------------------

AUTHOR_FIELDS = {
    "author.given": (
        "author_professional__first_name",
        "author_citizen__first_name",
        "author_citizen__used_first_name",
    ),
    "author.family": (
        "author_professional__last_name",
        "author_citizen__birth_name",
        "author_citizen__used_name",
    ),
}
STRING_LOOKUPS = {"": "istartswith", "exact": "exact", "contains": "icontains"}


def string_q(param: str, modifier: str, value: str) -> Q:
    lookup = STRING_LOOKUPS[modifier]
    q = NONE
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        for f in AUTHOR_FIELDS[param]:
            q |= Q(**{f"{f}__{lookup}": part})
    return q


# --- the whole search -------------------------------------------------------------------------


@dataclass
class Search:
    patient: str | None = None  # the `patient` reference as given
    patient_identifier: str | None = None
    count: int = DEFAULT_COUNT
    offset: int = 0
    order: tuple[str, ...] = ("-deposited_at", "-pk")
    filters: list[Q] = field(default_factory=list)
    # The recognised parameters, for the self / next links (without _offset).
    used: list[tuple[str, str]] = field(default_factory=list)

    def query(self) -> Q:
        q = Q()
        for f in self.filters:
            q &= f
        return q

    def link(self, base: str, offset: int) -> str:
        params = [*self.used, ("_offset", str(offset))] if offset else list(self.used)
        return f"{base}DocumentReference?{urlencode(params)}"


def _int(param: str, value: str, *, low: int, high: int | None = None) -> int:
    if not _INTEGER.fullmatch(value.strip()):
        raise _bad(param, f"« {param} » attend un nombre entier positif (chiffres ASCII).")
    number = int(value)
    if high is not None and number > high:
        raise FhirError(
            400,
            IssueCode.TOO_COSTLY,
            f"« {param} » vaut au plus {high} : affinez la recherche.",
            expression=param,
        )
    if number < low:
        raise _bad(param, f"« {param} » doit valoir au moins {low}.")
    return number


# `related` is a reference to the related identifiers (XDS referenceIdList): the FHIR forms
# that name them by identifier mean the same search (issue 12 §4).
ALIASES = {"related:identifier": "related", "related.identifier": "related"}


def _split(name: str) -> tuple[str, str]:
    base, _, modifier = ALIASES.get(name, name).partition(":")
    return base, modifier


def _known_base(name: str) -> bool:
    """A parameter this search knows, or the root of one (`author` of `author.given`)."""
    return name == "author" or any(
        name in known for known in (PATIENT_PARAMS, TOKEN_FILTERS, DATE_PARAMS, STRING_PARAMS)
    )


def parse(pairs: Iterable[tuple[str, str]], now: datetime | None = None) -> Search:
    """The search of these (name, value) pairs, in request order. Raises FhirError (400) for a
    missing required parameter or a malformed value."""
    now = now or timezone.now()
    s = Search()
    has_status = has_archived = False
    for name, value in pairs:
        if not value.strip():
            continue  # an empty parameter is ignored
        base, modifier = _split(name)
        if base in PATIENT_PARAMS:
            if modifier:
                raise _bad(name, f"Modificateur non pris en charge sur « {base} ».")
            if "," in value:
                raise _bad(base, "Une recherche porte sur un seul patient.")
            if base == "patient":
                s.patient = value.strip()
            else:
                s.patient_identifier = value.strip()
            s.used.append((name, value))
        elif base in TOKEN_FILTERS:
            if modifier not in ("", "not"):
                raise _bad(name, f"Modificateur « {modifier} » non pris en charge sur « {base} ».")
            q = NONE
            for token in tokens(value):
                q |= TOKEN_FILTERS[base](token, now)
            s.filters.append(~q if modifier == "not" else q)
            has_status |= base == "status"
            has_archived |= base == "isArchived"
            s.used.append((name, value))
        elif base in DATE_PARAMS:
            if modifier:
                raise _bad(name, f"Modificateur non pris en charge sur « {base} ».")
            s.filters.append(date_q(base, value))
            s.used.append((name, value))
        elif base in STRING_PARAMS:
            if modifier not in STRING_LOOKUPS:
                raise _bad(name, f"Modificateur « {modifier} » non pris en charge sur « {base} ».")
            s.filters.append(string_q(base, modifier, value))
            s.used.append((name, value))
        elif base == "_count":
            s.count = min(_int(base, value, low=0), MAX_COUNT)
        elif base == "_offset":
            s.offset = _int(base, value, low=0, high=MAX_OFFSET)
        elif base == "_sort":
            s.order = _sort(value)
            s.used.append((name, value))
        elif base == "_format":  # read by core/formats.py; kept so that every page comes alike
            s.used.append((name, value))
        elif _known_base(base.split(".", 1)[0]):
            # A chain or a modifier on a parameter we know: refused, never silently ignored
            # (which would widen the search).
            raise FhirError(
                400,
                IssueCode.NOT_SUPPORTED,
                f"Paramètre « {name[:60]} » non pris en charge (chaînage ou modificateur) : voir "
                "le CapabilityStatement (/fhir/metadata).",
                expression=name[:60],
            )
    if not (s.patient or s.patient_identifier):
        raise FhirError(
            400,
            IssueCode.REQUIRED,
            "Le paramètre « patient » ou « patient.identifier » est obligatoire (ITI-67).",
            expression="patient",
        )
    if not has_status:
        raise FhirError(
            400,
            IssueCode.REQUIRED,
            "Le paramètre « status » est obligatoire (ITI-67) : current, superseded.",
            expression="status",
        )
    if not has_archived:
        s.filters.append(~Q(status=Document.Status.ARCHIVED))
    s.used.append(("_count", str(s.count)))
    return s


def _sort(value: str) -> tuple[str, ...]:
    order: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        key = part.removeprefix("-")
        if key not in SORTS:
            raise _bad(
                "_sort",
                f"Tri « {part} » non pris en charge : date, period ou creation (« - » "
                "pour l'ordre décroissant).",
            )
        order.append(("-" if part.startswith("-") else "") + SORTS[key])
    return (*order, "-pk")

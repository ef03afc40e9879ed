"""ITI-65 Provide Document Bundle (spec/mhd.md, mes-spec §4.2, §4.7, §4.8 TD2.1).

Two steps:

1. `read_bundle` checks the transaction against FHIR R4 (fhir.resources R4B) and the MHD
   shapes: exactly one SubmissionSet List, at least one DocumentReference, each pointing at a
   Binary of the bundle (attachment.url; attachment.data absent) whose size and SHA-1 match, one
   patient for every subject, a type of the DMP value set and a category equal to the class it
   derives, known confidentiality codes. Nothing is written; a fault raises FhirError (400/422).
2. `provide` deposits every document through mes.records.actions.document_deposit inside ONE
   transaction (@traced_action): one refused or invalid document stores nothing, no blob
   either, and a refusal is still traced after the rollback.

`response_bundle` answers with a `transaction-response`: one entry per request entry, in order.

Choices where MHD leaves room (docs/decisions.md):
- Folders (Folder-type List) fail the transaction (MHD allows failing or ignoring them).
- A Patient entry is accepted only to name the patient by INS; nobody is created (« 200 OK »).
- A PATCH entry may supersede the version a DocumentReference of the bundle replaces (MHD
  UpdateDocumentRefs); the replacement itself supersedes it in any case.
- The SubmissionSet is acknowledged (« 201 Created », List/<uuid>) but not kept as a resource:
  ITI-66 is not offered.
- context.event codings are kept as the eventCodeList, context.related identifier values as the
  referenceIdList (the identifier's system is not kept).
- Metadata the DMP model does not keep yet (period.end, a related identifier's system or a
  related reference without identifier value, an event without coded value, a sender's
  facilityType / practiceSetting / format that differ from ours, HL7 R/V) is reported as a
  warning on the entry's `response.outcome`; relatesTo other than `replaces` gives MHD's
  Partial…ContentNotProcessed warning.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from typing import Any

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from mes.access.actors import Actor
from mes.access.patients import UNKNOWN_DOSSIER
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.fhir.core.access import patient_by_ins, strict_ins
from mes.fhir.core.formats import to_xml
from mes.fhir.core.http import parse_body, parse_json
from mes.fhir.core.jsontypes import json_type_problems
from mes.fhir.core.outcome import (
    MAX_ISSUES,
    XDS_CODES,
    FhirError,
    IssueCode,
    issue,
    json_bytes,
    together,
)
from mes.identity.models import Citizen
from mes.lib import codes, filetypes, prepared
from mes.lib import ins as ins_lib
from mes.lib.errors import InvalidInput
from mes.records import actions
from mes.records.models import Document
from mes.vault import store

from . import authors, systems
from . import document_reference as dr
from . import patch as mhd_patch
from .references import local_id
from .search import date_range

# issue-type codes the shared IssueCode enum does not list.
CODE_INVALID = "code-invalid"
INVARIANT = "invariant"
BUSINESS_RULE = "business-rule"

UNSUPPORTED_RELATION = {
    "transforms": "PartialTransformContentNotProcessed",
    "appends": "PartialAppendContentNotProcessed",
    "signs": "PartialSignsContentNotProcessed",
}


# The XDS error code of a metadata fault, when no more precise one applies (ITI TF-3 4.2.4.1).
METADATA_ERROR = "XDSRegistryMetadataError"


def fault(
    code: str,
    message: str,
    expression: str | None = None,
    status: int = 422,
    *,
    detail: str | None = None,
) -> FhirError:
    """A refusal of the bundle; a 422 carries an XDS code (MHD), the metadata error by default."""
    if detail is None and status == 422:
        detail = METADATA_ERROR
    return FhirError(status, code, message, expression=expression, detail=detail)


class Problems:
    """Every problem of a request, so that the OperationOutcome lists them all (issue 12 §1)
    instead of the first: checks run `with problems.collecting():`, then `raise_any()`.
    `structure`: what was found before the reading (empty elements), listed first, and not in
    `errors` (which says whether the reading itself found something)."""

    def __init__(self, structure: list[FhirError] | None = None) -> None:
        self.structure = structure or []
        self.errors: list[FhirError] = []

    def add(self, error: FhirError) -> None:
        self.errors.append(error)

    @contextmanager
    def collecting(self) -> Iterator[None]:
        try:
            yield
        except FhirError as error:
            self.errors.append(error)

    def raise_any(self) -> None:
        found = [*self.structure, *self.errors]
        if not found:
            return
        # An unknown patient among the problems: still traced by the view (UnknownPatient).
        unknown = any(isinstance(e, UnknownPatient) for e in self.errors)
        raise together(found, UnknownPatient if unknown else FhirError)


@dataclass
class DocumentSubmission:
    """One document of the bundle, ready for document_deposit."""

    entry: int  # index of the DocumentReference entry
    binary_entry: int
    content: bytes
    title: str
    description: str
    type_code: str
    unique_id: str
    service_date: date | None
    created_at: datetime | None
    masked: bool | None
    hidden_from_patient: bool
    hidden_from_representatives: bool
    replaces_id: uuid.UUID | None
    facility: str | None  # as sent, compared with ours after the deposit
    setting: str | None
    format_code: str | None
    author_rpps: set[str]
    event_codes: list[tuple[str, str]] = field(default_factory=list)  # (system, code)
    reference_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class EntryPlan:
    kind: str  # submissionset | document | binary | patient | supersede
    document: int | None = None  # index in Submission.documents
    target: uuid.UUID | None = None  # supersede: the replaced document


@dataclass
class Submission:
    entries: list[EntryPlan]
    documents: list[DocumentSubmission]
    patient_id: uuid.UUID | None  # None: no such patient (refused, traced, 404)
    list_warnings: list[str] = field(default_factory=list)


# --- reading the request ----------------------------------------------------------------------


def _where(i: int, path: str = "") -> str:
    return f"Bundle.entry[{i}].resource{('.' + path) if path else ''}"


def _parse(raw: bytes, content_type: str) -> dict[str, Any]:
    data = parse_body(content_type, raw)
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise fault(IssueCode.STRUCTURE, "ITI-65 attend une ressource Bundle de type transaction.")
    return data


def _not_fhir(where: str, message: str) -> FhirError:
    return fault(
        IssueCode.STRUCTURE,
        f"Bundle non conforme à FHIR R4 — {where} : {message}"[:500],
        where,
        detail="FHIR_INVALIDE",
    )


def _validate_fhir(data: dict[str, Any]) -> list[FhirError]:
    """The bundle is FHIR R4 (the model accepts it) in FHIR's own JSON types (the model coerces
    some that the reader below would then misread: jsontypes). Every problem is listed; the
    empty objects and arrays (read as absent) are returned, to be listed with what the reading
    finds."""
    problems = Problems()
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as error:
        for e in error.errors()[:MAX_ISSUES]:
            where = "Bundle." + ".".join(str(p) for p in e["loc"])
            problems.add(_not_fhir(where, e["msg"]))
    except Exception:
        # (e.g. `attachment.url: true`, `resourceType: ["x"]`): still a structure fault.
        raise fault(
            IssueCode.STRUCTURE,
            "Bundle non conforme à FHIR R4 : un élément n'a pas le type JSON attendu "
            "(chaîne, nombre, booléen, objet ou tableau).",
            "Bundle",
            detail="FHIR_INVALIDE",
        ) from None
    else:
        found = list(islice(json_type_problems(bundle, data, "Bundle"), MAX_ISSUES))
        for where, message, _ in found:
            problems.add(_not_fhir(where, message))
        if all(p.empty for p in found):
            return problems.errors
    problems.raise_any()
    return []


def _codes(concept: Any) -> list[tuple[str | None, str]]:
    return [
        (c.get("system"), str(c.get("code") or ""))
        for c in ((concept or {}).get("coding") or [])
        if c.get("code")
    ]


def _b64(value: str, expression: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise fault(IssueCode.VALUE, f"{what} : base64 invalide.", expression) from None


def _hash_matches(given: bytes, content: bytes) -> bool:
    # FHIR: base64 of the 20 bytes; IHE's own examples encode the 40 hexadecimal digits.
    digest = hashlib.sha1(content, usedforsecurity=False)
    if given == digest.digest():
        return True
    try:
        return given.decode("ascii").lower() == digest.hexdigest()
    except UnicodeDecodeError:
        return False


# A document's dates are those of care: outside these years, a typing or encoding error (year 1,
# 9999), never a document (and the bounds keep every conversion within datetime's range).
PLAUSIBLE_YEARS = range(1800, 2200)


def _datetime(value: Any, expression: str) -> datetime | None:
    if not value:
        return None
    try:
        found = date_range(expression, str(value))[1]
    except FhirError:
        raise fault(
            IssueCode.VALUE, f"Date invalide : « {str(value)[:40]} ».", expression
        ) from None
    if found.year not in PLAUSIBLE_YEARS:
        raise fault(
            IssueCode.VALUE,
            f"Date hors des années possibles ({PLAUSIBLE_YEARS.start}–"
            f"{PLAUSIBLE_YEARS.stop - 1}) : « {str(value)[:40]} ».",
            expression,
        )
    return found


class _PatientResolver:
    """Every subject must name the same patient: by reference to this server's Patient, by
    reference to the bundle's Patient entry, or by INS identifier."""

    def __init__(self, base: str, bundle_patients: dict[str, uuid.UUID | None]) -> None:
        self.base = base
        self.bundle_patients = bundle_patients
        self.found: set[uuid.UUID | None] = set()
        self.known: dict[uuid.UUID, bool] = {}

    def resolve(self, reference: Any, expression: str) -> None:
        if not isinstance(reference, dict) or not (
            reference.get("reference") or reference.get("identifier")
        ):
            raise fault(
                IssueCode.REQUIRED,
                "Le patient (subject) est obligatoire : Reference(Patient) ou identifiant INS.",
                expression,
            )
        ref = reference.get("reference")
        if ref:
            if ref in self.bundle_patients:
                self.found.add(self.bundle_patients[ref])
                return
            pk = local_id(ref, "Patient", self.base)
            if pk is None:
                raise fault(
                    IssueCode.VALUE,
                    f"Référence patient non reconnue : « {ref} » (attendu Patient/<id> de ce "
                    "serveur, ou l'identifiant INS).",
                    expression,
                )
            if pk not in self.known:  # the List and each DocumentReference name the same one
                self.known[pk] = prepared.exists(Citizen, "id", pk)
            self.found.add(pk if self.known[pk] else None)
            return
        self.found.add(_patient_by_identifier([reference["identifier"]], expression))

    def patient_id(self) -> uuid.UUID | None:
        if len(self.found) > 1:
            raise fault(
                INVARIANT,
                "Le lot de soumission et ses documents doivent concerner un seul et même patient.",
                "Bundle.entry.resource.subject",
                detail="XDSPatientIdDoesNotMatch",
            )
        return next(iter(self.found), None)


def _patient_by_identifier(identifiers: list[Any], expression: str) -> uuid.UUID | None:
    kinds = {systems.INS_NIR: ins_lib.InsKind.NIR, systems.INS_NIA: ins_lib.InsKind.NIA}
    for ident in identifiers:
        kind = kinds.get((ident or {}).get("system", ""))
        if kind is None:
            continue
        try:
            parsed = strict_ins(str(ident.get("value") or ""), kind)
        except ins_lib.InvalidIns as error:
            raise fault(IssueCode.VALUE, str(error), expression) from None
        citizen = patient_by_ins(parsed)
        return citizen.pk if citizen else None
    raise fault(
        IssueCode.VALUE,
        "Le patient doit être désigné par son INS (urn:oid:1.2.250.1.213.1.4.8 pour le NIR, "
        "urn:oid:1.2.250.1.213.1.4.9 pour le NIA).",
        expression,
    )


def _request(entry: dict[str, Any], i: int) -> tuple[str, str]:
    request = entry.get("request") or {}
    method, url = str(request.get("method") or ""), str(request.get("url") or "")
    if not method:
        raise fault(
            IssueCode.REQUIRED,
            "Chaque entrée d'une transaction porte request.method et request.url.",
            f"Bundle.entry[{i}].request",
        )
    return method, url


def _submission_set(i: int, res: dict[str, Any], warnings: list[str]) -> list[str]:
    """Checks the SubmissionSet; returns the fullUrls of the entries it lists."""
    if res.get("status") != "current" or res.get("mode") != "working":
        raise fault(
            IssueCode.VALUE,
            "Le lot de soumission a le statut « current » et le mode « working ».",
            _where(i, "status"),
        )
    if not res.get("date"):
        raise fault(IssueCode.REQUIRED, "La date du lot de soumission est obligatoire.", _where(i))
    source = [
        x
        for x in res.get("extension") or []
        if x.get("url") == systems.MHD_SOURCE_ID and ((x.get("valueIdentifier") or {}).get("value"))
    ]
    if len(source) != 1:
        raise fault(
            IssueCode.REQUIRED,
            "Le lot de soumission porte une et une seule extension sourceId (identifiant OID du "
            f"système émetteur, {systems.MHD_SOURCE_ID}).",
            _where(i, "extension"),
        )
    if any(x.get("url") == systems.MHD_INTENDED_RECIPIENT for x in res.get("extension") or []):
        warnings.append(
            "UnavailableRecipient : le DMP ne transmet pas le lot aux destinataires "
            "(intendedRecipient) ; utilisez la messagerie sécurisée de santé."
        )
    items = [
        str(((e or {}).get("item") or {}).get("reference") or "") for e in res.get("entry") or []
    ]
    if not items:
        raise fault(
            IssueCode.REQUIRED,
            "Le lot de soumission liste ses documents (List.entry.item).",
            _where(i, "entry"),
        )
    return items


def _confidentiality(
    i: int, labels: list[Any], warnings: list[str]
) -> tuple[bool | None, bool, bool]:
    masked: bool | None = None
    hidden_patient = hidden_reps = False
    for j, label in enumerate(labels):
        for system, code in _codes(label):
            where = _where(i, f"securityLabel[{j}]")
            if code in ("N", "R", "V") and (
                system is None or systems.same_system(system, systems.HL7_CONFIDENTIALITY)
            ):
                if code != "N":
                    warnings.append(
                        f"Confidentialité HL7 « {code} » non conservée : le DMP enregistre « N » "
                        "et les restrictions de visibilité (TRE_A07)."
                    )
                continue
            if system is not None and not systems.same_system(system, systems.TRE_A07):
                raise fault(
                    CODE_INVALID,
                    f"Code de confidentialité d'un système inconnu : {system}|{code}.",
                    where,
                )
            if code == "MASQUE_PS":
                masked = True
            elif code == "INVISIBLE_PATIENT":
                hidden_patient = True
            elif code == "INVISIBLE_REPRESENTANTS_LEGAUX":
                hidden_reps = True
            else:
                raise fault(
                    CODE_INVALID,
                    f"Code de confidentialité « {code} » hors du jeu de valeurs du DMP (JDV_J58) : "
                    "N, MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX.",
                    where,
                )
    return masked, hidden_patient, hidden_reps


def _type_and_class(i: int, res: dict[str, Any]) -> str:
    candidates = _codes(res.get("type"))
    if not candidates:
        raise fault(
            IssueCode.REQUIRED,
            "Le type du document (type, JDV_J07 : LOINC ou TRE_A05) est obligatoire.",
            _where(i, "type"),
        )
    system, code = candidates[0]
    try:
        t = codes.type_code(code, for_deposit=True)
    except codes.UnknownCode as error:
        raise fault(CODE_INVALID, str(error), _where(i, "type")) from None
    if system is not None and not systems.same_system(system, t.system_uri):
        raise fault(
            CODE_INVALID,
            f"Le type « {code} » appartient au système {t.system_uri}, pas à {system}.",
            _where(i, "type"),
        )
    sent = [c for category in res.get("category") or [] for c in _codes(category)]
    for system, cls in sent:
        if system is not None and not systems.same_system(system, systems.TRE_A03):
            raise fault(
                CODE_INVALID,
                f"La catégorie est une classe de document TRE_A03 ({systems.TRE_A03}), pas "
                f"{system}|{cls}.",
                _where(i, "category"),
            )
        if cls != t.class_code:
            raise fault(
                BUSINESS_RULE,
                f"La catégorie (classCode) « {cls} » ne correspond pas au type de document "
                f"« {t.code} » ({t.display}), dont la classe est « {t.class_code} » "
                f"({codes.class_codes().get(t.class_code, '')}).",
                _where(i, "category"),
            )
    return t.code


def _relations(i: int, res: dict[str, Any], base: str, warnings: list[str]) -> uuid.UUID | None:
    replaces: uuid.UUID | None = None
    for j, relation in enumerate(res.get("relatesTo") or []):
        code = relation.get("code")
        where = _where(i, f"relatesTo[{j}]")
        if code != "replaces":
            label = UNSUPPORTED_RELATION.get(str(code), "PartialRelatesToContentNotProcessed")
            warnings.append(f"{label} : la relation « {code} » n'est pas conservée.")
            continue
        if replaces is not None:
            raise fault(INVARIANT, "Un document ne remplace qu'une seule version.", where)
        target = str(((relation.get("target") or {}).get("reference")) or "")
        replaces = local_id(target, "DocumentReference", base)
        if replaces is None:
            raise fault(
                IssueCode.VALUE,
                f"La version remplacée se désigne par DocumentReference/<id> de ce serveur "
                f"(reçu « {target} »).",
                where,
            )
    return replaces


@dataclass
class _Context:
    service_date: date | None
    facility: str | None
    setting: str | None
    event_codes: list[tuple[str, str]]
    reference_ids: list[str]


def _events(context: dict[str, Any], warnings: list[str]) -> list[tuple[str, str]]:
    """context.event → eventCodeList: every coding of every concept, as (system or "", code)."""
    out: list[tuple[str, str]] = []
    for event in context.get("event") or []:
        found = _codes(event)
        if not found:
            warnings.append("Un context.event sans code (coding.code) n'est pas conservé.")
        out += [(system or "", code) for system, code in found]
    return out


def _related(context: dict[str, Any], warnings: list[str]) -> list[str]:
    """context.related → referenceIdList: the identifier values (their system is not kept)."""
    out: list[str] = []
    for related in context.get("related") or []:
        identifier = (related or {}).get("identifier") or {}
        value = identifier.get("value")
        if not value:
            warnings.append(
                "Un context.related sans identifiant (identifier.value) n'est pas conservé."
            )
            continue
        if identifier.get("system"):
            warnings.append(
                f"Le système de l'identifiant associé « {value} » (context.related.identifier"
                ".system) n'est pas conservé."
            )
        out.append(str(value))
    return out


def _context(i: int, res: dict[str, Any], warnings: list[str]) -> _Context:
    context = res.get("context") or {}
    period = context.get("period") or {}
    start = _datetime(period.get("start"), _where(i, "context.period.start"))
    if period.get("end"):
        warnings.append("context.period.end (fin de l'acte) n'est pas conservée.")
    return _Context(
        service_date=timezone.localtime(start).date() if start else None,
        facility=next((c for _, c in _codes(context.get("facilityType"))), None),
        setting=next((c for _, c in _codes(context.get("practiceSetting"))), None),
        event_codes=_events(context, warnings),
        reference_ids=_related(context, warnings),
    )


def _author_rpps(res: dict[str, Any]) -> set[str]:
    """The idNat_PS of the authors the sender names (contained Practitioner / PractitionerRole
    or a logical reference)."""
    found = set()
    contained = {f"#{c.get('id')}": c for c in res.get("contained") or []}
    for author in res.get("author") or []:
        resource = contained.get(str(author.get("reference") or ""), {})
        identifiers = [*(resource.get("identifier") or [])]
        if author.get("identifier"):
            identifiers.append(author["identifier"])
        for ident in identifiers:
            if systems.same_system(ident.get("system"), systems.RPPS) and ident.get("value"):
                found.add(str(ident["value"]))
    return found


def _content(
    i: int,
    res: dict[str, Any],
    binaries: dict[str, tuple[int, dict[str, Any]]],
    used_binaries: set[str],
) -> tuple[int, bytes]:
    """The Binary a DocumentReference points at, checked against its attachment: (entry of the
    Binary, its bytes). One chain: each check needs the previous one."""
    content = res.get("content") or []
    if len(content) != 1:
        raise fault(
            IssueCode.STRUCTURE,
            "Un DocumentReference MHD porte un et un seul content.",
            _where(i, "content"),
        )
    attachment = content[0].get("attachment") or {}
    at = _where(i, "content[0].attachment")
    if attachment.get("data"):
        raise fault(
            IssueCode.STRUCTURE,
            "attachment.data est interdit (MHD) : le document est une ressource Binary du lot, "
            "désignée par attachment.url.",
            at + ".data",
        )
    url = str(attachment.get("url") or "")
    if url not in binaries:
        raise fault(
            IssueCode.REQUIRED,
            f"attachment.url (« {url} ») doit désigner une ressource Binary de ce lot (fullUrl).",
            at + ".url",
            detail="XDSMissingDocument",
        )
    if url in used_binaries:
        raise fault(INVARIANT, "Deux documents désignent le même Binary.", at + ".url")
    used_binaries.add(url)
    binary_index, binary = binaries[url]
    data = binary.get("data")
    if not data:
        raise fault(
            IssueCode.REQUIRED,
            "La ressource Binary porte le document en base64 (data).",
            _where(binary_index, "data"),
            detail="XDSMissingDocument",
        )
    raw = _b64(str(data), _where(binary_index, "data"), "Binary.data")
    problems = Problems()
    mime = attachment.get("contentType")
    if not mime:
        problems.add(fault(IssueCode.REQUIRED, "attachment.contentType est obligatoire.", at))
    elif binary.get("contentType") and binary["contentType"] != mime:
        problems.add(
            fault(
                INVARIANT,
                f"Le type MIME du Binary (« {binary['contentType']} ») diffère de celui du "
                f"DocumentReference (« {mime} »).",
                at + ".contentType",
            )
        )
    found = filetypes.sniff(raw)
    if mime and found and not filetypes.declared_as(str(mime), found):
        # The stored type is what the content is; a sender that declared another one has the
        # wrong metadata, and silently storing something else would hide it (issue 12 §4).
        problems.add(
            fault(
                IssueCode.VALUE,
                f"Le document reçu est de type « {found} », et non « {mime} » comme annoncé "
                "(attachment.contentType).",
                at + ".contentType",
            )
        )
    if "size" in attachment and int(attachment["size"]) != len(raw):
        problems.add(
            fault(
                IssueCode.VALUE,
                f"Taille annoncée ({attachment['size']} octets) différente de celle du document "
                f"reçu ({len(raw)} octets).",
                at + ".size",
                detail="XDSNonIdenticalSize",
            )
        )
    if not attachment.get("hash"):
        problems.add(
            fault(
                IssueCode.REQUIRED,
                "attachment.hash (base64 du SHA-1 du document) est obligatoire.",
                at + ".hash",
            )
        )
    else:
        with problems.collecting():
            if not _hash_matches(
                _b64(str(attachment["hash"]), at + ".hash", "attachment.hash"), raw
            ):
                raise fault(
                    IssueCode.VALUE,
                    "L'empreinte SHA-1 annoncée (attachment.hash) ne correspond pas au document "
                    "reçu.",
                    at + ".hash",
                    detail="XDSNonIdenticalHash",
                )
    problems.raise_any()
    return binary_index, raw


DOCUMENT_LANGUAGE = dr.DOCUMENT_LANGUAGE  # CI-SIS: the documents of the DMP are in French


def _language(i: int, res: dict[str, Any], attachment: dict[str, Any], warnings: list[str]) -> None:
    """What the DMP does not keep is said, never dropped silently (issue 12 §4)."""
    language = attachment.get("language")
    if language and str(language).lower() not in ("fr", "fr-fr"):
        warnings.append(
            f"Langue « {language} » (attachment.language) non conservée : le DMP enregistre ses "
            f"documents en « {DOCUMENT_LANGUAGE} »."
        )
    if res.get("authenticator"):
        warnings.append(
            "Le responsable légal du document (authenticator) n'est pas conservé : l'auteur "
            "enregistré est le professionnel authentifié."
        )
    if (res.get("context") or {}).get("sourcePatientInfo"):
        warnings.append(
            "sourcePatientInfo n'est pas conservé : l'identité du patient est celle de son INS "
            "dans le DMP."
        )


def _document(
    i: int,
    res: dict[str, Any],
    base: str,
    binaries: dict[str, tuple[int, dict[str, Any]]],
    used_binaries: set[str],
) -> DocumentSubmission:
    """One DocumentReference entry, every independent check made (FhirError with them all)."""
    warnings: list[str] = []
    problems = Problems()
    if res.get("status") != "current":
        problems.add(
            fault(
                IssueCode.VALUE,
                "Un nouveau document a le statut « current ».",
                _where(i, "status"),
            )
        )
    master = str(((res.get("masterIdentifier") or {}).get("value")) or "").strip()
    if not master:
        problems.add(
            fault(
                IssueCode.REQUIRED,
                "masterIdentifier (uniqueId du document, urn:oid:…) est obligatoire.",
                _where(i, "masterIdentifier"),
            )
        )
    binary_index, raw, type_code = -1, b"", ""
    with problems.collecting():
        binary_index, raw = _content(i, res, binaries, used_binaries)
    with problems.collecting():
        type_code = _type_and_class(i, res)
    masked, hidden_patient, hidden_reps = None, False, False
    with problems.collecting():
        masked, hidden_patient, hidden_reps = _confidentiality(
            i, res.get("securityLabel") or [], warnings
        )
    ctx = _Context(None, None, None, [], [])
    with problems.collecting():
        ctx = _context(i, res, warnings)
    attachment = ((res.get("content") or [{}])[0] or {}).get("attachment") or {}
    created_at = None
    with problems.collecting():
        created_at = _datetime(
            attachment.get("creation"), _where(i, "content[0].attachment.creation")
        )
    replaces_id = None
    with problems.collecting():
        replaces_id = _relations(i, res, base, warnings)
    problems.raise_any()
    fmt = (res.get("content") or [{}])[0].get("format") or {}
    t = codes.type_code(type_code)
    title = str(attachment.get("title") or res.get("description") or t.display)
    _language(i, res, attachment, warnings)
    return DocumentSubmission(
        entry=i,
        binary_entry=binary_index,
        content=raw,
        title=title,
        description=str(res.get("description") or ""),
        type_code=type_code,
        unique_id=master,
        service_date=ctx.service_date,
        created_at=created_at,
        masked=masked,
        hidden_from_patient=hidden_patient,
        hidden_from_representatives=hidden_reps,
        replaces_id=replaces_id,
        facility=ctx.facility,
        setting=ctx.setting,
        format_code=str(fmt.get("code")) if fmt.get("code") else None,
        author_rpps=_author_rpps(res),
        event_codes=ctx.event_codes,
        reference_ids=ctx.reference_ids,
        warnings=warnings,
    )


class UnknownPatient(FhirError):
    """The bundle names nobody the DMP knows: a metadata error (XDSUnknownPatientId), traced."""


def _header(data: dict[str, Any], problems: Problems) -> None:
    if data.get("type") != "transaction":
        problems.add(
            fault(
                IssueCode.VALUE, "ITI-65 attend un Bundle de type « transaction ».", "Bundle.type"
            )
        )
    profiles = set((data.get("meta") or {}).get("profile") or [])
    if not profiles & systems.PROVIDE_BUNDLE_PROFILES:
        problems.add(
            fault(
                IssueCode.VALUE,
                "Bundle.meta.profile doit nommer le profil MHD du lot : "
                + ", ".join(sorted(systems.PROVIDE_BUNDLE_PROFILES))
                + ".",
                "Bundle.meta.profile",
            )
        )


def _index_entries(
    entries: list[Any], problems: Problems
) -> tuple[dict[str, tuple[int, dict[str, Any]]], dict[str, uuid.UUID | None]]:
    """The Binary entries by fullUrl and the Patient entries' patients; duplicates refused."""
    binaries: dict[str, tuple[int, dict[str, Any]]] = {}
    bundle_patients: dict[str, uuid.UUID | None] = {}
    seen_urls: set[str] = set()
    for i, entry in enumerate(entries):
        with problems.collecting():
            res = entry.get("resource")
            if not isinstance(res, dict):
                raise fault(IssueCode.REQUIRED, "Chaque entrée porte une ressource.", _where(i))
            full_url = str(entry.get("fullUrl") or "")
            if full_url in seen_urls:
                # Two entries with one fullUrl: references would be ambiguous (FHIR R4 bdl-7).
                raise fault(
                    INVARIANT,
                    f"Deux entrées du lot portent le même fullUrl « {full_url[:100]} » : chaque "
                    "entrée a le sien (règle bdl-7).",
                    f"Bundle.entry[{i}].fullUrl",
                )
            if full_url:
                seen_urls.add(full_url)
            if res.get("resourceType") == "Binary" and _request(entry, i)[0] == "POST":
                if not full_url:
                    raise fault(
                        IssueCode.REQUIRED, "Un Binary porte un fullUrl.", f"Bundle.entry[{i}]"
                    )
                binaries[full_url] = (i, res)
            if res.get("resourceType") == "Patient":
                bundle_patients[full_url] = _patient_by_identifier(
                    res.get("identifier") or [], _where(i, "identifier")
                )
    return binaries, bundle_patients


def read_bundle(
    raw: bytes, *, base: str, content_type: str = "application/fhir+json"
) -> Submission:
    """Check an ITI-65 request; nothing is written. FhirError (400 unreadable, 422 invalid)
    listing every problem found, each with its XDS code (issue 12 §1); UnknownPatient when
    the bundle is otherwise right but names nobody the DMP knows."""
    data = _parse(raw, content_type)
    problems = Problems(_validate_fhir(data))
    _header(data, problems)
    entries: list[dict[str, Any]] = data.get("entry") or []
    binaries, bundle_patients = _index_entries(entries, problems)
    if any(not isinstance(entry.get("resource"), dict) for entry in entries):
        problems.raise_any()  # entries without a resource: nothing below can read them

    resolver = _PatientResolver(base, bundle_patients)
    plans: list[EntryPlan] = []
    documents: list[DocumentSubmission] = []
    doc_urls: dict[str, int] = {}
    used_binaries: set[str] = set()
    listed: list[str] = []
    submission_sets = 0
    list_warnings: list[str] = []
    patches: list[tuple[int, uuid.UUID]] = []
    for i, entry in enumerate(entries):
        res = entry["resource"]
        kind = res.get("resourceType")
        with problems.collecting():
            method, url = _request(entry, i)
            if kind == "List" and method == "POST":
                list_codes = {c for _, c in _codes(res.get("code"))}
                if "folder" in list_codes:
                    raise fault(
                        IssueCode.NOT_SUPPORTED,
                        "Les classeurs (List de type folder) ne sont pas pris en charge : "
                        "retirez-les du lot.",
                        _where(i, "code"),
                        detail="PartialFolderContentNotProcessed",
                    )
                if "submissionset" not in list_codes:
                    raise fault(
                        IssueCode.VALUE,
                        f"Une List d'ITI-65 est un lot de soumission ({systems.MHD_LIST_TYPES}"
                        "|submissionset).",
                        _where(i, "code"),
                    )
                submission_sets += 1
                with problems.collecting():
                    resolver.resolve(res.get("subject"), _where(i, "subject"))
                listed += _submission_set(i, res, list_warnings)
                plans.append(EntryPlan("submissionset"))
            elif kind == "DocumentReference" and method == "POST":
                with problems.collecting():
                    resolver.resolve(res.get("subject"), _where(i, "subject"))
                doc_urls[str(entry.get("fullUrl") or f"#entry{i}")] = len(documents)
                doc = _document(i, res, base, binaries, used_binaries)
                plans.append(EntryPlan("document", document=len(documents)))
                documents.append(doc)
            elif kind == "Binary" and method == "POST":
                plans.append(EntryPlan("binary"))
            elif kind == "Patient" and method in ("POST", "PUT"):
                plans.append(EntryPlan("patient"))
            elif method == "PATCH" and kind in ("Parameters", "Binary"):
                target = local_id(url, "DocumentReference", base)
                if target is None:
                    raise fault(
                        IssueCode.VALUE,
                        "Un PATCH d'ITI-65 vise DocumentReference/<id> (la version remplacée).",
                        f"Bundle.entry[{i}].request.url",
                    )
                asked = _supersede_patch(i, res)
                if not asked.superseded:
                    raise fault(
                        IssueCode.NOT_SUPPORTED,
                        "Dans un ITI-65, un PATCH ne fait que passer la version remplacée au "
                        "statut « superseded ».",
                        _where(i),
                    )
                patches.append((i, target))
                plans.append(EntryPlan("supersede", target=target))
            else:
                raise fault(
                    IssueCode.NOT_SUPPORTED,
                    f"Entrée non attendue dans un ITI-65 : {method} {kind}.",
                    f"Bundle.entry[{i}]",
                )
    if submission_sets != 1:
        problems.add(
            fault(
                INVARIANT if submission_sets else IssueCode.REQUIRED,
                f"Un ITI-65 porte exactement un lot de soumission (List submissionset) ; reçu "
                f"{submission_sets}.",
                "Bundle.entry",
            )
        )
    if not doc_urls:
        problems.add(
            fault(
                IssueCode.REQUIRED,
                "Le lot ne contient aucun DocumentReference.",
                "Bundle.entry",
                detail="XDSMissingDocumentMetadata",
            )
        )
    if not problems.errors:
        # Checks across entries: meaningful only once each entry was read.
        _across_entries(problems, binaries, used_binaries, listed, doc_urls, documents, patches)
    patient_id = None
    with problems.collecting():
        patient_id = resolver.patient_id()
    if patient_id is None and None in resolver.found:
        problems.add(
            UnknownPatient(
                422,
                IssueCode.NOT_FOUND,
                "Patient inconnu du DMP : aucun dossier ne porte cet identifiant (INS ou "
                "Patient/<id>).",
                expression="Bundle.entry.resource.subject",
                detail="XDSUnknownPatientId",
            )
        )
    problems.raise_any()
    return Submission(
        entries=plans,
        documents=documents,
        patient_id=patient_id,
        list_warnings=list_warnings,
    )


def _across_entries(
    problems: Problems,
    binaries: dict[str, tuple[int, dict[str, Any]]],
    used_binaries: set[str],
    listed: list[str],
    doc_urls: dict[str, int],
    documents: list[DocumentSubmission],
    patches: list[tuple[int, uuid.UUID]],
) -> None:
    unused = set(binaries) - used_binaries
    if unused:
        problems.add(
            fault(
                INVARIANT,
                "Binary sans DocumentReference : " + ", ".join(sorted(unused)) + ".",
                "Bundle.entry",
                detail="XDSMissingDocumentMetadata",
            )
        )
    if sorted(listed) != sorted(doc_urls):
        problems.add(
            fault(
                INVARIANT,
                "Le lot de soumission (List.entry) doit lister exactement les DocumentReference "
                "du Bundle, par leur fullUrl.",
                "Bundle.entry.resource.entry",
            )
        )
    uids = [d.unique_id.removeprefix("urn:oid:") for d in documents]
    if len(set(uids)) != len(uids):
        problems.add(
            fault(
                IssueCode.DUPLICATE,
                "Deux documents du lot portent le même masterIdentifier.",
                "Bundle.entry.resource.masterIdentifier",
                detail="XDSDuplicateUniqueIdInRegistry",
            )
        )
    for doc in documents:
        if prepared.exists(Document, "unique_id", doc.unique_id.removeprefix("urn:oid:")):
            problems.add(
                fault(
                    IssueCode.DUPLICATE,
                    f"Un document porte déjà l'identifiant unique « {doc.unique_id[:80]} » : "
                    "un nouveau document (ou une nouvelle version) a le sien.",
                    _where(doc.entry, "masterIdentifier"),
                    detail="XDSDuplicateUniqueIdInRegistry",
                )
            )
    replaced = {d.replaces_id for d in documents if d.replaces_id}
    for i, target in patches:
        if target not in replaced:
            problems.add(
                fault(
                    INVARIANT,
                    "Le PATCH vise une version qu'aucun document du lot ne remplace (relatesTo).",
                    f"Bundle.entry[{i}].request.url",
                )
            )


def _supersede_patch(i: int, res: dict[str, Any]) -> mhd_patch.PatchIntent:
    before = {"resourceType": "DocumentReference", "status": "current"}
    if res.get("resourceType") == "Parameters":
        after = mhd_patch.apply_fhirpath_patch(before, res)
    else:
        raw = _b64(str(res.get("data") or ""), _where(i, "data"), "JSON Patch")
        operations = parse_json(raw)
        after = mhd_patch.apply_json_patch(before, operations)
    return mhd_patch.intent(before, after)


# --- depositing -------------------------------------------------------------------------------


def _discard_blobs(patient_id: uuid.UUID, documents: list[Document]) -> None:
    """The rollback undoes the rows, not the encrypted files written meanwhile."""
    for doc in documents:
        store.delete(patient_id, doc.pk)


@traced_action
def provide(*, actor: Actor, submission: Submission, xml: bool = False) -> bytes:
    """Deposit every document of a checked ITI-65 submission, all or nothing, and return the
    `transaction-response` already serialised.

    Precondition: `read_bundle` accepted the request. Effects: per document, what
    document_deposit does (encrypted blob, DEPOT_DOC or REMPLACEMENT_DOC trace, the old version
    superseded, the patient notified unless INVISIBLE_PATIENT). Any refusal (NotFound, traced) or
    invalid document (FhirError 422) rolls everything back and removes the blobs already written.
    The answer is built inside the transaction: once it commits, nothing is left that could
    fail and make a client retry an accepted deposit (issue 13 §1) — in FHIR XML when `xml`.
    """
    if submission.patient_id is None:
        # Not patient_or_refused: read_bundle already looked the patient up (by INS or by
        # reference, every subject of the bundle compared); the refusal is the same one.
        raise Refused.because(actor, TraceAction.DEPOSIT_DOC, None, UNKNOWN_DOSSIER)
    patient_id = submission.patient_id
    written: list[Document] = []
    try:
        for n, sub in enumerate(submission.documents):
            try:
                doc = actions.document_deposit(
                    actor=actor,
                    patient_id=patient_id,
                    content=sub.content,
                    title=sub.title,
                    type_code=sub.type_code,
                    service_date=sub.service_date,
                    created_at=sub.created_at,
                    description=sub.description,
                    masked=sub.masked,
                    hidden_from_patient=sub.hidden_from_patient,
                    hidden_from_representatives=sub.hidden_from_representatives,
                    replaces_id=sub.replaces_id,
                    unique_id=sub.unique_id,
                    event_codes=sub.event_codes,
                    reference_ids=sub.reference_ids,
                )
            except InvalidInput as error:
                raise fault(
                    IssueCode.PROCESSING,
                    f"Document {n + 1} du lot refusé : {error}",
                    _where(sub.entry),
                ) from None
            written.append(doc)
            # The author's structure (for the context the DMP keeps) from the per-process
            # cache of the authors (mhd/authors.py), not one more query per deposit.
            authors.attach([doc])
            _after_deposit(actor, sub, doc)
        answer = response_bundle(submission, written)
        if xml:
            return to_xml(answer)
        return json_bytes(answer)
    except BaseException:
        _discard_blobs(patient_id, written)
        raise


def _after_deposit(actor: Actor, sub: DocumentSubmission, doc: Document) -> None:
    """The warnings for what the sender said differently from what the DMP keeps."""
    ours = dr.author_context(doc)
    for key, sent, label in (
        ("facilityType", sub.facility, "Secteur d'activité (facilityType)"),
        ("practiceSetting", sub.setting, "Cadre d'exercice (practiceSetting)"),
    ):
        kept = next((c for _, c in _codes(ours.get(key))), None)
        if sent and sent != kept:
            sub.warnings.append(
                f"{label} « {sent} » remplacé par celui de votre structure : « {kept or '—'} »."
            )
    if sub.format_code and sub.format_code != doc.format_code:
        sub.warnings.append(
            f"Format « {sub.format_code} » remplacé par « {doc.format_code} », déduit du contenu."
        )
    if sub.author_rpps and actor.national_id not in sub.author_rpps:
        sub.warnings.append(
            "L'auteur enregistré est le professionnel authentifié "
            f"({actor.display_name}, {actor.national_id})."
        )


# --- the response -----------------------------------------------------------------------------


def _warning(text: str) -> dict[str, Any]:
    """A warning with its code: MHD's when the text starts with one (« Partial…NotProcessed :
    … »), else ours for metadata the DMP does not keep."""
    head = text.split(" : ", 1)[0]
    detail = head if head in XDS_CODES else "METADONNEE_NON_CONSERVEE"
    return issue(IssueCode.INFORMATIONAL, text, severity="warning", detail=detail)


def _outcome(warnings: list[str]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [_warning(text) for text in warnings]}


def response_bundle(submission: Submission, documents: list[Document]) -> dict[str, Any]:
    """transaction-response: one entry per request entry, in the request's order."""
    now = dr.iso(timezone.now())
    out: list[dict[str, Any]] = []
    owners = {sub.binary_entry: documents[n] for n, sub in enumerate(submission.documents)}
    for index, plan in enumerate(submission.entries):
        response: dict[str, Any]
        if plan.kind == "submissionset":
            response = {"status": "201 Created", "location": f"List/{uuid.uuid4()}"}
            if submission.list_warnings:
                response["outcome"] = _outcome(submission.list_warnings)
        elif plan.kind == "document":
            assert plan.document is not None
            doc, sub = documents[plan.document], submission.documents[plan.document]
            response = {"status": "201 Created", "location": f"DocumentReference/{doc.pk}"}
            if sub.warnings:
                response["outcome"] = _outcome(sub.warnings)
        elif plan.kind == "binary":
            response = {"status": "201 Created", "location": f"Binary/{owners[index].pk}"}
        elif plan.kind == "patient":
            response = {"status": "200 OK", "location": f"Patient/{submission.patient_id}"}
        else:
            response = {"status": "200 OK", "location": f"DocumentReference/{plan.target}"}
        response["lastModified"] = now
        out.append({"response": response})
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": out}

"""IHE MHD for professionals (spec/mhd.md; docs/fhir-api.md « Documents (IHE MHD) »).

- `POST /fhir/` — ITI-65 Provide Document Bundle (transaction, atomic).
- `GET /fhir/DocumentReference?…` and `POST /fhir/DocumentReference/_search` — ITI-67.
- `GET /fhir/DocumentReference/<id>` — read one DocumentReference.
- `PATCH /fhir/DocumentReference/<id>` — the author's operations (PDSm Flux 03): MASQUE_PS,
  release of an INVISIBLE_PATIENT document, archive (PDSm_isArchived), logical deletion
  (PDSm_isDeleted + status superseded); JSON Patch or FHIRPath Patch.
- `DELETE /fhir/DocumentReference/<id>` — the author deletes their document.
- `GET /fhir/Binary/<id>` — ITI-68: the bytes (or a Binary resource when `Accept` asks for
  application/fhir+json). A superseded version answers 410 Gone.

Each view: the actor from @fhir_endpoint, one policy or action of mes.records, a FHIR answer.
Unknown and refused are the same 404; every access and refusal is traced by the domain.
"""

from __future__ import annotations

import base64
import dataclasses
import errno
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.parameters import Parameters

from mes.access.decision import Action, Standing
from mes.access.patients import UNKNOWN_DOSSIER
from mes.audit import trace
from mes.audit.guard import refusal_trace
from mes.audit.models import TraceAction
from mes.fhir.core.access import (
    SCOPE_BINARY_READ,
    SCOPE_DOCUMENT_READ,
    SCOPE_DOCUMENT_WRITE,
    FhirRequest,
    fhir_endpoint,
    open_emergency_access,
    parse_ins_token,
    patient_by_ins,
)
from mes.fhir.core.formats import FHIR_XML, wanted_format
from mes.fhir.core.http import (
    BODY_TYPES,
    NIL,
    by_method,
    fhir_base,
    parse_body,
    read_body,
    read_conforming,
    resource_uuid,
    unsupported_media,
)
from mes.fhir.core.outcome import FHIR_JSON, FhirError, IssueCode, fhir_response, operation_outcome
from mes.identity.models import Citizen
from mes.lib import filetypes
from mes.lib.errors import InvalidInput
from mes.lib.prepared import Prepared
from mes.records import actions
from mes.records.models import Document
from mes.records.policies import access_document, access_dossier, visible_condition
from mes.vault.store import VaultError

from . import authors, bundle, manage, search
from . import document_reference as dr
from . import patch as mhd_patch
from .references import local_id

T = TypeVar("T")

logger = logging.getLogger(__name__)
# A full disk or an exhausted quota under the blob store (drills/disk_full.py).
STORAGE_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})

# A bundle carries its documents in base64: a few documents at the deposit limit
# (MES_UPLOAD_MAX_BYTES, checked again per document by the domain).
MAX_BUNDLE_BYTES = 30 * 1024 * 1024
JSON_PATCH = "application/json-patch+json"


# --- helpers ----------------------------------------------------------------------------------


def _open_emergency_for_document(request: FhirRequest, document_id: uuid.UUID) -> None:
    """In an emergency mode, the document's dossier needs the emergency session first."""
    patient_id = (
        Document.objects.filter(pk=document_id).values_list("patient_id", flat=True).first()
    )
    if patient_id is not None:
        open_emergency_access(request, patient_id)


# --- ITI-65 -----------------------------------------------------------------------------------


@fhir_endpoint(scopes=[SCOPE_DOCUMENT_WRITE], methods=["POST"], allow_insurer=True)
def transaction(request: FhirRequest) -> HttpResponse:
    if request.content_type not in BODY_TYPES:
        raise unsupported_media(request)
    try:
        submission = bundle.read_bundle(
            read_body(request, MAX_BUNDLE_BYTES),
            base=fhir_base(request),
            content_type=request.content_type,
        )
    except bundle.UnknownPatient:
        # A metadata error for the sender (XDSUnknownPatientId, an OperationOutcome listing
        # every problem of the bundle), not a NotFound: hence not patient_or_refused, but the
        # same refusal on the record.
        trace.record(**refusal_trace(request.actor, TraceAction.DEPOSIT_DOC, None, UNKNOWN_DOSSIER))
        raise
    if submission.patient_id is not None:
        open_emergency_access(request, submission.patient_id)
    # Serialised (in the negotiated format) inside the deposit's transaction: once committed,
    # only bytes are handed over (nothing may raise after the commit).
    xml = wanted_format(request) == "xml"
    try:
        body = bundle.provide(actor=request.actor, submission=submission, xml=xml)
    except OSError as error:
        if error.errno not in STORAGE_FULL:
            raise
        # The transaction rolled back and the vault removed its partial blob: nothing of this
        # deposit is stored. The sender keeps the document and tries again later (507).
        logger.error("ITI-65 refusé : plus de place pour les documents (%s)", error.strerror)
        raise FhirError(
            507,
            IssueCode.EXCEPTION,
            "L'espace de stockage des documents est plein : le dépôt n'a pas été enregistré. "
            "Réessayez plus tard.",
            detail="XDSRepositoryError",
            headers={"Retry-After": "300"},
        ) from None
    return HttpResponse(body, content_type=FHIR_XML if xml else FHIR_JSON)


# --- ITI-67 -----------------------------------------------------------------------------------


def _patient_of(request: FhirRequest, s: search.Search) -> tuple[uuid.UUID, bool]:
    """The searched patient's id (NIL when nobody), and whether `patient` and
    `patient.identifier` agree."""
    pid = None
    if s.patient:
        pid = local_id(s.patient, "Patient", fhir_base(request), bare=True) or NIL
    if s.patient_identifier:
        try:
            ins = parse_ins_token(s.patient_identifier, expression="patient.identifier")
        except InvalidInput as error:
            raise FhirError(400, IssueCode.VALUE, str(error), expression=error.field) from None
        found: Citizen | None = patient_by_ins(ins)
        by_ins = found.pk if found else NIL
        if pid is not None:
            return pid, pid == by_ins
        pid = by_ins
    assert pid is not None
    return pid, True


# The page of a search, compiled once per process and shape (mes.lib.prepared).
_PAGE: Prepared[Document] = Prepared(Document)


def _page(
    request: FhirRequest, s: search.Search, patient_id: uuid.UUID, st: Standing
) -> tuple[list[Document], Callable[[], QuerySet[Document]]]:
    """The page of documents this actor may see (each with the total of matches), and the
    queryset of every match (for the rare count without a page)."""
    actor = request.actor
    # Everything that decides the SQL but the values: the actor's kind, the standing (the
    # professional's id is a value), the recognised parameters, the order and the page.
    shape = (
        "iti67",
        actor.kind,
        dataclasses.replace(st, professional_id=st.professional_id is not None, reason=""),
        tuple(p for p in s.used if p[0].partition(":")[0] not in search.PATIENT_PARAMS),
        s.order,
        s.offset,
        s.count,
    )
    values: dict[str, Any] = {"patient": patient_id, "now": timezone.now()}
    if st.professional_id is not None:
        values["professional"] = st.professional_id

    def matches(v: Mapping[str, Any]) -> QuerySet[Document]:
        standing = st
        if "professional" in v:
            standing = dataclasses.replace(st, professional_id=v["professional"])
        # The search's filters are built again from its parameters with this `now`.
        again = search.parse(s.used, now=v["now"])
        condition = visible_condition(actor, v["patient"], standing, now=v["now"])
        return Document.objects.filter(condition).filter(again.query())

    def page(v: Mapping[str, Any]) -> QuerySet[Document]:
        # The page and the total in one query: COUNT(*) OVER () counts the matches before the
        # LIMIT (the database sorts them all for the page anyway).
        return (
            matches(v)
            .annotate(search_total=Window(Count("pk")))
            .order_by(*s.order)[s.offset : s.offset + s.count]
        )

    rows = _PAGE.fetch(shape, page, values) if s.count else []
    # The authors come from a per-process cache (mhd/authors.py), not from a join per page.
    authors.attach(rows)
    return rows, lambda: matches(values)


def _search(request: FhirRequest, pairs: Iterable[tuple[str, str]]) -> HttpResponse:
    s = search.parse(pairs)
    base = fhir_base(request)
    patient_id, agree = _patient_of(request, s)
    open_emergency_access(request, patient_id)
    _, st = access_dossier(
        request.actor, patient_id, action=Action.READ, trace_action=TraceAction.CONSULT_DOSSIER
    )
    page: list[Document] = []
    total = 0
    if agree:
        page, matches = _page(request, s, patient_id, st)
        if page:
            total = page[0].search_total  # type: ignore[attr-defined]
        elif s.count == 0 or s.offset:
            total = matches().count()  # _count=0, or a page past the end
    links = [{"relation": "self", "url": s.link(base, s.offset)}]
    if s.offset:
        links.append({"relation": "first", "url": s.link(base, 0)})
        links.append({"relation": "previous", "url": s.link(base, max(s.offset - s.count, 0))})
    if s.count and s.offset + s.count < total:
        links.append({"relation": "next", "url": s.link(base, s.offset + s.count)})
    result: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if page:
        now = timezone.now()  # once for the page (each document's INVISIBLE_PATIENT release)
        result["entry"] = [
            {
                "fullUrl": f"{base}DocumentReference/{doc.pk}",
                "resource": dr.render(doc, base=base, now=now),
                "search": {"mode": "match"},
            }
            for doc in page
        ]
    return fhir_response(result)


def _pairs(querydict: Any) -> list[tuple[str, str]]:
    return [(name, value) for name, values in querydict.lists() for value in values]


@fhir_endpoint(scopes=[SCOPE_DOCUMENT_READ], methods=["GET"])
def document_reference_search(request: FhirRequest) -> HttpResponse:
    return _search(request, _pairs(request.GET))


@fhir_endpoint(scopes=[SCOPE_DOCUMENT_READ], methods=["POST"])
def document_reference_search_post(request: FhirRequest) -> HttpResponse:
    # FHIR clients send application/x-www-form-urlencoded; a browser-like client, multipart.
    form = request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
    if not form and request.META.get("CONTENT_LENGTH") not in (None, "", "0"):
        raise FhirError(
            415,
            IssueCode.NOT_SUPPORTED,
            "Une recherche par POST envoie ses paramètres en application/x-www-form-urlencoded.",
            expression="Content-Type",
        )
    body = _pairs(request.POST) if form else []
    return _search(request, _pairs(request.GET) + body)


# --- one DocumentReference --------------------------------------------------------------------


@fhir_endpoint(scopes=[SCOPE_DOCUMENT_READ], methods=["GET"])
def _document_reference_read(request: FhirRequest, resource_id: str) -> HttpResponse:
    pk = resource_uuid(resource_id)
    _open_emergency_for_document(request, pk)
    doc = access_document(
        request.actor, pk, action=Action.READ, trace_action=TraceAction.CONSULT_DOC
    )
    return fhir_response(dr.render(doc, base=fhir_base(request)))


def _patched(request: FhirRequest, before: dict[str, Any]) -> mhd_patch.PatchIntent:
    """What the request's patch asks of the DocumentReference `before` (nothing is saved)."""
    if request.content_type not in (JSON_PATCH, *BODY_TYPES):
        raise FhirError(
            415,
            IssueCode.NOT_SUPPORTED,
            f"PATCH attend {JSON_PATCH} (JSON Patch) ou une ressource Parameters en "
            "application/fhir+json ou application/fhir+xml (FHIRPath Patch).",
            expression="Content-Type",
        )
    body = parse_body(request.content_type, read_body(request, 1024 * 1024))
    if request.content_type == JSON_PATCH:
        after = mhd_patch.apply_json_patch(before, body)
    else:
        if not isinstance(body, dict):
            raise FhirError(
                400, IssueCode.STRUCTURE, "Un FHIRPath Patch est une ressource Parameters."
            )
        after = _valid(
            Parameters,
            body,
            "Parameters non conforme à FHIR R4 (FHIRPath Patch).",
            lambda: mhd_patch.apply_fhirpath_patch(before, body),
        )
    # What the patch makes must still be a DocumentReference (types included) before its
    # meaning is read.
    return _valid(
        DocumentReference,
        after,
        "Le PATCH produirait un DocumentReference non conforme.",
        lambda: mhd_patch.intent(before, after),
    )


def _valid(model: Any, data: dict[str, Any], message: str, read: Callable[[], T]) -> T:
    """`read()` once `data` is FHIR R4 in FHIR's JSON types (the patch readers read the JSON,
    not what the model coerced it into), else 422 `structure` with `message`; an empty element
    is named beside what `read` finds (jsontypes, `read_conforming`)."""
    try:
        validated = model.model_validate(data)
    except Exception:
        raise FhirError(422, IssueCode.STRUCTURE, message) from None
    return read_conforming(validated, data, message, read)


@fhir_endpoint(scopes=[SCOPE_DOCUMENT_WRITE], methods=["PATCH"])
def _document_reference_patch(request: FhirRequest, resource_id: str) -> HttpResponse:
    pk = resource_uuid(resource_id)
    _open_emergency_for_document(request, pk)
    doc = access_document(request.actor, pk, action=Action.READ, trace_action=None)
    base = fhir_base(request)
    before = dr.render(doc, base=base)
    intent = _patched(request, before)
    if intent.superseded:
        raise FhirError(
            422,
            bundle.BUSINESS_RULE,
            "Une version est remplacée par le dépôt de la nouvelle (ITI-65, relatesTo "
            "« replaces »), pas par un PATCH.",
            expression="DocumentReference.status",
        )
    if not intent.empty:
        manage.apply(actor=request.actor, document_id=pk, intent=intent)
    if intent.deleted:
        return fhir_response(
            operation_outcome(IssueCode.INFORMATIONAL, "Document supprimé.", severity="information")
        )
    return fhir_response(dr.render(Document.objects.get(pk=pk), base=base))


@fhir_endpoint(scopes=[SCOPE_DOCUMENT_WRITE], methods=["DELETE"])
def _document_reference_delete(request: FhirRequest, resource_id: str) -> HttpResponse:
    pk = resource_uuid(resource_id)
    _open_emergency_for_document(request, pk)
    actions.document_delete(actor=request.actor, document_id=pk)
    return fhir_response(
        operation_outcome(IssueCode.INFORMATIONAL, "Document supprimé.", severity="information")
    )


document_reference = by_method(
    GET=_document_reference_read,
    PATCH=_document_reference_patch,
    DELETE=_document_reference_delete,
)


# --- ITI-68 -----------------------------------------------------------------------------------


FHIR_MEDIA_TYPES = (
    "application/fhir+json",
    "application/json+fhir",
    "application/fhir+xml",
    "application/xml+fhir",
)


def _wants_fhir(request: FhirRequest) -> bool:
    """The Binary resource rather than the document's bytes: asked for by a FHIR format in
    `Accept` or by `_format` (JSON or XML, formats.negotiated renders it)."""
    if request.GET.get("_format"):
        return True
    accept = request.headers.get("Accept", "").lower()
    return any(t in accept for t in FHIR_MEDIA_TYPES)


@fhir_endpoint(scopes=[SCOPE_BINARY_READ], methods=["GET"])
def binary(request: FhirRequest, resource_id: str) -> HttpResponse:
    pk = resource_uuid(resource_id)
    _open_emergency_for_document(request, pk)
    status = Document.objects.filter(pk=pk).values_list("status", flat=True).first()
    if status == Document.Status.SUPERSEDED:
        # Policy (docs/decisions.md): a replaced version is withdrawn by its author; its
        # metadata stays findable (status=superseded), its content answers 410 Gone.
        access_document(request.actor, pk, action=Action.READ, trace_action=TraceAction.CONSULT_DOC)
        raise FhirError(
            410,
            IssueCode.DELETED,
            "Ce document a été remplacé par une nouvelle version : recherchez la version en "
            "vigueur (status=current).",
        )
    try:
        doc, content = actions.document_content(actor=request.actor, document_id=pk)
    except (VaultError, OSError):
        # The blob is unreadable or missing (a lost file, a destroyed key): the document is
        # unavailable, said in FHIR (never an HTML 500).
        raise FhirError(
            410,
            IssueCode.DELETED,
            "Document indisponible : son contenu n'est plus lisible.",
            detail="DOCUMENT_INDISPONIBLE",
        ) from None
    if _wants_fhir(request):
        return fhir_response(
            {
                "resourceType": "Binary",
                "id": str(doc.pk),
                "contentType": doc.mime_type,
                "data": base64.b64encode(content).decode("ascii"),
            }
        )
    name = slugify(doc.title)[:80] or "document"
    extension = filetypes.EXTENSIONS.get(doc.mime_type, "bin")
    response = HttpResponse(content, content_type=doc.mime_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the base URL without its slash ------------------------------------------------------------


@csrf_exempt
@login_not_required
def base_without_slash(request: HttpRequest) -> HttpResponse:
    """`…/fhir`, as `implementation.url` advertises it (issue 12 §3): a POST is the ITI-65
    transaction itself (a redirect would lose its body); anything else goes to `…/fhir/`."""
    if request.method == "POST":
        return transaction(request)
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(
        reverse("fhir:transaction") + (f"?{query}" if query else "")
    )


base_without_slash.mes_access = "fhir"  # type: ignore[attr-defined]
base_without_slash.fhir_scopes = transaction.fhir_scopes  # type: ignore[attr-defined]

"""Documents from and to a paired service (mes-spec §8.2 « Documents »; issue 11 item 3).

- POST /fhir/services/DocumentReference: one DocumentReference whose attachment carries the
  document (base64 `data`, PDF or image, e.g. a glucose AGP report); `type` one of the
  citizen's own types (DOCPAT…, « Autres documents » EXPPAT_2 when absent). Stored through
  mes.records' `document_deposit` as « ajouté par <service> »; answers 201 with its Location.
  A single resource rather than an ITI-65 Bundle: an app deposits one report at a time and has
  no submission set to describe (docs/decisions.md).
- GET /fhir/services/DocumentReference: the espace's current documents the decision lets the
  app see (mes.access.decision's document filter: what the citizen who paired it sees);
  GET /fhir/services/Binary/<id>: one document's bytes.
Each needs the matching consented purpose (403 « Consent not given, access refused. »).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date
from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from fhir.resources.R4B.documentreference import DocumentReference

from mes.access.decision import Action
from mes.audit import trace
from mes.audit.models import TraceAction
from mes.catalogue.models import ProfileShare
from mes.fhir.core.http import conform, read_resource
from mes.fhir.core.outcome import FhirError, IssueCode, fhir_response
from mes.lib import codes
from mes.lib.errors import InvalidInput, NotFound
from mes.medical_profile import synthesis
from mes.records.actions import document_content, document_deposit
from mes.records.models import Document
from mes.records.policies import access_dossier, documents_visible_to
from mes.vault import store

from .access import AppRequest, app_endpoint, check_espace, require_exchange

DOCUMENTS, PROFILE, READ, WRITE = "documents", "profil", "lecture", "ecriture"
SYNTHESIS_TYPE = synthesis.TYPE_CODE  # DOCPAT08
OTHER_DOCUMENTS = "EXPPAT_2"  # « Autres documents »
# The attachment travels base64 in JSON: 4/3 of the document's size, plus the resource.
BODY_LIMIT = 14 * 1024 * 1024


def _subject(resource: dict[str, Any]) -> str | None:
    subject = resource.get("subject")
    if not isinstance(subject, dict):
        return None
    identifier = subject.get("identifier")
    if isinstance(identifier, dict) and identifier.get("value"):
        return str(identifier["value"])
    reference = str(subject.get("reference") or "")
    return reference.removeprefix("Patient/") if reference.startswith("Patient/") else None


def _type_code(resource: dict[str, Any]) -> str:
    codings = (resource.get("type") or {}).get("coding") or []
    for coding in codings:
        if isinstance(coding, dict) and coding.get("code"):
            return str(coding["code"])
    return OTHER_DOCUMENTS


def _attachment(resource: dict[str, Any]) -> tuple[bytes, str]:
    content = resource.get("content")
    first = content[0] if isinstance(content, list) and content else {}
    attachment = first.get("attachment") if isinstance(first, dict) else None
    if not isinstance(attachment, dict) or not attachment.get("data"):
        raise FhirError(
            422,
            IssueCode.REQUIRED,
            "DocumentReference.content.attachment.data est obligatoire (le document en base64).",
            expression="DocumentReference.content.attachment.data",
        )
    try:
        data = base64.b64decode(str(attachment["data"]), validate=True)
    except (binascii.Error, ValueError):
        raise FhirError(
            422,
            IssueCode.VALUE,
            "DocumentReference.content.attachment.data n'est pas du base64 valide.",
            expression="DocumentReference.content.attachment.data",
        ) from None
    return data, str(attachment.get("title") or resource.get("description") or "")


def _service_date(resource: dict[str, Any]) -> date | None:
    raw = str(resource.get("date") or "")[:10]
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FhirError(
            422, IssueCode.VALUE, "DocumentReference.date invalide.", expression="date"
        ) from None


def _incoming(resource: dict[str, Any]) -> dict[str, Any]:
    """The arguments of `document_deposit` an app's DocumentReference carries (422 for a
    missing or undecodable document, an invalid date)."""
    content, title = _attachment(resource)
    return {
        "content": content,
        "title": title or "Document",
        "type_code": _type_code(resource),
        "service_date": _service_date(resource),
        "description": str(resource.get("description") or "")[:500],
    }


def as_resource(request: AppRequest, doc: Document) -> dict[str, Any]:
    """The DocumentReference as the app reads it: the espace's id, never the INS."""
    t = codes.type_codes().get(doc.type_code)
    return {
        "resourceType": "DocumentReference",
        "id": str(doc.pk),
        "status": "current" if doc.status == Document.Status.CURRENT else "superseded",
        "type": {"coding": [{"code": doc.type_code, "display": t.display if t else ""}]},
        "subject": {"reference": f"Patient/{doc.patient_id}"},
        "date": doc.deposited_at.isoformat(),
        "author": [{"display": doc.author_label}],
        "description": doc.title,
        "content": [
            {
                "attachment": {
                    "contentType": doc.mime_type,
                    "title": doc.title,
                    "size": doc.size,
                    "url": request.build_absolute_uri(
                        reverse("fhir:services-binary", args=[doc.pk])
                    ),
                    "creation": doc.created_at.isoformat(),
                }
            }
        ],
    }


@app_endpoint(methods=("GET", "POST"))
def document_reference(request: AppRequest) -> HttpResponse:
    """POST: add a document; GET: search the espace's documents."""
    if request.method == "GET":
        check_espace(request, request.GET.get("patient"), TraceAction.CONSULT_DOSSIER)
        if request.GET.get("type", "").split("|")[-1] == SYNTHESIS_TYPE:
            return _shares(request)
        require_exchange(request, DOCUMENTS, READ, TraceAction.CONSULT_DOSSIER)
        patient, st = access_dossier(
            request.actor,
            request.pairing.patient_id,
            action=Action.READ,
            trace_action=TraceAction.CONSULT_DOSSIER,
        )
        docs = list(
            documents_visible_to(request.actor, patient, st)
            .filter(status=Document.Status.CURRENT)
            .order_by("-deposited_at")[:200]
        )
        return fhir_response(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(docs),
                "entry": [
                    {"resource": as_resource(request, d), "search": {"mode": "match"}} for d in docs
                ],
            }
        )
    resource = read_resource(request, BODY_LIMIT)
    if not isinstance(resource, dict) or resource.get("resourceType") != "DocumentReference":
        raise FhirError(422, IssueCode.STRUCTURE, "DocumentReference attendu.")
    # The body's shape before the espace and the purpose, as on every FHIR write: a faulty
    # body is answered the same whichever espace it names (conform: every problem at once).
    incoming = conform(
        DocumentReference, resource, "DocumentReference", lambda: _incoming(resource)
    )
    check_espace(request, _subject(resource), TraceAction.DEPOSIT_DOC)
    require_exchange(request, DOCUMENTS, WRITE, TraceAction.DEPOSIT_DOC)
    try:
        doc = document_deposit(
            actor=request.actor, patient_id=request.pairing.patient_id, **incoming
        )
    except InvalidInput as error:
        raise FhirError(
            422, IssueCode.PROCESSING, str(error), expression=error.field or "DocumentReference"
        ) from None
    return fhir_response(
        as_resource(request, doc),
        201,
        headers={"Location": f"DocumentReference/{doc.pk}"},
    )


def _share_resource(request: AppRequest, share: ProfileShare) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": str(share.pk),
        "status": "current",
        "type": {"coding": [{"code": SYNTHESIS_TYPE, "display": synthesis.TITLE}]},
        "subject": {"reference": f"Patient/{request.pairing.patient_id}"},
        "date": share.sent_at.isoformat(),
        "description": f"{synthesis.TITLE} — rubriques : {share.sections}",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "title": synthesis.TITLE,
                    "size": share.size,
                    "url": request.build_absolute_uri(
                        reverse("fhir:services-binary", args=[share.pk])
                    ),
                }
            }
        ],
    }


def _shares(request: AppRequest) -> HttpResponse:
    """The syntheses the citizen sent to this service (profil, lecture)."""
    require_exchange(request, PROFILE, READ, TraceAction.CONSULT_PROFILE)
    shares = list(ProfileShare.objects.filter(pairing=request.pairing)[:50])
    trace.record(
        actor=request.actor,
        action=TraceAction.CONSULT_PROFILE,
        patient_id=request.pairing.patient_id,
        document_title=synthesis.TITLE,
    )
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(shares),
            "entry": [
                {"resource": _share_resource(request, s), "search": {"mode": "match"}}
                for s in shares
            ],
        }
    )


@app_endpoint(methods=("GET",))
def binary(request: AppRequest, resource_id: str) -> HttpResponse:
    """GET /fhir/services/Binary/<id>: a document's bytes, or a synthesis the citizen sent to
    this service (404 for anything not readable)."""
    try:
        wanted = uuid.UUID(resource_id)
    except ValueError:
        raise NotFound() from None
    share = ProfileShare.objects.filter(pk=wanted, pairing=request.pairing).first()
    if share is not None:
        require_exchange(request, PROFILE, READ, TraceAction.DOWNLOAD_DOC)
        trace.record(
            actor=request.actor,
            action=TraceAction.DOWNLOAD_DOC,
            patient_id=request.pairing.patient_id,
            document_title=synthesis.TITLE,
        )
        pdf = HttpResponse(
            store.get(request.pairing.patient_id, share.pk), content_type="application/pdf"
        )
        pdf["Content-Disposition"] = "attachment"
        return pdf
    require_exchange(request, DOCUMENTS, READ, TraceAction.DOWNLOAD_DOC)
    doc, content = document_content(actor=request.actor, document_id=wanted)
    response = HttpResponse(content, content_type=doc.mime_type)
    response["Content-Disposition"] = "attachment"
    return response

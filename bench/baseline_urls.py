"""ROOT_URLCONF of config.bench: the bare baseline views in front of every production URL.

The baseline is what the same server does for the same work with nothing of ours around it: no
token, no actor, no policy or decision, no trace, no FHIR model. It goes through the same
gunicorn workers, the same Django middleware and the same database as the API it is compared
with, so the ratio between the two is the price of the API's own machinery.

These views exist only under config.bench: production URLs (config.urls) never include them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from mes.fhir.mhd.search import Search
from mes.records.models import Document
from mes.vault import store

# The same page size the benchmark asks of ITI-67 (`_count`), and the same order: ITI-67's
# default when no `_sort` is given (DocumentReference.date, i.e. the deposit time, newest first).
PAGE_SIZE = 20
ORDER = Search().order


def _patient_id(request: HttpRequest) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.GET.get("patient", ""))
    except ValueError:
        return None


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@csrf_exempt
@login_not_required
@require_GET
def baseline_search(request: HttpRequest) -> HttpResponse:
    """ITI-67's query, bare: the patient's current documents, newest first, one page, through
    the (patient, status, …) index, rendered as minimal JSON."""
    patient_id = _patient_id(request)
    if patient_id is None:
        return _bad_request("patient: UUID attendu")
    documents = Document.objects.filter(
        patient_id=patient_id, status=Document.Status.CURRENT
    ).order_by(*ORDER)[:PAGE_SIZE]
    return JsonResponse(
        {
            "entry": [
                {
                    "id": str(d.pk),
                    "title": d.title,
                    "type": d.type_code,
                    "class": d.class_code,
                    "date": d.service_date.isoformat(),
                    "contentType": d.mime_type,
                    "size": d.size,
                }
                for d in documents
            ],
        }
    )


def _bundle_parts(body: bytes) -> tuple[str, str, bytes]:
    """The uniqueId, title and bytes of the one document of an ITI-65 bundle, read with the
    least work possible (no FHIR validation)."""
    bundle: dict[str, Any] = json.loads(body)
    unique_id = title = ""
    content = b""
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        kind = resource.get("resourceType")
        if kind == "DocumentReference":
            unique_id = resource["masterIdentifier"]["value"].removeprefix("urn:oid:")
            title = resource["content"][0]["attachment"].get("title", "")
        elif kind == "Binary":
            content = base64.b64decode(resource["data"], validate=True)
    return unique_id, title, content


@csrf_exempt
@login_not_required
@require_POST
def baseline_deposit(request: HttpRequest) -> HttpResponse:
    """ITI-65's storage, bare: the same bundle on the wire, then one Document row and the
    encrypted blob (mes.vault, per-patient key) in one transaction."""
    patient_id = _patient_id(request)
    if patient_id is None:
        return _bad_request("patient: UUID attendu")
    try:
        unique_id, title, content = _bundle_parts(request.body)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return _bad_request("bundle illisible")
    if not (unique_id and content):
        return _bad_request("bundle sans document")
    now = timezone.now()
    with transaction.atomic():
        doc = Document.objects.create(
            patient_id=patient_id,
            unique_id=unique_id,
            type_code="11488-4",
            class_code="10",
            format_code="urn:ihe:iti:xds-sd:pdf:2008",
            category="CPT_REND",
            title=title or "Document",
            mime_type="application/pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            service_date=timezone.localdate(),
            created_at=now,
            deposited_at=now,
            author_kind=Document.AuthorKind.PROFESSIONAL,
            author_label="Banc d'essai",
        )
        store.put(patient_id, doc.pk, content)
    return JsonResponse({"id": str(doc.pk)}, status=201)


for _view in (baseline_search, baseline_deposit):
    _view.mes_access = "public"  # type: ignore[attr-defined]

urlpatterns = [
    path("bench/baseline/documents", baseline_search, name="bench-baseline-search"),
    path("bench/baseline/deposit", baseline_deposit, name="bench-baseline-deposit"),
    path("", include("config.urls")),
]

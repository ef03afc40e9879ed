"""Web PS documents: the list with its filters and its timeline by class (TD3.1), one document
and its download (TD3.2), the author's (or médecin traitant's) actions (TD3.3), the release
after a consultation d'annonce, and the deposit (TD2.1).

What the habilitation matrix or the masking hides is simply absent from the lists, and a
document the professional may not read is « not found », exactly like one that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from mes.access.actors import AccessMode
from mes.access.decision import Action, decide
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib import codes
from mes.lib.codes import UnknownCode
from mes.lib.errors import InvalidInput
from mes.records import actions
from mes.records.models import Document
from mes.records.policies import (
    access_document,
    access_dossier,
    documents_visible_to,
    dossier_documents,
)
from mes.records.timers import document_release_to_patient
from mes.web.viewer import document_file, viewer_kind

from ..access import ProRequest, professional_view
from ..rendering import patient_of, render_pro
from .forms import CLASS_GROUPS, DepositForm, DocumentFilterForm, class_group_label

PAGE_SIZE = 100


@dataclass(frozen=True)
class ClassGroup:
    code: str
    label: str
    documents: list[Document]


def timeline(documents: list[Document]) -> list[ClassGroup]:
    """The documents grouped by class (« Synthèses », « Comptes rendus »…), each group keeping
    the order of the list (by date)."""
    by_class: dict[str, list[Document]] = {}
    for doc in documents:
        by_class.setdefault(doc.class_code, []).append(doc)
    order = [c for c in CLASS_GROUPS if c in by_class] + sorted(set(by_class) - set(CLASS_GROUPS))
    return [ClassGroup(c, class_group_label(c), by_class[c]) for c in order]


@require_http_methods(["GET"])
@professional_view
def document_list(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The documents this professional may read (CONSULT_DOSSIER trace), filtered and sorted."""
    person, visible = dossier_documents(request.actor, patient_id)
    present = set(visible.values_list("type_code", flat=True).distinct())
    form = DocumentFilterForm(request.GET or None, present_types=present)
    page = Paginator(form.apply(visible), PAGE_SIZE).get_page(request.GET.get("page"))
    documents = list(page.object_list)
    now = timezone.now()
    for doc in documents:
        doc.pending_release = not doc.released_to_patient(now)  # type: ignore[attr-defined]
    return render_pro(
        request,
        "pro/documents/list.html",
        {
            "form": form,
            "page": page,
            "documents": documents,
            "groups": timeline(documents) if form.grouped else None,
            "filtering": form.is_filtering,
        },
        patient=person,
    )


@require_http_methods(["GET"])
@professional_view
def document_detail(request: ProRequest, document_id: uuid.UUID) -> HttpResponse:
    """One document: its metadata, download, and the actions this professional may take."""
    doc = access_document(
        request.actor, document_id, action=Action.READ, trace_action=TraceAction.CONSULT_DOC
    )
    visible = documents_visible_to(request.actor, doc.patient)
    is_author = doc.author_professional_id == request.professional.pk
    manages = decide(request.actor, Action.PRO_MANAGE, doc.patient, doc).allowed
    pending_release = not doc.released_to_patient(timezone.now())
    return render_pro(
        request,
        "pro/documents/detail.html",
        {
            "doc": doc,
            "format_label": codes.format_codes().get(doc.format_code, doc.format_code),
            "viewer_kind": viewer_kind(doc),
            "previous": visible.filter(pk=doc.replaces_id).first() if doc.replaces_id else None,
            "next_version": visible.filter(replaces_id=doc.pk).first(),
            "is_author": is_author,
            "may_mask": manages and doc.status != Document.Status.SUPERSEDED,
            "may_archive": manages and is_author,
            "may_replace": is_author and doc.status == Document.Status.CURRENT,
            "pending_release": pending_release,
            "may_release": pending_release and request.actor.mode is AccessMode.NORMAL,
        },
        patient=doc.patient,
    )


@require_http_methods(["GET"])
@professional_view
def document_view(request: ProRequest, document_id: uuid.UUID) -> HttpResponse:
    """The content shown in the page's viewer (AFFICHAGE_DOC trace), sandboxed."""
    return document_file(
        request.actor, document_id, inline=True, unavailable=lambda: _unavailable(request)
    )


@require_http_methods(["GET"])
@professional_view
def document_download(request: ProRequest, document_id: uuid.UUID) -> HttpResponse:
    """The decrypted file, always as an attachment (TELECHARGEMENT_DOC trace)."""
    return document_file(
        request.actor, document_id, inline=False, unavailable=lambda: _unavailable(request)
    )


def _unavailable(request: ProRequest) -> HttpResponse:
    return render_pro(request, "pro/documents/unavailable.html", status=500)


@require_POST
@professional_view
def document_mask(request: ProRequest, document_id: uuid.UUID) -> HttpResponse:
    """Mask from the other professionals, or show again (TD3.3): the author or the MT."""
    masked = request.POST.get("masked") == "1"
    actions.document_set_masked(actor=request.actor, document_id=document_id, masked=masked)
    if masked:
        messages.success(
            request,
            "Ce document est maintenant masqué aux autres professionnels (son auteur et le "
            "médecin traitant le voient toujours).",
        )
    else:
        messages.success(request, "Ce document est de nouveau visible par les professionnels.")
    return redirect("pro:document", document_id)


@require_POST
@professional_view
def document_archive(request: ProRequest, document_id: uuid.UUID) -> HttpResponse:
    """Archive (kept, out of the default list) or restore one's own document (TD3.3)."""
    archived = request.POST.get("archived") == "1"
    try:
        actions.document_set_archived(
            actor=request.actor, document_id=document_id, archived=archived
        )
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Document archivé." if archived else "Document désarchivé.")
    return redirect("pro:document", document_id)


@require_POST
@professional_view
def document_delete(request: ProRequest, document_id: uuid.UUID) -> HttpResponse:
    """Delete one's own document (TD3.3 deleteDocument), confirmed on the document page."""
    actions.document_delete(actor=request.actor, document_id=document_id)
    messages.success(request, "Document supprimé du dossier. Le patient en est informé.")
    assert request.patient_id is not None  # the policy found the document, so its patient
    return redirect("pro:documents", request.patient_id)


@require_POST
@professional_view
def document_release(request: ProRequest, document_id: uuid.UUID) -> HttpResponse:
    """« Rendre visible au patient » after the consultation d'annonce (R1111-53)."""
    try:
        document_release_to_patient(actor=request.actor, document_id=document_id)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Le document est maintenant visible par le patient.")
    return redirect("pro:document", document_id)


def _replaceable(request: ProRequest, person: Citizen) -> list[Document]:
    """The professional's own current documents they may read on this dossier (none without
    the right to read it: documents_visible_to applies the decision)."""
    return list(
        documents_visible_to(request.actor, person)
        .filter(author_professional_id=request.professional.pk, status=Document.Status.CURRENT)
        .order_by("-service_date", "-deposited_at")
    )


@require_http_methods(["GET", "POST"])
@professional_view
def document_deposit(request: ProRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Deposit a PDF (TD2.1): allowed without consent (mes-spec §5.2), refused to a blocked
    professional (as not found). Nothing is stored unless every check passes."""
    person = patient_of(request, patient_id)
    # The refusal (a blocked professional) is traced and looks like a missing page.
    access_dossier(request.actor, person.pk, action=Action.DEPOSIT, trace_action=None)
    minor = person.is_minor()
    replaceable = _replaceable(request, person)
    if request.method == "POST":
        form = DepositForm(request.POST, request.FILES, minor=minor, replaceable=replaceable)
        doc = _deposit(request, person.pk, form) if form.is_valid() else None
        if doc is not None:
            messages.success(request, f"Document « {doc.title} » déposé dans le dossier.")
            if decide(request.actor, Action.READ, person, doc).allowed:
                return redirect("pro:document", doc.pk)
            return redirect("pro:patient", person.pk)
    else:
        wanted = request.GET.get("remplace", "")
        initial = {"replaces": wanted} if wanted in {str(d.pk) for d in replaceable} else {}
        form = DepositForm(minor=minor, replaceable=replaceable, initial=initial)
    return render_pro(request, "pro/documents/deposit.html", {"form": form}, patient=person)


def _deposit(request: ProRequest, patient_id: uuid.UUID, form: DepositForm) -> Document | None:
    data = form.cleaned_data
    replaces = data.get("replaces") or None
    try:
        return actions.document_deposit(
            actor=request.actor,
            patient_id=patient_id,
            content=data["file"].read(),
            title=data["title"],
            type_code=data["type_code"],
            service_date=data["service_date"],
            # Unticked: the patient's own default for new documents applies (portal.md §3.4).
            masked=True if data["masked"] else None,
            hidden_from_patient=data["hidden_from_patient"],
            hidden_from_representatives=bool(data.get("hidden_from_representatives")),
            replaces_id=uuid.UUID(replaces) if replaces else None,
        )
    except (InvalidInput, UnknownCode) as exc:
        form.add_input_error(exc)
        return None

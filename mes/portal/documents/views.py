"""Documents de santé: the list, adding, one document and its actions, folders (portal.md §3).

Each view resolves through one policy or action of mes.records; refusals raise NotFound and so
look exactly like a document that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST

from mes.access.decision import Action
from mes.access.models import PrivacySettings
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.codes import UnknownCode
from mes.lib.errors import InvalidInput, NotFound
from mes.records import actions
from mes.records.models import Document, Folder
from mes.records.policies import access_document, documents_visible_to, folders_of
from mes.web.viewer import document_file, viewer_kind

from ..access import PROFILE_SESSION_KEY, PortalRequest, patient_view
from .forms import (
    MASKED,
    VISIBLE,
    ConfidentialityForm,
    DocumentAddForm,
    DocumentEditForm,
    DocumentFilterForm,
    FolderForm,
    MoveForm,
    ReportForm,
    folder_id_of,
)

PAGE_SIZE = 50

AUTHOR_NOTICES = {
    Document.AuthorKind.PROFESSIONAL: "un professionnel de santé",
    Document.AuthorKind.STRUCTURE: "un établissement de santé",
    Document.AuthorKind.INSURER: "l'Assurance Maladie",
    Document.AuthorKind.APP: "un service connecté",
    Document.AuthorKind.SYSTEM: "Mon espace santé",
}


# --- helpers -------------------------------------------------------------------------------


def _own(request: PortalRequest) -> bool:
    return bool(request.profile.pk == request.citizen.pk)


def _show_profile_of(request: PortalRequest, doc: Document) -> None:
    """A document reached by a link (a notification about a child) shows its own profile.

    The policy already allowed it, so its patient is the citizen or someone they represent.
    """
    if doc.patient_id != request.profile.pk:
        request.profile = doc.patient
        request.is_own_profile = _own(request)
        request.session[PROFILE_SESSION_KEY] = str(doc.patient_id)


def _folders_of(request: PortalRequest, patient_id: uuid.UUID) -> list[Folder]:
    return list(folders_of(request.actor, patient_id))


def _default_visibility(profile: Citizen) -> str:
    privacy = PrivacySettings.objects.filter(patient=profile).first()
    return MASKED if privacy and privacy.mask_new_documents else VISIBLE


def author_notice(doc: Document) -> str:
    """Why a document the citizen did not deposit can be neither edited nor deleted."""
    if doc.deposited_by_citizen:
        return ""
    who = AUTHOR_NOTICES.get(Document.AuthorKind(doc.author_kind), "Mon espace santé")
    return f"Ce document a été ajouté par {who}. Il ne peut pas être modifié ou supprimé."


def report_prefill(doc: Document) -> str:
    deposited = date_format(timezone.localtime(doc.deposited_at), "d/m/Y")
    return (
        "Bonjour,\n\nJ'ai identifié un problème sur le document "
        f"{doc.title} déposé le {deposited} par {doc.author_label}.\n\n"
    )


# --- list and add --------------------------------------------------------------------------


@patient_view
def document_list(request: PortalRequest) -> HttpResponse:
    """« Mes documents »: filters, sort and pages over what the actor may see of the profile."""
    folders = _folders_of(request, request.profile.pk)
    form = DocumentFilterForm(request.GET or None, folders=folders)
    visible = documents_visible_to(request.actor, request.profile)
    page = Paginator(form.apply(visible.select_related("folder")), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/documents/list.html",
        {
            "form": form,
            "page": page,
            "filtering": form.is_filtering,
            "pinned_only": form.is_filtering and form.cleaned_data.get("epingles"),
            "pinned_count": visible.filter(pinned_at__isnull=False).count(),
        },
    )


def _deposit(request: PortalRequest, form: DocumentAddForm) -> Document | None:
    data = form.cleaned_data
    try:
        return actions.document_deposit(
            actor=request.actor,
            patient_id=request.profile.pk,
            content=data["file"].read(),
            title=data["title"],
            category=data["category"],
            service_date=data["service_date"],
            masked=form.masked,
            folder_id=folder_id_of(data["folder"]),
        )
    except (InvalidInput, UnknownCode) as exc:
        form.add_input_error(exc)
        return None


@patient_view
def document_add(request: PortalRequest) -> HttpResponse:
    """« Ajouter un document » (portal.md §3.2): nothing is stored unless every check passes."""
    folders = _folders_of(request, request.profile.pk)
    if request.method == "POST":
        form = DocumentAddForm(request.POST, request.FILES, folders=folders, own=_own(request))
        doc = _deposit(request, form) if form.is_valid() else None
        if doc is not None:
            messages.success(request, "Document ajouté")
            return redirect("portal:document", doc.pk)
    else:
        initial = {"confidentiality": _default_visibility(request.profile)}
        form = DocumentAddForm(folders=folders, own=_own(request), initial=initial)
    return render(request, "portal/documents/add.html", {"form": form})


# --- one document --------------------------------------------------------------------------


@patient_view
def document_detail(request: PortalRequest, document_id: uuid.UUID) -> HttpResponse:
    """« Voir les détails » and every action on the document (portal.md §3.3)."""
    doc = access_document(
        request.actor, document_id, action=Action.READ, trace_action=TraceAction.CONSULT_DOC
    )
    _show_profile_of(request, doc)
    visibility = MASKED if doc.masked_from_professionals else VISIBLE
    move_initial = {"op": "move", "document": doc.pk, "folder": doc.folder_id or ""}
    return render(
        request,
        "portal/documents/detail.html",
        {
            "doc": doc,
            "author_notice": author_notice(doc),
            "viewer_kind": viewer_kind(doc),
            "confidentiality_form": ConfidentialityForm(
                own=_own(request), initial={"confidentiality": visibility}
            ),
            "move_form": MoveForm(
                folders=_folders_of(request, doc.patient_id), initial=move_initial
            ),
        },
    )


@require_GET
@patient_view
def document_view(request: PortalRequest, document_id: uuid.UUID) -> HttpResponse:
    """The content shown in the page's viewer (AFFICHAGE_DOC trace), sandboxed."""
    return document_file(
        request.actor, document_id, inline=True, unavailable=lambda: _unavailable(request)
    )


@patient_view
def document_download(request: PortalRequest, document_id: uuid.UUID) -> HttpResponse:
    """The decrypted file, always as an attachment under a name we make (DESIGN.md §5)."""
    return document_file(
        request.actor, document_id, inline=False, unavailable=lambda: _unavailable(request)
    )


def _unavailable(request: PortalRequest) -> HttpResponse:
    return render(request, "portal/documents/unavailable.html", status=500)


def _update(request: PortalRequest, doc: Document, form: DocumentEditForm) -> bool:
    data = form.cleaned_data
    try:
        actions.document_update(
            actor=request.actor,
            document_id=doc.pk,
            title=data["title"],
            service_date=data["service_date"],
            category=data.get("category", doc.category),
            folder_id=folder_id_of(data["folder"]),
        )
    except (InvalidInput, UnknownCode) as exc:
        form.add_input_error(exc)
        return False
    return True


def _edit_form(doc: Document, folders: list[Folder], **kwargs: Any) -> DocumentEditForm:
    form = DocumentEditForm(folders=folders, **kwargs)
    if not doc.category_info.choosable:
        # Directives anticipées and the synthèse keep the category they were made with.
        del form.fields["category"]
    return form


@patient_view
def document_edit(request: PortalRequest, document_id: uuid.UUID) -> HttpResponse:
    """« Modifier »: only what the citizen side deposited (EDIT_OWN); anything else is a 404."""
    posted = request.method == "POST"
    doc = access_document(
        request.actor,
        document_id,
        action=Action.EDIT_OWN,
        trace_action=None if posted else TraceAction.CONSULT_DOC,
    )
    _show_profile_of(request, doc)
    folders = _folders_of(request, doc.patient_id)
    if posted:
        form = _edit_form(doc, folders, data=request.POST)
        if form.is_valid() and _update(request, doc, form):
            messages.success(request, "Document modifié")
            return redirect("portal:document", doc.pk)
    else:
        initial = {
            "title": doc.title,
            "service_date": doc.service_date,
            "category": doc.category,
            "folder": doc.folder_id or "",
        }
        form = _edit_form(doc, folders, initial=initial)
    return render(request, "portal/documents/edit.html", {"doc": doc, "form": form})


@require_POST
@patient_view
def document_delete(request: PortalRequest, document_id: uuid.UUID) -> HttpResponse:
    """« Supprimer » a document the citizen side deposited (confirmed on the detail page)."""
    actions.document_delete(actor=request.actor, document_id=document_id)
    messages.success(request, "Document supprimé")
    return redirect("portal:documents")


@require_POST
@patient_view
def document_confidentiality(request: PortalRequest, document_id: uuid.UUID) -> HttpResponse:
    """« Gérer la confidentialité »: mask from professionals, or show again (portal.md §3.4)."""
    form = ConfidentialityForm(request.POST, own=_own(request))
    if not form.is_valid():
        # A refusal must still be a 404, whatever was posted.
        access_document(request.actor, document_id, action=Action.MANAGE, trace_action=None)
        messages.error(request, "Choisissez qui peut consulter ce document.")
        return redirect("portal:document", document_id)
    actions.document_set_masked(actor=request.actor, document_id=document_id, masked=form.masked)
    if form.masked:
        messages.success(request, "Ce document est maintenant masqué aux professionnels de santé.")
    else:
        messages.success(request, "Ce document est maintenant visible par les professionnels.")
    return redirect("portal:document", document_id)


@require_POST
@patient_view
def document_pin(request: PortalRequest, document_id: uuid.UUID) -> HttpResponse:
    """« Épingler » / « Retirer l'épingle »."""
    pinned = request.POST.get("pinned") == "1"
    actions.document_set_pinned(actor=request.actor, document_id=document_id, pinned=pinned)
    messages.success(request, "Document épinglé" if pinned else "Épingle retirée")
    return redirect("portal:document", document_id)


@patient_view
def document_report(request: PortalRequest, document_id: uuid.UUID) -> HttpResponse:
    """« Signaler un problème sur ce document » (portal.md §3.5)."""
    posted = request.method == "POST"
    doc = access_document(
        request.actor,
        document_id,
        action=Action.MANAGE if posted else Action.READ,
        trace_action=None if posted else TraceAction.CONSULT_DOC,
    )
    _show_profile_of(request, doc)
    if not posted:
        form = ReportForm(initial={"description": report_prefill(doc)})
        return render(request, "portal/documents/report.html", {"doc": doc, "form": form})
    form = ReportForm(request.POST)
    if form.is_valid():
        try:
            actions.document_report(
                actor=request.actor,
                document_id=doc.pk,
                description=form.cleaned_data["description"],
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, "Votre signalement a été transmis. Merci.")
            return redirect("portal:document", doc.pk)
    return render(request, "portal/documents/report.html", {"doc": doc, "form": form})


# --- folders -------------------------------------------------------------------------------


def _folders_page(request: PortalRequest, bound: FolderForm | None = None) -> HttpResponse:
    folders = _folders_of(request, request.profile.pk)
    counts = dict(
        documents_visible_to(request.actor, request.profile)
        .filter(folder__isnull=False)
        .order_by()
        .values_list("folder")
        .annotate(n=Count("pk"))
        .values_list("folder", "n")
    )
    bound_op = bound.data.get("op") if bound is not None else None
    bound_folder = str(bound.data.get("folder", "")) if bound is not None else ""
    if bound_op == "rename" and bound_folder not in {str(f.pk) for f in folders}:
        raise NotFound()
    rows = []
    for folder in folders:
        form = bound if bound_op == "rename" and bound_folder == str(folder.pk) else None
        form = form or FolderForm(
            initial={"op": "rename", "folder": folder.pk, "name": folder.name},
            auto_id=f"id_f{folder.pk}_%s",
        )
        rows.append((folder, counts.get(folder.pk, 0), form))
    create_form = bound if bound_op == "create" else None
    create_form = create_form or FolderForm(initial={"op": "create"}, auto_id="id_new_%s")
    return render(
        request,
        "portal/documents/folders.html",
        {"rows": rows, "create_form": create_form},
    )


def _folder_save(request: PortalRequest, op: str) -> HttpResponse:
    folder = request.POST.get("folder", "")
    auto_id = f"id_f{folder}_%s" if op == "rename" else "id_new_%s"
    form = FolderForm(request.POST, auto_id=auto_id)
    if not form.is_valid():
        return _folders_page(request, bound=form)
    try:
        if op == "create":
            actions.folder_create(
                actor=request.actor, patient_id=request.profile.pk, name=form.cleaned_data["name"]
            )
        else:
            actions.folder_rename(
                actor=request.actor,
                patient_id=request.profile.pk,
                folder_id=form.cleaned_data["folder"] or 0,
                name=form.cleaned_data["name"],
            )
    except InvalidInput as exc:
        form.add_input_error(exc)
        return _folders_page(request, bound=form)
    messages.success(request, "Dossier créé" if op == "create" else "Dossier renommé")
    return redirect("portal:folders")


def _posted_int(request: PortalRequest, name: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError as exc:
        raise Http404("Introuvable.") from exc


def _folder_delete(request: PortalRequest) -> HttpResponse:
    actions.folder_delete(
        actor=request.actor,
        patient_id=request.profile.pk,
        folder_id=_posted_int(request, "folder"),
    )
    messages.success(request, "Dossier supprimé")
    return redirect("portal:folders")


def _document_move(request: PortalRequest) -> HttpResponse:
    form = MoveForm(request.POST, folders=_folders_of(request, request.profile.pk))
    if not form.is_valid():
        raise Http404("Introuvable.")
    doc = actions.document_move(
        actor=request.actor,
        document_id=form.cleaned_data["document"],
        folder_id=folder_id_of(form.cleaned_data["folder"]),
    )
    if doc.folder is None:
        messages.success(request, "Document retiré du dossier")
    else:
        messages.success(request, f"Document déplacé dans le dossier « {doc.folder.name} »")
    return redirect("portal:document", doc.pk)


@patient_view
def folders(request: PortalRequest) -> HttpResponse:
    """« Mes dossiers »: list with counts; POST `op` = create, rename, delete or move."""
    if request.method != "POST":
        return _folders_page(request)
    op = request.POST.get("op", "")
    if op in ("create", "rename"):
        return _folder_save(request, op)
    if op == "delete":
        return _folder_delete(request)
    if op == "move":
        return _document_move(request)
    raise Http404("Introuvable.")

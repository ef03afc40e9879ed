"""Every change to documents and folders. Each action checks its policy and writes its trace."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, Role
from mes.access.models import PrivacySettings
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.lib import codes, filetypes, prepared
from mes.lib.errors import InvalidInput, NotFound
from mes.lib.text import check_text
from mes.measures.documents import after_deposit as measures_after_deposit
from mes.notifications.actions import notify, speaks_to_holder
from mes.notifications.models import Notification
from mes.vault import store

from . import packed
from .models import Document, Folder
from .policies import access_document, access_dossier

# portal.md §1.7: characters refused in names.
FORBIDDEN_NAME_CHARS = set("@<>?:/€*#|%~+£$!§¤")
TITLE_MAX = 255
# A document the citizen side names: 50 characters, as the real service (portal.md §1.7, names
# default to 50). Professionals' software may send longer titles (XDS title, up to TITLE_MAX).
CITIZEN_TITLE_MAX = 50
BEFORE_BIRTH = "La date du document ne peut pas être antérieure à la date de naissance ({born})."
FOLDER_NAME_MAX = 50
# « Informations complémentaires » and other free texts: 3000 characters (portal.md §1.7).
REPORT_MAX = 3000


def check_name(value: str, *, label: str, max_length: int) -> str:
    value = check_text((value or "").strip(), label=label, field="title")
    if not value:
        raise InvalidInput(f"Le champ « {label} » est obligatoire.", field="title")
    if len(value) > max_length:
        raise InvalidInput(
            f"Le champ « {label} » ne doit pas dépasser {max_length} caractères.", field="title"
        )
    refused = sorted(set(value) & FORBIDDEN_NAME_CHARS)
    if refused:
        raise InvalidInput(
            f"Caractères refusés dans « {label} » : {' '.join(refused)}", field="title"
        )
    return value


def _check_type_for_author(type_code: str, role: Role, actor: Actor) -> codes.TypeCode:
    t = codes.type_code(type_code, for_deposit=True)
    patient_types = t.class_code == "90" or t.code.startswith("DOCPAT")
    if role in (Role.HOLDER, Role.REPRESENTATIVE, Role.CARER) and not patient_types:
        raise InvalidInput("Ce type de document ne peut pas être déposé par l'usager.", "type")
    if role is Role.APP and not patient_types:
        # A paired app deposits for the citizen, in the citizen's own types (issue 11).
        raise InvalidInput(
            "Un service synchronisé dépose les types de documents de l'usager (DOCPAT…).", "type"
        )
    if actor.kind is ActorKind.INSURER and t.code != "REMB":
        raise InvalidInput("L'Assurance Maladie ne dépose que des données de remboursement.")
    if actor.kind is ActorKind.PROFESSIONAL and (patient_types or t.code == "REMB"):
        raise InvalidInput("Ce type de document est réservé à l'usager ou à l'Assurance Maladie.")
    return t


def _check_content(content: bytes, max_bytes: int) -> str:
    if not content:
        raise InvalidInput("Le fichier est vide.", field="file")
    if len(content) > max_bytes:
        raise InvalidInput(
            f"Le fichier dépasse la taille maximale de {max_bytes // (1024 * 1024)} Mo.",
            field="file",
        )
    mime = filetypes.sniff(content)
    if mime is None:
        raise InvalidInput(
            f"Format de fichier non accepté : seuls les fichiers {filetypes.ACCEPTED_LABEL} "
            "sont acceptés.",
            field="file",
        )
    return mime


OID_PATTERN = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")
OID_MAX = 64  # XDS uniqueId (ebRIM) limit


def _check_unique_id(value: str) -> str:
    value = value.strip().removeprefix("urn:oid:")
    check_text(value, label="Identifiant unique du document", field="unique_id")
    if not OID_PATTERN.fullmatch(value) or len(value) > OID_MAX:
        raise InvalidInput(
            f"L'identifiant unique du document doit être un OID (chiffres séparés par des "
            f"points, {OID_MAX} caractères au plus).",
            field="unique_id",
        )
    if prepared.exists(Document, "unique_id", value):
        raise InvalidInput("Un document porte déjà cet identifiant unique.", field="unique_id")
    return value


# eventCodeList / referenceIdList (mes-spec §4.2, 0..*): the spec sets no bound [INF].
EVENT_CODES_MAX = 20
REFERENCE_IDS_MAX = 20
EVENT_SYSTEM_MAX = 255
EVENT_CODE_MAX = 64
REFERENCE_ID_MAX = 255


def _check_event_codes(pairs: Sequence[tuple[str, str]]) -> str:
    """The packed eventCodeList (mes.records.packed); duplicates are dropped."""
    kept: list[tuple[str, str]] = []
    for system, code in pairs:
        system, code = (system or "").strip(), (code or "").strip()
        check_text(system + code, label="Code d'acte (eventCode)", field="event_codes")
        if not code:
            raise InvalidInput("Un code d'acte (eventCode) est vide.", field="event_codes")
        if len(code) > EVENT_CODE_MAX or len(system) > EVENT_SYSTEM_MAX:
            raise InvalidInput(
                f"Un code d'acte (eventCode) ne dépasse pas {EVENT_CODE_MAX} caractères, son "
                f"système {EVENT_SYSTEM_MAX}.",
                field="event_codes",
            )
        if {packed.ITEM_SEP, packed.CODE_SEP} & set(system + code):
            raise InvalidInput(
                f"Caractères refusés dans un code d'acte (eventCode) : {packed.ITEM_SEP} "
                f"{packed.CODE_SEP}",
                field="event_codes",
            )
        if (system, code) not in kept:
            kept.append((system, code))
    if len(kept) > EVENT_CODES_MAX:
        raise InvalidInput(
            f"Un document porte au plus {EVENT_CODES_MAX} codes d'actes (eventCode).",
            field="event_codes",
        )
    return packed.pack_codes(kept)


def _check_reference_ids(values: Sequence[str]) -> str:
    """The packed referenceIdList (mes.records.packed); duplicates are dropped."""
    kept: list[str] = []
    for value in values:
        value = (value or "").strip()
        check_text(value, label="Identifiant associé (referenceId)", field="reference_ids")
        if not value:
            raise InvalidInput("Un identifiant associé (referenceId) est vide.", "reference_ids")
        if len(value) > REFERENCE_ID_MAX:
            raise InvalidInput(
                f"Un identifiant associé (referenceId) ne dépasse pas {REFERENCE_ID_MAX} "
                "caractères.",
                field="reference_ids",
            )
        if packed.ITEM_SEP in value:
            raise InvalidInput(
                f"Caractère refusé dans un identifiant associé (referenceId) : {packed.ITEM_SEP}",
                field="reference_ids",
            )
        if value not in kept:
            kept.append(value)
    if len(kept) > REFERENCE_IDS_MAX:
        raise InvalidInput(
            f"Un document porte au plus {REFERENCE_IDS_MAX} identifiants associés (referenceId).",
            field="reference_ids",
        )
    return packed.pack(kept)


def _new_unique_id() -> str:
    # OID under the deployment's root (2.25 = UUID-derived OIDs, ITU-T X.667).
    return f"2.25.{uuid.uuid4().int}"


@traced_action
def document_deposit(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    content: bytes,
    title: str,
    type_code: str | None = None,
    category: str | None = None,
    service_date: date | None = None,
    created_at: datetime | None = None,
    description: str = "",
    masked: bool | None = None,
    hidden_from_patient: bool = False,
    hidden_from_representatives: bool = False,
    replaces_id: uuid.UUID | None = None,
    folder_id: int | None = None,
    max_bytes: int | None = None,
    generated: bool = False,
    unique_id: str | None = None,
    event_codes: Sequence[tuple[str, str]] = (),
    reference_ids: Sequence[str] = (),
) -> Document:
    """Store a new document in the patient's dossier.

    Precondition: the actor may deposit (holder or representative, any non-blocked professional,
    the Assurance Maladie for REMB). Citizens choose a category (mapped to a DOCPAT type);
    others give a type code. `generated`: the document comes from a profil médical rubric
    (directives anticipées, synthèse), which alone may use the categories a citizen cannot pick
    in the upload form (DIR_ANT, SYNTH_PML; portal.md §3.1). Side effects: encrypted blob,
    DEPOT_DOC trace, a notification to the patient when someone else deposited. Bad input raises
    InvalidInput and stores nothing.
    unique_id: the document's OID given by the sender's software (MHD masterIdentifier); one is
    made when absent.
    event_codes: XDS eventCodeList as (system, code), the system may be ""; reference_ids: XDS
    referenceIdList values. Neither may hold « | » (nor « ^ » in a code): see records.packed.
    """
    patient, st = access_dossier(actor, patient_id, action=Action.DEPOSIT, trace_action=None)
    now = timezone.now()
    # The day in France (TIME_ZONE): from midnight to 1 or 2 a.m. it is already tomorrow there
    # while UTC says today, and a document of that day is not « in the future ».
    today = timezone.localdate(now)
    title = check_name(
        title,
        label="Nom du document",
        # The 50 characters of the portal's upload form bind what a person types; the titles
        # the service composes itself (justificatifs, synthesis) follow the DMP's limit.
        max_length=CITIZEN_TITLE_MAX if st.is_citizen_side and not generated else TITLE_MAX,
    )
    check_text(description, label="Description", field="description", multiline=True)
    if st.is_citizen_side:
        if service_date and service_date < patient.birth_date:
            raise InvalidInput(
                BEFORE_BIRTH.format(born=f"{patient.birth_date:%d/%m/%Y}"), "service_date"
            )
        cat = codes.categories().get(category or "")
        if cat is None or not (cat.choosable or generated):
            raise InvalidInput("Choisissez une catégorie de document.", field="category")
        type_code = cat.type_code
        if hidden_from_patient or hidden_from_representatives:
            raise InvalidInput("Ces restrictions de visibilité sont réservées aux professionnels.")
    if not type_code:
        raise InvalidInput("Le type de document est obligatoire.", field="type")
    t = _check_type_for_author(type_code, st.role, actor)
    if hidden_from_representatives and not patient.is_minor(today):
        raise InvalidInput("Seul le document d'un mineur peut être caché à ses représentants.")
    mime = _check_content(content, max_bytes or settings.MES_UPLOAD_MAX_BYTES)
    if service_date and service_date > today:
        raise InvalidInput("La date du document ne peut pas être dans le futur.", "service_date")
    unique_id = _check_unique_id(unique_id) if unique_id is not None else _new_unique_id()
    packed_events = _check_event_codes(event_codes)
    packed_references = _check_reference_ids(reference_ids)

    replaced = None
    if replaces_id is not None:
        replaced = (
            Document.objects.select_for_update()
            .filter(pk=replaces_id, patient=patient, status=Document.Status.CURRENT)
            .first()
        )
        if replaced is None or not _is_author(actor, replaced):
            raise Refused.because(
                actor,
                TraceAction.REPLACE_DOC,
                patient.pk,
                "remplacement réservé à l'auteur d'une version en vigueur",
                document_id=replaces_id,
            )
    folder = None
    if folder_id is not None:
        folder = Folder.objects.filter(pk=folder_id, patient=patient).first()
        if folder is None:
            raise InvalidInput("Ce dossier n'existe pas.", field="folder")

    if masked is None:
        # Read with the patient by access_dossier (select_related), else read now.
        cached = patient._state.fields_cache
        privacy = (
            cached["privacy"]
            if "privacy" in cached
            else PrivacySettings.objects.filter(patient=patient).first()
        )
        masked = bool(privacy and privacy.mask_new_documents)
    doc = Document(
        patient=patient,
        unique_id=unique_id,
        type_code=t.code,
        class_code=t.class_code,
        format_code=codes.format_for_mime().get(mime, "urn:ihe:iti:xds-sd:pdf:2008"),
        category=category if st.is_citizen_side and category else codes.category_for_type(t.code),
        title=title,
        description=description,
        mime_type=mime,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        # IHE XDS/MHD carry the SHA-1 of the bytes (attachment.hash): an identifier, not a seal.
        sha1=hashlib.sha1(content, usedforsecurity=False).hexdigest(),
        service_date=service_date or today,
        created_at=created_at or now,
        deposited_at=now,
        masked_from_professionals=masked,
        hidden_from_patient=hidden_from_patient,
        hidden_from_representatives=hidden_from_representatives,
        replaces=replaced,
        folder=folder,
        event_codes=packed_events,
        reference_ids=packed_references,
        **_author_fields(actor, st.role),
    )
    prepared.insert(doc)  # doc.save(), compiled once per process (issue 12 §6)
    if replaced is not None:
        Document.objects.filter(pk=replaced.pk).update(status=Document.Status.SUPERSEDED)
    store.put(patient.pk, doc.pk, content)
    if mime == filetypes.CDA_MIME:
        # Measures read from a structured document (portal.md §5.4), once it is stored for good:
        # a failure there never undoes the deposit (robust: logged, not raised).
        document_id = doc.pk
        transaction.on_commit(lambda: measures_after_deposit(document_id), robust=True)
    trace.record(
        actor=actor,
        action=TraceAction.REPLACE_DOC if replaced else TraceAction.DEPOSIT_DOC,
        patient_id=patient.pk,
        document_id=doc.pk,
        document_title=doc.title,
        matrix_version=st.matrix_version,
        hidden_from_representatives=hidden_from_representatives,
    )
    if not st.is_citizen_side and not hidden_from_patient:
        notify(
            profile=patient,
            code=Notification.Code.UPDATED_DOCUMENT if replaced else Notification.Code.NEW_DOCUMENT,
            label=(
                f"{doc.author_label} vous a ajouté le document «\u00a0{doc.title}\u00a0»"
                if speaks_to_holder(patient)
                else f"{doc.author_label} a ajouté le document «\u00a0{doc.title}\u00a0» "
                f"au profil de {patient.used_first_name or patient.first_name}"
            ),
            url=reverse("portal:document", args=[doc.pk]),
            link_label="Voir le document",
            hidden_from_representatives=hidden_from_representatives,
        )
    return doc


def _author_fields(actor: Actor, role: Role) -> dict[str, object]:
    if role in (Role.HOLDER, Role.REPRESENTATIVE, Role.CARER):
        return {
            "author_kind": Document.AuthorKind.PATIENT,
            "author_citizen_id": actor.citizen_id,
            "author_label": actor.display_name,
        }
    if actor.kind is ActorKind.PROFESSIONAL:
        return {
            "author_kind": Document.AuthorKind.PROFESSIONAL,
            "author_professional_id": actor.professional_id,
            "author_organisation_id": actor.organisation_id,
            "author_label": actor.display_name,
        }
    if actor.kind is ActorKind.INSURER:
        return {"author_kind": Document.AuthorKind.INSURER, "author_label": "Assurance Maladie"}
    if role is Role.APP:
        # « ajouté par <service> » wherever the portal names the author (issue 11).
        return {"author_kind": Document.AuthorKind.APP, "author_label": actor.display_name}
    return {"author_kind": Document.AuthorKind.SYSTEM, "author_label": "Mon espace santé"}


def _is_author(actor: Actor, doc: Document) -> bool:
    if actor.kind is ActorKind.PROFESSIONAL:
        return doc.author_professional_id == actor.professional_id
    return doc.deposited_by_citizen and actor.kind is ActorKind.CITIZEN


def document_content(*, actor: Actor, document_id: uuid.UUID) -> tuple[Document, bytes]:
    """The decrypted bytes of a document the actor may read (TELECHARGEMENT_DOC trace)."""
    doc = access_document(
        actor, document_id, action=Action.READ, trace_action=TraceAction.DOWNLOAD_DOC
    )
    return doc, store.get(doc.patient_id, doc.pk)


# What the in-page viewer shows (issue 8 item 5): PDF through pdf.js, images through <img>;
# every other format is only downloaded.
VIEWABLE_TYPES = {"application/pdf": "pdf", "image/jpeg": "image", "image/png": "image"}


def document_view_content(*, actor: Actor, document_id: uuid.UUID) -> tuple[Document, bytes]:
    """The decrypted bytes of a document shown in the page (AFFICHAGE_DOC trace, like a
    download: the content leaves the vault either way).

    Only VIEWABLE_TYPES: another format is NotFound before any access is decided or traced,
    since nothing is shown (the 404 is the one of an unknown document)."""
    mime = Document.objects.filter(pk=document_id).values_list("mime_type", flat=True).first()
    if mime is not None and mime not in VIEWABLE_TYPES:
        raise NotFound()
    doc = access_document(actor, document_id, action=Action.READ, trace_action=TraceAction.VIEW_DOC)
    return doc, store.get(doc.patient_id, doc.pk)


@traced_action
def document_set_masked(*, actor: Actor, document_id: uuid.UUID, masked: bool) -> Document:
    """Mask or unmask a document from professionals (MASQUE_PS): the holder or a representative
    (R1111-49), or, from the professional side (TD3.3), the document's author or the médecin
    traitant who may read it."""
    action = TraceAction.MASK_DOC if masked else TraceAction.UNMASK_DOC
    rule = Action.PRO_MANAGE if actor.kind is ActorKind.PROFESSIONAL else Action.MANAGE
    doc = access_document(actor, document_id, action=rule, trace_action=action)
    Document.objects.filter(pk=doc.pk).update(masked_from_professionals=masked)
    doc.masked_from_professionals = masked
    return doc


@traced_action
def document_set_pinned(*, actor: Actor, document_id: uuid.UUID, pinned: bool) -> Document:
    action = TraceAction.PIN_DOC if pinned else TraceAction.UNPIN_DOC
    doc = access_document(actor, document_id, action=Action.MANAGE, trace_action=action)
    doc.pinned_at = timezone.now() if pinned else None
    Document.objects.filter(pk=doc.pk).update(pinned_at=doc.pinned_at)
    return doc


@traced_action
def document_update(
    *,
    actor: Actor,
    document_id: uuid.UUID,
    title: str,
    service_date: date,
    category: str,
    folder_id: int | None,
) -> Document:
    """Edit what the citizen side deposited: name, date, category, folder."""
    doc = access_document(
        actor, document_id, action=Action.EDIT_OWN, trace_action=TraceAction.UPDATE_DOC
    )
    title = check_name(title, label="Nom du document", max_length=CITIZEN_TITLE_MAX)
    cat = codes.categories().get(category)
    if not doc.category_info.choosable:
        # A generated document (directives anticipées, synthèse) keeps its category and type.
        cat = doc.category_info
    elif cat is None or not cat.choosable:
        raise InvalidInput("Choisissez une catégorie de document.", field="category")
    if service_date > timezone.localdate():
        raise InvalidInput("La date du document ne peut pas être dans le futur.", "service_date")
    born = doc.patient.birth_date
    if service_date < born:
        raise InvalidInput(BEFORE_BIRTH.format(born=f"{born:%d/%m/%Y}"), "service_date")
    folder = None
    if folder_id is not None:
        folder = Folder.objects.filter(pk=folder_id, patient_id=doc.patient_id).first()
        if folder is None:
            raise InvalidInput("Ce dossier n'existe pas.", field="folder")
    t = codes.type_code(cat.type_code)
    Document.objects.filter(pk=doc.pk).update(
        title=title,
        service_date=service_date,
        category=cat.code,
        type_code=t.code,
        class_code=t.class_code,
        folder=folder,
    )
    doc.refresh_from_db()
    return doc


@traced_action
def document_delete(*, actor: Actor, document_id: uuid.UUID) -> None:
    """The citizen deletes a document they deposited, or a professional deletes their own
    document (TD3.3 deleteDocument). The row and its trace stay; the status says deleted and
    nobody can read it any more. The patient is told when a professional deletes."""
    if actor.kind is ActorKind.PROFESSIONAL:
        doc = _authored_document(actor, document_id, TraceAction.DELETE_DOC)
    else:
        doc = access_document(
            actor, document_id, action=Action.EDIT_OWN, trace_action=TraceAction.DELETE_DOC
        )
    Document.objects.filter(pk=doc.pk).update(status=Document.Status.DELETED, folder=None)
    if actor.kind is ActorKind.PROFESSIONAL:
        notify(
            profile=doc.patient,
            code=Notification.Code.DELETED_DOCUMENT,
            label=f"{actor.display_name} a supprimé le document « {doc.title} »",
            hidden_from_representatives=doc.hidden_from_representatives,
        )


def _authored_document(actor: Actor, document_id: uuid.UUID, action: TraceAction) -> Document:
    """A document this professional wrote and may still read; anything else is not found."""
    doc = access_document(actor, document_id, action=Action.PRO_MANAGE, trace_action=action)
    if doc.author_professional_id != actor.professional_id:
        raise Refused.because(
            actor,
            action,
            doc.patient_id,
            "réservé à l'auteur du document",
            document_id=doc.pk,
            hidden_from_representatives=doc.hidden_from_representatives,
        )
    return doc


@traced_action
def document_set_archived(*, actor: Actor, document_id: uuid.UUID, archived: bool) -> Document:
    """The author archives their document (TD3.3 Approved → Archived: kept, out of the default
    lists) or restores it. InvalidInput for a superseded or already-in-that-state document."""
    action = TraceAction.ARCHIVE_DOC if archived else TraceAction.UNARCHIVE_DOC
    doc = _authored_document(actor, document_id, action)
    before = Document.Status.CURRENT if archived else Document.Status.ARCHIVED
    after = Document.Status.ARCHIVED if archived else Document.Status.CURRENT
    if not Document.objects.filter(pk=doc.pk, status=before).update(status=after):
        raise InvalidInput(
            "Ce document est déjà archivé." if archived else "Ce document n'est pas archivé."
        )
    doc.status = after
    return doc


@traced_action
def document_report(*, actor: Actor, document_id: uuid.UUID, description: str) -> Document:
    """« Signaler un problème »: the document is flagged for the support desk."""
    doc = access_document(
        actor, document_id, action=Action.MANAGE, trace_action=TraceAction.REPORT_DOC
    )
    description = (description or "").strip()
    check_text(description, label="Description", field="description", multiline=True)
    if not description:
        raise InvalidInput("Décrivez le problème constaté.", field="description")
    if len(description) > REPORT_MAX:
        raise InvalidInput(
            f"La description ne doit pas dépasser {REPORT_MAX} caractères.", "description"
        )
    doc.reported_at = timezone.now()
    Document.objects.filter(pk=doc.pk).update(reported_at=doc.reported_at)
    return doc


@traced_action
def folder_create(*, actor: Actor, patient_id: uuid.UUID, name: str) -> Folder:
    patient, _ = access_dossier(
        actor, patient_id, action=Action.MANAGE, trace_action=TraceAction.FOLDER
    )
    name = check_name(name, label="Nom du dossier", max_length=FOLDER_NAME_MAX)
    if Folder.objects.filter(patient=patient, name__iexact=name).exists():
        raise InvalidInput("Un dossier porte déjà ce nom.", field="name")
    return Folder.objects.create(patient=patient, name=name)


@traced_action
def folder_rename(*, actor: Actor, patient_id: uuid.UUID, folder_id: int, name: str) -> Folder:
    patient, _ = access_dossier(
        actor, patient_id, action=Action.MANAGE, trace_action=TraceAction.FOLDER
    )
    folder = Folder.objects.filter(pk=folder_id, patient=patient).first()
    if folder is None:
        raise NotFound()
    name = check_name(name, label="Nom du dossier", max_length=FOLDER_NAME_MAX)
    if Folder.objects.filter(patient=patient, name__iexact=name).exclude(pk=folder.pk).exists():
        raise InvalidInput("Un dossier porte déjà ce nom.", field="name")
    folder.name = name
    folder.save(update_fields=["name"])
    return folder


@traced_action
def folder_delete(*, actor: Actor, patient_id: uuid.UUID, folder_id: int) -> None:
    """Deleting a folder keeps its documents (portal.md §3.1)."""
    patient, _ = access_dossier(
        actor, patient_id, action=Action.MANAGE, trace_action=TraceAction.FOLDER
    )
    deleted, _ = Folder.objects.filter(pk=folder_id, patient=patient).delete()
    if not deleted:
        raise NotFound()


@traced_action
def document_move(*, actor: Actor, document_id: uuid.UUID, folder_id: int | None) -> Document:
    """Put a document in a folder, or take it out (folder_id None)."""
    doc = access_document(actor, document_id, action=Action.MANAGE, trace_action=None)
    folder = None
    if folder_id is not None:
        folder = Folder.objects.filter(pk=folder_id, patient_id=doc.patient_id).first()
        if folder is None:
            raise NotFound()
    trace.record(
        actor=actor,
        action=TraceAction.FOLDER,
        patient_id=doc.patient_id,
        document_id=doc.pk,
        document_title=doc.title,
    )
    Document.objects.filter(pk=doc.pk).update(folder=folder)
    doc.folder = folder
    return doc

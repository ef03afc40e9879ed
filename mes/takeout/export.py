"""« Télécharger mes données » (portal.md §5.4, wave2.md §0 row 11).

The holder asks (never an aidant, never someone acting for another: Action.EXPORT_DATA); a
background task builds one zip of the espace and of the profiles the holder legally represents,
in three parts, each with its size:

- `dossier-medical/`: per profile, `bundle.json` (a FHIR R4 Bundle shaped as the answer of
  `Patient/$everything`: the Patient, a DocumentReference per document pointing at the original
  file in the zip, the Immunizations, the measures as Observations, Mon histoire de santé as
  ExplanationOfBenefits), `documents/` (the original files) and `synthese.pdf` (a readable
  summary);
- `messagerie/`: `conversations.json` (every conversation not in the bin, with its messages)
  and the attachments, decrypted; a note when the profile has no conversation;
- `compte/compte.json`: the account: identity traits, contact details, privacy and notification
  choices, authorised professionals, proches aidants.

The zip is stored encrypted in the vault under the requester's key; a notification (EXPORT_DONNEES)
says it is ready; the link works until MES_EXPORT_AVAILABILITY has passed. The request and each
download are traced on the chain of every profile included.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from mes.access.actors import Actor, ActorKind, citizen_actor
from mes.access.decision import Action, Standing, decide, standing
from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction, TraceOutcome
from mes.carers.models import CarerDelegation
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen
from mes.lib import codes, filetypes
from mes.lib.errors import InvalidInput
from mes.measures.fhir import measurement_to_observation
from mes.measures.models import Measurement
from mes.medical_profile import pdf
from mes.notifications.actions import notify
from mes.notifications.models import Notification
from mes.records.models import Document
from mes.records.policies import documents_visible_to
from mes.reimbursements.fhir import explanation_of_benefit
from mes.reimbursements.models import Episode
from mes.vaccinations.fhir import vaccination_to_immunization
from mes.vaccinations.models import Vaccination
from mes.vault import store
from mes.vault.store import VaultError

from .models import DataExport

INS_NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
INS_NIA_SYSTEM = "urn:oid:1.2.250.1.213.1.4.9"
NO_MESSAGING = (
    "Aucune conversation : la messagerie de santé n'a encore reçu ni envoyé aucun message pour "
    "ce profil.\n"
)


def profiles_for_export(requester: Citizen) -> list[Citizen]:
    """The requester's own profile and those they legally represent (« mon profil et des profils
    qui me sont rattachés »); never an aidé's."""
    represented = Citizen.objects.filter(
        pk__in=LegalRepresentation.objects.current()
        .filter(representative=requester)
        .values("represented_id")
    ).order_by("birth_date")
    return [requester, *represented]


def _requester(actor: Actor, action: TraceAction) -> Citizen:
    """The citizen asking for their own espace's data; an aidant acting for someone, anyone but
    the holder, is refused (portal.md §5.8)."""
    citizen = (
        Citizen.objects.filter(pk=actor.citizen_id).first()
        if actor.kind is ActorKind.CITIZEN and actor.citizen_id is not None
        else None
    )
    if citizen is None:
        raise Refused.because(actor, action, None, "réservé au titulaire de l'espace")
    target = Citizen.objects.filter(pk=actor.on_behalf_of).first() if actor.on_behalf_of else None
    decision = decide(actor, Action.EXPORT_DATA, target or citizen)
    if not decision.allowed:
        raise Refused.because(actor, action, (target or citizen).pk, decision.reason)
    return citizen


@traced_action
def export_request(*, actor: Actor) -> DataExport:
    """Ask for the download. Precondition: the holder acting for themselves; no other export
    being prepared. Side effects: a pending DataExport, a DEMANDE_TELECHARGEMENT_DONNEES trace on
    each included profile, the building task enqueued after the commit."""
    citizen = _requester(actor, TraceAction.EXPORT_REQUEST)
    if DataExport.objects.filter(requested_by=citizen, status=DataExport.Status.PENDING).exists():
        raise InvalidInput("Une demande est déjà en cours de préparation.")
    profiles = [
        p for p in profiles_for_export(citizen) if decide(actor, Action.EXPORT_DATA, p).allowed
    ]
    export = DataExport.objects.create(
        requested_by=citizen, profile_ids=[str(p.pk) for p in profiles]
    )
    for profile in profiles:
        trace.record(actor=actor, action=TraceAction.EXPORT_REQUEST, patient_id=profile.pk)
    from .tasks import build_data_export

    transaction.on_commit(lambda: build_data_export.enqueue(str(export.pk)))
    return export


@traced_action
def latest_export(*, actor: Actor) -> DataExport | None:
    """The requester's most recent export, for the page. Precondition: the holder acting for
    themselves (an aidant gets NotFound, traced). Reads only their own rows."""
    citizen = _requester(actor, TraceAction.EXPORT_REQUEST)
    return DataExport.objects.filter(requested_by=citizen).order_by("-requested_at").first()


def export_failed(*, export_id: uuid.UUID) -> None:
    """The task could not build it: the citizen may ask again."""
    DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
        status=DataExport.Status.FAILED
    )


# --- building ---------------------------------------------------------------------------------


@dataclass
class _Zip:
    buffer: io.BytesIO = field(default_factory=io.BytesIO)
    sizes: dict[str, int] = field(
        default_factory=lambda: {"medical": 0, "messaging": 0, "account": 0}
    )

    def __post_init__(self) -> None:
        self.archive = zipfile.ZipFile(self.buffer, "w", compression=zipfile.ZIP_DEFLATED)

    def add(self, part: str, name: str, data: bytes) -> None:
        self.archive.writestr(name, data)
        self.sizes[part] += len(data)


def _folder(profile: Citizen) -> str:
    return slugify(f"{profile.display_name}-{profile.birth_date:%Y}") or str(profile.pk)


def _patient_resource(p: Citizen) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": str(p.pk),
        "identifier": [
            {
                "use": "official",
                "system": INS_NIR_SYSTEM if p.ins_kind == "NIR" else INS_NIA_SYSTEM,
                "value": p.ins,
            }
        ],
        "name": [
            {
                "use": "official",
                "family": p.birth_name,
                "given": p.first_names.split(),
            },
            *(
                [{"use": "usual", "family": p.used_name}]
                if p.used_name and p.used_name != p.birth_name
                else []
            ),
        ],
        "gender": {"F": "female", "M": "male"}.get(p.sex, "unknown"),
        "birthDate": p.birth_date.isoformat(),
        **({"telecom": [{"system": "email", "value": p.email}]} if p.email else {}),
    }


def _document_reference(doc: Document, path: str) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": str(doc.pk),
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:oid:{doc.unique_id}"},
        "status": "current",
        "type": {"coding": [{"code": doc.type_code}], "text": _category(doc)},
        "subject": {"reference": f"Patient/{doc.patient_id}"},
        "date": doc.deposited_at.isoformat(timespec="seconds"),
        "author": [{"display": doc.author_label}] if doc.author_label else [],
        "description": doc.title,
        "content": [
            {
                "attachment": {
                    "contentType": doc.mime_type,
                    "url": path,
                    "size": doc.size,
                    "title": doc.title,
                    "creation": doc.created_at.isoformat(timespec="seconds"),
                }
            }
        ],
        "context": {"period": {"start": doc.service_date.isoformat()}},
    }


def _category(doc: Document) -> str:
    cat = codes.categories().get(doc.category)
    return cat.label if cat else doc.type_code


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:{resource['id']}",
        "resource": resource,
        "search": {"mode": "match"},
    }


def medical_bundle(
    actor: Actor, profile: Citizen, documents: list[tuple[Document, str]]
) -> dict[str, Any]:
    """The profile's dossier as the searchset Bundle `Patient/$everything` answers."""
    resources: list[dict[str, Any]] = [_patient_resource(profile)]
    resources += [_document_reference(doc, path) for doc, path in documents]
    resources += [
        vaccination_to_immunization(v)
        for v in Vaccination.objects.filter(patient=profile).select_related("patient")
    ]
    resources += [
        measurement_to_observation(m)
        for m in Measurement.objects.filter(patient=profile).select_related("patient")
    ]
    resources += [explanation_of_benefit(e) for e in Episode.objects.filter(patient=profile)]
    for r in resources:
        if r["resourceType"] != "Patient" and "patient" in r and "reference" not in r["patient"]:
            r["patient"] = {"reference": f"Patient/{profile.pk}", **r["patient"]}
        if r["resourceType"] == "Observation" and "reference" not in r.get("subject", {}):
            r["subject"] = {"reference": f"Patient/{profile.pk}", **r.get("subject", {})}
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "timestamp": timezone.now().isoformat(timespec="seconds"),
        "total": len(resources),
        "entry": [_entry(r) for r in resources],
    }


def _summary_pdf(
    profile: Citizen, documents: list[tuple[Document, str]], counts: dict[str, int]
) -> bytes:
    rows: list[tuple[str, ...]] = [("Date", "Document", "Catégorie", "Fichier")]
    rows += [
        (doc.service_date.strftime("%d/%m/%Y"), doc.title, _category(doc), path)
        for doc, path in documents
    ]
    blocks: list[pdf.Block] = [
        pdf.Para(
            "Ce document résume les données de santé contenues dans le fichier que vous avez "
            f"téléchargé le {pdf.french_date(timezone.localdate())}. Le fichier bundle.json "
            "contient les mêmes données au format FHIR R4, lisible par les logiciels de santé."
        ),
        pdf.Heading("Contenu"),
        pdf.Fields(
            (
                ("Documents", str(len(documents))),
                ("Vaccinations", str(counts["vaccinations"])),
                ("Mesures de santé", str(counts["measures"])),
                ("Lignes de Mon histoire de santé", str(counts["episodes"])),
            )
        ),
    ]
    if documents:
        blocks += [pdf.Heading("Documents"), pdf.Rows(tuple(rows), (1, 3, 2, 3))]
    return pdf.render(
        title="Mes données de santé",
        identity=pdf.Identity.of(profile),
        blocks=blocks,
        author="Mon espace santé",
    )


def messaging_part(actor: Actor, profile: Citizen, st: Standing) -> list[tuple[str, bytes]]:
    """The messaging part of one profile, as (file name, bytes): `conversations.json` (every
    conversation not put in the bin, each message with its date, direction, sender, subject and
    text) and each attachment, decrypted, under `<conversation>/pieces-jointes/`. File names
    are made here, never taken from the sender. A note when there is no conversation.
    What the requester reads in the messagerie only: a parent's download of a child's espace
    never holds the minor's secret care (mes.messaging.policies, R1111-50), as `st` (the
    standing the profile is read with) says: no decision of its own."""
    from mes.messaging.policies import conversations_visible_to

    secret_shown = st.sees_hidden_from_representatives
    conversations = (
        conversations_visible_to(actor, profile, sees_secret=secret_shown)
        .select_related("counterpart__professional", "counterpart__organisation")
        .prefetch_related("messages__attachments", "messages__sender__professional")
        .order_by("created_at")
    )
    files: list[tuple[str, bytes]] = []
    listing: list[dict[str, Any]] = []
    for number, conv in enumerate(conversations, start=1):
        folder = f"{number:03d}-{slugify(conv.subject)[:40] or 'conversation'}"
        messages = []
        for message in conv.messages.all():
            if message.hidden_from_representatives and not secret_shown:
                continue
            attachments = []
            for attachment in message.attachments.all():
                stem = slugify(attachment.filename.rsplit(".", 1)[0])[:40] or "piece-jointe"
                extension = filetypes.EXTENSIONS.get(attachment.mime_type, "bin")
                name = f"{folder}/pieces-jointes/{attachment.pk.hex[:8]}-{stem}.{extension}"
                entry = {"nom": attachment.filename, "type": attachment.mime_type}
                try:
                    files.append((name, store.get(profile.pk, attachment.pk)))
                    entry["fichier"] = name
                except (VaultError, OSError):
                    entry["fichier"] = ""  # said, not hidden: the file could not be read
                attachments.append(entry)
            sender = message.sender.display_name if message.sender else profile.display_name
            messages.append(
                {
                    "date": message.at.isoformat(),
                    "sens": message.get_direction_display(),
                    "expediteur": sender,
                    "objet": message.subject,
                    "texte": message.body_text,
                    "pieces_jointes": attachments,
                }
            )
        listing.append(
            {
                "objet": conv.subject,
                "interlocuteur": conv.counterpart.display_name,
                "adresse_messagerie": conv.counterpart.address,
                "cloturee": conv.closed_at is not None,
                "messages": messages,
            }
        )
    if not listing:
        return [("LISEZ-MOI.txt", NO_MESSAGING.encode())]
    return [("conversations.json", _json(listing)), *files]


def account_data(profile: Citizen) -> dict[str, Any]:
    """The account part: who the profile is and the choices made in it."""
    privacy = PrivacySettings.objects.filter(patient=profile).first()
    user = profile.user
    return {
        "identite": {
            "nom_de_naissance": profile.birth_name,
            "nom_utilise": profile.used_name,
            "prenoms": profile.first_names,
            "date_de_naissance": profile.birth_date.isoformat(),
            "sexe": profile.sex,
            "ins": profile.ins,
        },
        "coordonnees": {
            "email": profile.email or (user.email if user else ""),
            "telephone": user.phone if user else "",
            "identifiant": user.username if user else "",
        },
        "confidentialite": (
            {
                f.name: getattr(privacy, f.name)
                for f in PrivacySettings._meta.fields
                if f.name not in ("id", "patient")
            }
            if privacy
            else {}
        ),
        "professionnels": [
            {
                "professionnel": a.professional.display_name,
                "statut": a.get_status_display(),
                "medecin_traitant": a.is_treating_physician,
            }
            for a in ProfessionalAccess.objects.filter(patient=profile).select_related(
                "professional"
            )
        ],
        "proches_aidants": [
            {
                "aidant": d.carer.display_name,
                "depuis": timezone.localtime(d.started_at).date().isoformat(),
                "jusqu_au": timezone.localtime(d.ends_at).date().isoformat(),
            }
            for d in CarerDelegation.objects.active().filter(aided=profile).select_related("carer")
        ],
    }


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


def _profile_into(z: _Zip, actor: Actor, profile: Citizen) -> None:
    folder = _folder(profile)
    st = standing(actor, profile)
    documents: list[tuple[Document, str]] = []
    for doc in documents_visible_to(actor, profile, st).order_by("service_date", "pk"):
        ext = filetypes.EXTENSIONS.get(doc.mime_type, "bin")
        path = f"documents/{slugify(doc.title)[:60] or 'document'}-{str(doc.pk)[:8]}.{ext}"
        z.add("medical", f"{folder}/dossier-medical/{path}", store.get(profile.pk, doc.pk))
        documents.append((doc, path))
    bundle = medical_bundle(actor, profile, documents)
    z.add("medical", f"{folder}/dossier-medical/bundle.json", _json(bundle))
    counts = {
        "vaccinations": Vaccination.objects.filter(patient=profile).count(),
        "measures": Measurement.objects.filter(patient=profile).count(),
        "episodes": Episode.objects.filter(patient=profile).count(),
    }
    z.add(
        "medical",
        f"{folder}/dossier-medical/synthese.pdf",
        _summary_pdf(profile, documents, counts),
    )
    for name, data in messaging_part(actor, profile, st):
        z.add("messaging", f"{folder}/messagerie/{name}", data)
    z.add("account", f"{folder}/compte/compte.json", _json(account_data(profile)))


def export_build(*, export_id: uuid.UUID) -> DataExport:
    """Build the zip of a pending export (the background task). Reads each profile as the
    requester, through the same decision as their own pages; stores the zip encrypted under the
    requester's key; notifies EXPORT_DONNEES. A profile the requester no longer manages is left
    out. Idempotent: an export already built is returned as is."""
    export = DataExport.objects.select_related("requested_by").get(pk=export_id)
    if export.status != DataExport.Status.PENDING:
        return export
    requester = export.requested_by
    actor = citizen_actor(requester)
    z = _Zip()
    for profile in Citizen.objects.filter(pk__in=export.profile_ids).order_by("birth_date"):
        if decide(actor, Action.EXPORT_DATA, profile).allowed:
            _profile_into(z, actor, profile)
    z.archive.close()
    content = z.buffer.getvalue()
    store.put(requester.pk, export.pk, content)
    now = timezone.now()
    export.status = DataExport.Status.READY
    export.ready_at = now
    export.expires_at = now + settings.MES_EXPORT_AVAILABILITY
    export.medical_size = z.sizes["medical"]
    export.messaging_size = z.sizes["messaging"]
    export.account_size = z.sizes["account"]
    export.zip_size = len(content)
    export.save()
    notify(
        profile=requester,
        code=Notification.Code.EXPORT_READY,
        label=(
            "Vos données sont prêtes à télécharger jusqu'au "
            f"{timezone.localtime(export.expires_at):%d/%m/%Y}."
        ),
        url=reverse("portal:data_export"),
        link_label="Télécharger mes données",
    )
    return export


@traced_action
def export_download(*, actor: Actor, export_id: uuid.UUID) -> tuple[DataExport, bytes | None]:
    """The zip, for the requester only, while the link lasts. Side effect: a
    TELECHARGEMENT_DONNEES trace on each included profile. Past its date the content is None
    and a refused trace says why (the page then explains it: EXPIRED)."""
    citizen = _requester(actor, TraceAction.EXPORT_DOWNLOAD)
    export = DataExport.objects.filter(pk=export_id, requested_by=citizen).first()
    if export is None or export.status != DataExport.Status.READY:
        raise Refused.because(
            actor, TraceAction.EXPORT_DOWNLOAD, citizen.pk, "export inconnu ou non prêt"
        )
    if not export.is_available():
        trace.record(
            actor=actor,
            action=TraceAction.EXPORT_DOWNLOAD,
            outcome=TraceOutcome.REFUSED,
            patient_id=citizen.pk,
            reason="lien de téléchargement expiré",
        )
        return export, None
    content = store.get(citizen.pk, export.pk)
    DataExport.objects.filter(pk=export.pk).update(downloads=export.downloads + 1)
    for pid in export.profile_ids:
        trace.record(actor=actor, action=TraceAction.EXPORT_DOWNLOAD, patient_id=uuid.UUID(pid))
    return export, content


EXPIRED = "Ce lien de téléchargement a expiré : faites une nouvelle demande de téléchargement."

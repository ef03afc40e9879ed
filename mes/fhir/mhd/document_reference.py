"""A DMP document as an MHD DocumentReference (Minimal profile, with the French codes of
mes-spec §4; spec/mhd.md « DocumentReference »).

| DocumentReference | Document (XDS DocumentEntry) |
|---|---|
| id, identifier (entryUUID, urn:uuid) | pk |
| masterIdentifier (urn:oid) | unique_id (uniqueId) |
| status | current / superseded; archived = current + extension PDSm_isArchived; deleted: never |
| type | type_code (LOINC, or TRE_A05) |
| category | class_code (TRE_A03), derived from the type |
| subject | Reference(Patient/<id of the citizen>) |
| date | deposited_at (when the DMP registered it) |
| author | contained Practitioner (RPPS, profession) + Organization (FINESS); the patient |
| securityLabel | N + MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX (TRE_A07) |
| content.attachment | mime_type, ITI-68 url (Binary/<id>), size, SHA-1 hash, title, creation |
| content.format | format_code |
| context.period.start | service_date (serviceStartTime) |
| context.facilityType / practiceSetting | from the author's structure (see `author_context`) |
| context.event | event_codes (eventCodeList), one concept per (system, code) |
| context.related | reference_ids (referenceIdList), as Reference.identifier.value |
| relatesTo | replaces → the version this one replaced |
"""

from __future__ import annotations

import base64
from datetime import date, datetime, tzinfo
from typing import Any

from django.utils import timezone

from mes.identity.models import Organisation
from mes.lib import codes
from mes.records.models import Document

from . import systems

CONFIDENTIALITY_DISPLAY = {
    "N": "normal",
    "MASQUE_PS": "Masqué aux professionnels de santé",
    "INVISIBLE_PATIENT": "Non visible par le patient",
    "INVISIBLE_REPRESENTANTS_LEGAUX": "Non visible par les représentants légaux du patient",
}
VISIBILITY_FLAGS = ("MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")

# The context of a document, from the kind of the author's structure [INF]: the DMP knows the
# structure's sector of activity (VIHF Secteur_Activite, mes-spec §5.7) without trusting the
# sender's metadata. TRE_R02-SecteurActivite for facilityType, TRE_A01-CadreExercice for
# practiceSetting. A professional without a structure practises on their own (cabinet).
FACILITY_BY_KIND: dict[str, tuple[str, str]] = {
    Organisation.Kind.PRACTICE: ("SA07", "Cabinet individuel"),
    Organisation.Kind.PHARMACY: ("SA33", "Pharmacie d'officine"),
    Organisation.Kind.LABORATORY: ("SA25", "Laboratoire de biologie médicale"),
    Organisation.Kind.HOSPITAL: ("SA01", "Etablissement public de santé"),
    Organisation.Kind.SAMU: ("SA01", "Etablissement public de santé"),
    Organisation.Kind.INSURER: ("SA24", "Organisme de sécurité sociale"),
}
SETTING_BY_KIND: dict[str, tuple[str, str]] = {
    Organisation.Kind.PRACTICE: ("AMBULATOIRE", "Ambulatoire"),
    Organisation.Kind.PHARMACY: ("AMBULATOIRE", "Ambulatoire"),
    Organisation.Kind.LABORATORY: ("AMBULATOIRE", "Ambulatoire"),
    Organisation.Kind.HOSPITAL: ("ETABLISSEMENT", "Etablissement de santé"),
    Organisation.Kind.SAMU: ("ETABLISSEMENT", "Etablissement de santé"),
    Organisation.Kind.INSURER: ("AMO", "Organisme d'assurance maladie obligatoire"),
}
NO_STRUCTURE = Organisation.Kind.PRACTICE  # a professional alone: a cabinet
PATIENT_SETTING = ("EXP_PATIENT", "Expression personnelle du patient")  # TRE_A00


def iso(value: datetime | date, tz: tzinfo | None = None) -> str:
    """An instant in the server's zone (`tz`: that zone, when the caller already has it), or a
    date."""
    if isinstance(value, datetime):
        return value.astimezone(tz or timezone.get_current_timezone()).isoformat(timespec="seconds")
    return value.isoformat()


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str = "") -> dict[str, Any]:
    return {"coding": [coding(system, code, display)]}


def author_kind_of(doc: Document) -> str | None:
    """The structure kind the context is derived from, or None (patient, system...)."""
    if doc.author_kind == Document.AuthorKind.PROFESSIONAL:
        org = doc.author_organisation
        return org.kind if org is not None else NO_STRUCTURE
    if doc.author_kind == Document.AuthorKind.STRUCTURE and doc.author_organisation:
        return doc.author_organisation.kind
    if doc.author_kind == Document.AuthorKind.INSURER:
        return Organisation.Kind.INSURER
    return None


def author_context(doc: Document) -> dict[str, Any]:
    """context.facilityType and context.practiceSetting of this document (may be empty)."""
    out: dict[str, Any] = {}
    if doc.author_kind == Document.AuthorKind.PATIENT:
        out["practiceSetting"] = concept(systems.TRE_A00, *PATIENT_SETTING)
        return out
    kind = author_kind_of(doc)
    if kind in FACILITY_BY_KIND:
        out["facilityType"] = concept(systems.TRE_R02, *FACILITY_BY_KIND[kind])
    if kind in SETTING_BY_KIND:
        out["practiceSetting"] = concept(systems.TRE_A01, *SETTING_BY_KIND[kind])
    return out


def confidentiality_codes(doc: Document, now: datetime | None = None) -> list[str]:
    """N plus the TRE_A07 flags in force (INVISIBLE_PATIENT ends with its release, R1111-53)."""
    out = ["N"]
    if doc.masked_from_professionals:
        out.append("MASQUE_PS")
    if not doc.released_to_patient(now or timezone.now()):
        out.append("INVISIBLE_PATIENT")
    if doc.hidden_from_representatives:
        out.append("INVISIBLE_REPRESENTANTS_LEGAUX")
    return out


def security_labels(flags: list[str]) -> list[dict[str, Any]]:
    return [
        concept(
            systems.HL7_CONFIDENTIALITY if flag == "N" else systems.TRE_A07,
            flag,
            CONFIDENTIALITY_DISPLAY[flag],
        )
        for flag in flags
    ]


def sha1_base64(hex_digest: str) -> str:
    """Attachment.hash: base64 of the 20 bytes of the SHA-1 (FHIR base64Binary)."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def _authors(doc: Document) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(contained resources, author references)."""
    contained: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []
    pro = doc.author_professional
    org = doc.author_organisation
    if doc.author_kind == Document.AuthorKind.PROFESSIONAL and pro is not None:
        qualification = [
            {
                "code": concept(
                    systems.PROFESSION,
                    pro.profession,
                    codes.professions().get(pro.profession, ""),
                )
            }
        ]
        if pro.specialty:
            qualification.append(
                {"code": concept(systems.SPECIALTY, pro.specialty, pro.specialty_label)}
            )
        contained.append(
            {
                "resourceType": "Practitioner",
                "id": "auteur",
                "identifier": [{"system": systems.RPPS, "value": pro.national_id}],
                "name": [{"family": pro.last_name, "given": [pro.first_name]}],
                "qualification": qualification,
            }
        )
        refs.append({"reference": "#auteur", "display": doc.author_label})
    elif doc.author_kind == Document.AuthorKind.PATIENT:
        ref: dict[str, Any] = {"display": doc.author_label}
        if doc.author_citizen_id:
            ref["reference"] = f"Patient/{doc.author_citizen_id}"
        refs.append(ref)
    else:
        refs.append({"display": doc.author_label})
    if org is not None:
        contained.append(
            {
                "resourceType": "Organization",
                "id": "structure",
                "identifier": [{"system": systems.FINESS, "value": org.national_id}],
                "name": org.name,
            }
        )
        refs.append({"reference": "#structure", "display": org.name})
    return contained, refs


def binary_url(base: str, doc: Document) -> str:
    return f"{base}Binary/{doc.pk}"


DOCUMENT_LANGUAGE = "fr-FR"


def render(doc: Document, *, base: str, now: datetime | None = None) -> dict[str, Any]:
    """The DocumentReference of a document the actor was allowed to see.

    `base`: the absolute FHIR base URL ending with « / » (attachment.url is absolute, ITI-68).
    Select `author_professional` and `author_organisation` with the query to render lists.
    """
    if doc.status == Document.Status.DELETED:
        raise ValueError("Un document supprimé n'a plus de représentation FHIR.")
    contained, authors = _authors(doc)
    t = codes.type_codes().get(doc.type_code)
    # The zone looked up once (a context-local read) for the three instants below.
    tz = timezone.get_current_timezone()
    pk = str(doc.pk)
    deposited = iso(doc.deposited_at, tz)
    attachment: dict[str, Any] = {
        "contentType": doc.mime_type,
        "language": DOCUMENT_LANGUAGE,  # CI-SIS: the DMP's documents are in French
        "url": f"{base}Binary/{pk}",
        "size": doc.size,
        "title": doc.title,
        "creation": iso(doc.created_at, tz),
    }
    if doc.sha1:  # documents stored before the SHA-1 was kept have none
        attachment["hash"] = sha1_base64(doc.sha1)
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": pk,
        "meta": {"profile": [systems.DOCREF_PROFILE], "lastUpdated": deposited},
    }
    if contained:
        resource["contained"] = contained
    resource |= {
        "extension": [
            {
                "url": systems.PDSM_IS_ARCHIVED,
                "valueBoolean": doc.status == Document.Status.ARCHIVED,
            }
        ],
        # IHE.MHD.Minimal.DocumentReference: masterIdentifier.use is fixed to « usual ».
        "masterIdentifier": {
            "use": "usual",
            "system": systems.RFC3986,
            "value": f"urn:oid:{doc.unique_id}",
        },
        "identifier": [{"use": "official", "system": systems.RFC3986, "value": f"urn:uuid:{pk}"}],
        "status": "superseded" if doc.status == Document.Status.SUPERSEDED else "current",
        "type": concept(
            t.system_uri if t else systems.LOINC, doc.type_code, t.display if t else ""
        ),
        "category": [concept(systems.TRE_A03, doc.class_code, doc.class_display)],
        "subject": {"reference": f"Patient/{doc.patient_id}"},
        "date": deposited,
        "author": authors,
    }
    if doc.description:
        resource["description"] = doc.description
    resource["securityLabel"] = security_labels(confidentiality_codes(doc, now))
    resource["content"] = [
        {
            "attachment": attachment,
            "format": coding(
                systems.format_system(doc.format_code),
                doc.format_code,
                codes.format_codes().get(doc.format_code, ""),
            ),
        }
    ]
    resource["context"] = {"period": {"start": iso(doc.service_date)}, **author_context(doc)}
    events = doc.event_code_list
    if events:
        resource["context"]["event"] = [
            {"coding": [{"system": system, "code": code} if system else {"code": code}]}
            for system, code in events
        ]
    references = doc.reference_id_list
    if references:
        resource["context"]["related"] = [{"identifier": {"value": v}} for v in references]
    if doc.replaces_id:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"DocumentReference/{doc.replaces_id}"}}
        ]
    return resource

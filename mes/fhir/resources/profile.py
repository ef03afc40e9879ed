"""What professionals reach of the profil médical (DESIGN.md §4, portal.md §2.1): the carnet de
vaccination as `Immunization`, « Entourage et volontés » as `RelatedPerson` (docs/fhir-api.md
« Vaccinations et entourage »). The rest of the profile reaches them only through the synthèse,
a document (MHD); the directives anticipées are EXPPAT_3 documents, found with ITI-67.

- `GET /fhir/Immunization?patient=<id>` (or `patient.identifier=<INS system>|<INS>`, `date`,
  `vaccine-code`): the carnet, as a searchset Bundle.
- `GET /fhir/Immunization/<id>`: one vaccination.
- `POST /fhir/Immunization`: a professional records a vaccination (read-only for the citizen,
  the patient is notified).
- `POST /fhir/Immunization/<id>/$confirmer`: a professional confirms a vaccination the citizen
  recorded (it becomes read-only for the citizen, the patient is notified).
- `GET /fhir/RelatedPerson?patient=<id>` (or `patient.identifier`, `relationship`) and
  `GET /fhir/RelatedPerson/<id>`: the entourage, the personne de confiance flagged.

Each view: the actor from @fhir_endpoint, the emergency session opened first in an emergency
mode, one policy or action of mes.vaccinations / mes.medical_profile (which decide and trace),
a FHIR answer. Unknown and refused are the same 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from fhir.resources.R4B.immunization import Immunization

from mes.access.decision import Action
from mes.audit.models import TraceAction
from mes.fhir.core.access import (
    SCOPE_IMMUNIZATION_READ,
    SCOPE_IMMUNIZATION_WRITE,
    SCOPE_RELATED_PERSON_READ,
    FhirRequest,
    fhir_endpoint,
    open_emergency_access,
    parse_ins_token,
    patient_by_ins,
)

# The MHD views' request helpers, shared by every FHIR resource of this API.
from mes.fhir.core.http import (
    NIL,
    by_method,
    conform,
    fhir_base,
    read_resource,
    resource_uuid,
)
from mes.fhir.core.outcome import FhirError, IssueCode, fhir_response
from mes.fhir.mhd import search as mhd_search
from mes.fhir.mhd.patch import BUSINESS_RULE
from mes.fhir.mhd.references import local_id
from mes.identity.models import Professional
from mes.lib.errors import InvalidInput
from mes.medical_profile.models import Contact
from mes.medical_profile.policies import entourage_visible_to
from mes.vaccinations import actions as vaccination_actions
from mes.vaccinations import referential
from mes.vaccinations.fhir import (
    ATC_SYSTEM,
    IDNAT_PS_SYSTEM,
    VACCINE_SYSTEM,
    immunization_to_fields,
    vaccination_to_immunization,
)
from mes.vaccinations.models import Vaccination
from mes.vaccinations.policies import access_vaccination, vaccinations_visible_to

from .metadata import EXT_TRUSTED_PERSON, EXT_VACCINATION_CONFIRMATION

# An Immunization is a few kilobytes; anything much larger is not one.
MAX_RESOURCE_BYTES = 64 * 1024

# --- Code systems of RelatedPerson.relationship (docs/fhir-api.md) ------------------------------
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"
# ANS TRE_R260-HL7RoleClass, the « rôle » slice of FR Core RelatedPerson: ECON (personne à
# prévenir en cas d'urgence), NOK (personne de confiance — not HL7's « next of kin »),
# CAREGIVER (aidant), PAT (aidé).
TRE_R260 = "https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass"
URI_SYSTEM = "urn:ietf:rfc:3986"

# The family link (« lien avec ce contact »): HL7 v3 RoleCode; « Autre » is v2-0131 O.
LINK_CODINGS: dict[str, tuple[str, str, str]] = {
    Contact.Link.MOTHER: (V3_ROLE_CODE, "MTH", "mother"),
    Contact.Link.FATHER: (V3_ROLE_CODE, "FTH", "father"),
    Contact.Link.CHILD: (V3_ROLE_CODE, "CHILD", "child"),
    Contact.Link.PARTNER: (V3_ROLE_CODE, "SIGOTHR", "significant other"),
    Contact.Link.GUARDIAN: (V3_ROLE_CODE, "GUARD", "guardian"),
    Contact.Link.OTHER: (V2_0131, "O", "Other"),
}

# The roles (one person may hold several), each one CodeableConcept of equivalent codings.
ROLE_EMERGENCY = "emergency"
ROLE_TRUSTED = "trusted"
ROLE_CAREGIVER = "caregiver"
ROLE_HELPED = "helped"
ROLE_CODINGS: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    ROLE_EMERGENCY: (
        "Contact d'urgence",
        [
            (V3_ROLE_CODE, "ECON", "emergency contact"),
            (V2_0131, "C", "Emergency Contact"),
            (TRE_R260, "ECON", "personne à prévenir en cas d'urgence"),
        ],
    ),
    ROLE_TRUSTED: ("Personne de confiance", [(TRE_R260, "NOK", "personne de confiance")]),
    ROLE_CAREGIVER: ("Proche aidant", [(TRE_R260, "CAREGIVER", "Aidant")]),
    ROLE_HELPED: ("Proche aidé", [(TRE_R260, "PAT", "aidé")]),
}


# --- helpers ----------------------------------------------------------------------------------


def _one(request: FhirRequest, name: str) -> str | None:
    values = [v for v in request.GET.getlist(name) if v.strip()]
    if len(values) > 1:
        raise FhirError(
            400,
            IssueCode.VALUE,
            f"Le paramètre « {name} » ne peut être donné qu'une fois.",
            expression=name,
        )
    return values[0].strip() if values else None


def _searched_patient(request: FhirRequest) -> tuple[uuid.UUID, list[tuple[str, str]], bool]:
    """The patient a search names (NIL when nobody has this id or INS), the parameters that
    named them (for the self link), and whether `patient` and `patient.identifier` agree."""
    reference = _one(request, "patient")
    identifier = _one(request, "patient.identifier")
    if reference is None and identifier is None:
        raise FhirError(
            400,
            IssueCode.REQUIRED,
            "Précisez le patient : patient=<id> ou patient.identifier="
            "urn:oid:1.2.250.1.213.1.4.8|<INS>.",
            expression="patient",
        )
    used: list[tuple[str, str]] = []
    pid = None
    if reference is not None:
        pid = local_id(reference, "Patient", fhir_base(request), bare=True) or NIL
        used.append(("patient", reference))
    if identifier is not None:
        try:
            ins = parse_ins_token(identifier, expression="patient.identifier")
        except InvalidInput as error:
            raise FhirError(400, IssueCode.VALUE, str(error), expression=error.field) from None
        found = patient_by_ins(ins)
        by_ins = found.pk if found else NIL
        used.append(("patient.identifier", identifier))
        if pid is not None:
            return pid, used, pid == by_ins
        pid = by_ins
    assert pid is not None
    return pid, used, True


def _searchset(
    request: FhirRequest, resource_type: str, used: list[tuple[str, str]], resources: list[Any]
) -> HttpResponse:
    base = fhir_base(request)
    self_url = f"{base}{resource_type}"
    if used:
        self_url += "?" + urlencode(used)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
    }
    if resources:
        bundle["entry"] = [
            {
                "fullUrl": f"{base}{resource_type}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ]
    return fhir_response(bundle)


def _patient_reference(patient_id: uuid.UUID) -> str:
    return f"Patient/{patient_id}"


# --- Immunization: representation -------------------------------------------------------------


def immunization(v: Vaccination) -> dict[str, Any]:
    """The vaccination's Immunization (mes.vaccinations.fhir), with the literal reference to
    the Patient of this API and, once a professional confirmed it, who and when."""
    resource = vaccination_to_immunization(v)
    resource["patient"] = {"reference": _patient_reference(v.patient_id), **resource["patient"]}
    if v.confirmed_at is not None:
        confirmer: dict[str, Any] = {"display": v.confirmed_by_label}
        if v.confirmed_by is not None:
            confirmer["identifier"] = {
                "system": IDNAT_PS_SYSTEM,
                "value": v.confirmed_by.national_id,
            }
        resource.setdefault("extension", []).append(
            {
                "url": EXT_VACCINATION_CONFIRMATION,
                "extension": [
                    {"url": "confirmedBy", "valueReference": confirmer},
                    {
                        "url": "confirmedAt",
                        "valueDateTime": v.confirmed_at.isoformat(timespec="seconds"),
                    },
                ],
            }
        )
    return resource


# --- Immunization: search ---------------------------------------------------------------------


def _vaccine_code_q(value: str) -> Q:
    """`vaccine-code`: a code of this service's vaccine list or an ATC code (any system when
    none is given); a comma is an OR."""
    q = mhd_search.NONE
    for token in mhd_search.tokens(value):
        if token.system in (None, VACCINE_SYSTEM):
            q |= Q(vaccine_code=token.code)
        if token.system in (None, ATC_SYSTEM):
            codes = [v.code for v in referential.by_atc(token.code)]
            if codes:
                q |= Q(vaccine_code__in=codes)
    return q


def _date_q(value: str) -> Q:
    """`date` (occurrence, a day): FHIR precision and prefixes, as ITI-67's `period`."""
    q = mhd_search.NONE
    for part in value.split(","):
        prefix, lo, hi = mhd_search.date_range("date", part)
        first = timezone.localtime(lo).date()
        after = timezone.localtime(hi - timedelta(microseconds=1)).date() + timedelta(days=1)
        if prefix == "eq":
            q |= Q(date__gte=first, date__lt=after)
        elif prefix == "ne":
            q |= ~Q(date__gte=first, date__lt=after)
        elif prefix in ("gt", "sa"):
            q |= Q(date__gte=after)
        elif prefix in ("lt", "eb"):
            q |= Q(date__lt=first)
        elif prefix == "ge":
            q |= Q(date__gte=first)
        else:  # le
            q |= Q(date__lt=after)
    return q


def _immunization_filters(request: FhirRequest, used: list[tuple[str, str]]) -> Q:
    q = Q()
    for value in request.GET.getlist("date"):
        q &= _date_q(value)
        used.append(("date", value))
    for value in request.GET.getlist("vaccine-code"):
        q &= _vaccine_code_q(value)
        used.append(("vaccine-code", value))
    return q


@fhir_endpoint(scopes=[SCOPE_IMMUNIZATION_READ], methods=["GET"])
def _immunization_search(request: FhirRequest) -> HttpResponse:
    patient_id, used, agree = _searched_patient(request)
    filters = _immunization_filters(request, used)
    open_emergency_access(request, patient_id)
    carnet: QuerySet[Vaccination] = vaccinations_visible_to(request.actor, patient_id)
    carnet = carnet.filter(filters) if agree else carnet.none()
    entries = carnet.select_related("patient", "vaccinator", "confirmed_by")
    return _searchset(request, "Immunization", used, [immunization(v) for v in entries])


# --- Immunization: create ---------------------------------------------------------------------


def _json_resource(request: FhirRequest) -> dict[str, Any]:
    body = read_resource(request, MAX_RESOURCE_BYTES)
    if not isinstance(body, dict) or body.get("resourceType") != "Immunization":
        raise FhirError(
            400,
            IssueCode.STRUCTURE,
            "Le corps doit être une ressource Immunization FHIR R4 en JSON.",
            expression="resourceType",
        )
    return body


def _check_r4(
    request: FhirRequest, resource: dict[str, Any]
) -> tuple[dict[str, Any], uuid.UUID, uuid.UUID | None]:
    """`resource` read (_read_immunization) once it is a valid R4 Immunization: 422
    `structure` naming the first faulty element (or every element that is not FHIR JSON,
    beside what the reading finds: conform); 422 `required` without a date (the model names
    no element for occurrence[x])."""
    if not any(resource.get(f"occurrence{kind}") for kind in ("DateTime", "String")):
        raise FhirError(
            422,
            IssueCode.REQUIRED,
            "La date de vaccination (occurrenceDateTime) est obligatoire.",
            expression="Immunization.occurrenceDateTime",
        )
    return conform(
        Immunization, resource, "Immunization", lambda: _read_immunization(request, resource)
    )


def _immunization_patient(request: FhirRequest, resource: dict[str, Any]) -> uuid.UUID:
    """The patient an incoming Immunization names: `patient.reference` (Patient/<id> on this
    server) and/or `patient.identifier` (the INS). NIL when nobody (the action then refuses it,
    traced, as an unknown dossier)."""
    patient = resource.get("patient") or {}
    reference = patient.get("reference")
    identifier = patient.get("identifier") or {}
    pid = None
    if reference:
        pid = local_id(str(reference), "Patient", fhir_base(request)) or NIL
    if identifier:
        token = f"{identifier.get('system') or ''}|{identifier.get('value') or ''}"
        try:
            ins = parse_ins_token(token, expression="Immunization.patient.identifier")
        except InvalidInput as error:
            raise FhirError(422, IssueCode.VALUE, str(error), expression=error.field) from None
        found = patient_by_ins(ins)
        by_ins = found.pk if found else NIL
        if pid is not None and pid != by_ins:
            raise FhirError(
                422,
                IssueCode.VALUE,
                "patient.reference et patient.identifier ne désignent pas le même patient.",
                expression="Immunization.patient",
            )
        pid = by_ins
    if pid is None:
        raise FhirError(
            422,
            IssueCode.REQUIRED,
            "Précisez le patient : patient.reference (Patient/<id>) ou patient.identifier (INS).",
            expression="Immunization.patient",
        )
    return pid


def _vaccinator(request: FhirRequest, resource: dict[str, Any]) -> uuid.UUID | None:
    """The professional who gave the vaccine, when `performer.actor.identifier` names another
    professional than the caller (idNat « 8 » + RPPS); None: the caller."""
    for performer in resource.get("performer") or []:
        identifier = (performer.get("actor") or {}).get("identifier") or {}
        value = str(identifier.get("value") or "")
        if identifier.get("system") != IDNAT_PS_SYSTEM or not value:
            continue
        if request.professional is not None and value == request.professional.national_id:
            return None
        rpps = value[1:] if value.startswith("8") else ""
        pk = Professional.objects.filter(rpps=rpps).values_list("pk", flat=True).first()
        if not rpps or pk is None:
            raise FhirError(
                422,
                IssueCode.VALUE,
                f"Le vaccinateur « {value[:20]} » est inconnu de l'annuaire des professionnels.",
                expression="Immunization.performer.actor.identifier",
            )
        return pk
    return None


_REQUIRED_FIELDS = {"occurrenceDateTime", "vaccineCode"}


def _read_immunization(
    request: FhirRequest, resource: dict[str, Any]
) -> tuple[dict[str, Any], uuid.UUID, uuid.UUID | None]:
    """The carnet's fields, the patient and the vaccinator an incoming Immunization names."""
    try:
        fields = immunization_to_fields(resource)
    except InvalidInput as error:
        missing = "obligatoire" in str(error) and error.field in _REQUIRED_FIELDS
        raise FhirError(
            422,
            IssueCode.REQUIRED if missing else IssueCode.VALUE,
            str(error),
            expression=f"Immunization.{error.field}" if error.field else "Immunization",
        ) from None
    return fields, _immunization_patient(request, resource), _vaccinator(request, resource)


@fhir_endpoint(scopes=[SCOPE_IMMUNIZATION_WRITE], methods=["POST"])
def _immunization_create(request: FhirRequest) -> HttpResponse:
    resource = _json_resource(request)
    fields, patient_id, vaccinator_id = _check_r4(request, resource)
    open_emergency_access(request, patient_id)
    try:
        vaccination = vaccination_actions.vaccination_record_by_professional(
            actor=request.actor, patient_id=patient_id, vaccinator_id=vaccinator_id, **fields
        )
    except InvalidInput as error:  # the carnet's own checks (date, lot, comment…)
        raise FhirError(
            422,
            IssueCode.VALUE,
            str(error),
            expression=_element(error.field),
        ) from None
    stored = _with_relations(vaccination.pk)
    location = f"{fhir_base(request)}Immunization/{stored.pk}"
    return fhir_response(immunization(stored), 201, headers={"Location": location})


# The carnet's field names, as Immunization elements (for issue.expression).
_ELEMENTS = {
    "date": "Immunization.occurrenceDateTime",
    "lot": "Immunization.lotNumber",
    "comment": "Immunization.note",
    "dose_number": "Immunization.protocolApplied.doseNumber",
    "kind": "Immunization.extension",
    "vaccinator_name": "Immunization.performer",
    "vaccine_code": "Immunization.vaccineCode",
}


def _element(field: str | None) -> str:
    return _ELEMENTS.get(field or "", "Immunization")


# --- Immunization: read, confirm --------------------------------------------------------------


def _open_emergency_for_vaccination(request: FhirRequest, vaccination_id: uuid.UUID) -> None:
    patient_id = (
        Vaccination.objects.filter(pk=vaccination_id).values_list("patient_id", flat=True).first()
    )
    if patient_id is not None:
        open_emergency_access(request, patient_id)


def _with_relations(vaccination_id: uuid.UUID) -> Vaccination:
    return Vaccination.objects.select_related("patient", "vaccinator", "confirmed_by").get(
        pk=vaccination_id
    )


@fhir_endpoint(scopes=[SCOPE_IMMUNIZATION_READ], methods=["GET"])
def immunization_read(request: FhirRequest, resource_id: str) -> HttpResponse:
    pk = resource_uuid(resource_id)
    _open_emergency_for_vaccination(request, pk)
    vaccination = access_vaccination(
        request.actor, pk, action=Action.READ, trace_action=TraceAction.CONSULT_VACCINATIONS
    )
    return fhir_response(immunization(_with_relations(vaccination.pk)))


@fhir_endpoint(scopes=[SCOPE_IMMUNIZATION_WRITE], methods=["POST"])
def immunization_confirm(request: FhirRequest, resource_id: str) -> HttpResponse:
    """`$confirmer`: the professional vouches for a vaccination the citizen recorded. No body
    (or an empty Parameters)."""
    pk = resource_uuid(resource_id)
    _open_emergency_for_vaccination(request, pk)
    try:
        vaccination_actions.vaccination_confirm(actor=request.actor, vaccination_id=pk)
    except InvalidInput as error:  # already a professional's entry
        raise FhirError(422, BUSINESS_RULE, str(error)) from None
    return fhir_response(immunization(_with_relations(pk)))


immunization_type = by_method(GET=_immunization_search, POST=_immunization_create)


# --- RelatedPerson ----------------------------------------------------------------------------


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _roles(contact: Contact) -> Iterable[str]:
    held = (
        (contact.is_emergency, ROLE_EMERGENCY),
        (contact.is_trusted, ROLE_TRUSTED),
        (contact.is_caregiver, ROLE_CAREGIVER),
        (contact.is_helped, ROLE_HELPED),
    )
    return [role for on, role in held if on]


def related_person(contact: Contact) -> dict[str, Any]:
    """One member of the entourage as an R4 RelatedPerson: the family link then each role as
    `relationship`, the personne de confiance also flagged by an extension (always present)."""
    patient = contact.patient
    system, code, display = LINK_CODINGS.get(contact.link, LINK_CODINGS[Contact.Link.OTHER])
    relationship: list[dict[str, Any]] = [
        {"coding": [_coding(system, code, display)], "text": contact.get_link_display()}
    ]
    for role in _roles(contact):
        text, codings = ROLE_CODINGS[role]
        relationship.append({"coding": [_coding(*c) for c in codings], "text": text})
    telecom: list[dict[str, Any]] = []
    for rank, phone in enumerate((contact.phone1, contact.phone2), start=1):
        if phone:
            telecom.append({"system": "phone", "value": phone, "rank": rank})
    if contact.email:
        telecom.append({"system": "email", "value": contact.email})
    address: dict[str, Any] = {"use": "home", "type": "postal"}
    if contact.address:
        address["line"] = [contact.address]
    if contact.postal_code:
        address["postalCode"] = contact.postal_code
    if contact.city:
        address["city"] = contact.city
    if contact.country:
        address["country"] = contact.country
    resource: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": str(contact.pk),
        "meta": {"lastUpdated": contact.updated_at.isoformat(timespec="seconds")},
        "extension": [{"url": EXT_TRUSTED_PERSON, "valueBoolean": contact.is_trusted}],
        "identifier": [{"system": URI_SYSTEM, "value": f"urn:uuid:{contact.pk}"}],
        "active": True,
        "patient": {
            "reference": _patient_reference(contact.patient_id),
            "identifier": {"system": f"urn:oid:{patient.ins_oid}", "value": patient.ins},
            "display": patient.display_name,
        },
        "relationship": relationship,
        "name": [
            {
                "use": "usual",
                "text": contact.display_name,
                "family": contact.last_name,
                "given": [contact.first_name],
            }
        ],
    }
    if telecom:
        resource["telecom"] = telecom
    if len(address) > 2:
        resource["address"] = [address]
    return resource


def _relationship_wanted(value: str) -> list[str]:
    """The roles and links a `relationship` token names (system|code, |code or code)."""
    wanted: list[str] = []
    for token in mhd_search.tokens(value):
        for link, (system, code, _) in LINK_CODINGS.items():
            if token.code == code and token.system in (None, system):
                wanted.append(f"link:{link}")
        for role, (_, codings) in ROLE_CODINGS.items():
            if any(token.code == c and token.system in (None, s) for s, c, _ in codings):
                wanted.append(f"role:{role}")
    return wanted


def _matches(contact: Contact, wanted: list[str]) -> bool:
    held = {f"link:{contact.link}", *(f"role:{r}" for r in _roles(contact))}
    return bool(held & set(wanted))


@fhir_endpoint(scopes=[SCOPE_RELATED_PERSON_READ], methods=["GET"])
def related_person_search(request: FhirRequest) -> HttpResponse:
    patient_id, used, agree = _searched_patient(request)
    relationships = request.GET.getlist("relationship")
    open_emergency_access(request, patient_id)
    contacts = list(entourage_visible_to(request.actor, patient_id).select_related("patient"))
    if not agree:
        contacts = []
    for value in relationships:  # a repeated parameter is an AND, a comma an OR
        wanted = _relationship_wanted(value)
        contacts = [c for c in contacts if _matches(c, wanted)]
        used.append(("relationship", value))
    return _searchset(request, "RelatedPerson", used, [related_person(c) for c in contacts])


@fhir_endpoint(scopes=[SCOPE_RELATED_PERSON_READ], methods=["GET"])
def related_person_read(request: FhirRequest, resource_id: str) -> HttpResponse:
    pk = resource_uuid(resource_id)
    patient_id = Contact.objects.filter(pk=pk).values_list("patient_id", flat=True).first()
    if patient_id is not None:
        open_emergency_access(request, patient_id)
    # An unknown contact: the policy refuses (and traces) a dossier nobody has, as for MHD.
    contacts = entourage_visible_to(request.actor, patient_id or NIL)
    contact = contacts.select_related("patient").filter(pk=pk).first()
    if contact is None:
        raise FhirError(404, IssueCode.NOT_FOUND, "")
    return fhir_response(related_person(contact))

"""Measures read from structured documents (portal.md §2.10 and §5.4, « Import des données depuis
les documents »).

A CDA R2 document (a biology report with LOINC-coded results, a vital-signs document) that
arrives in the dossier gives its values of the tracked measures to Mesures, each linked to its
document. The reading is pure (`read_cda`: bytes in, values out, nothing stored); the action
(`measures_from_document`) applies the citizen's choice and the measures' own rules (ranges,
children-only measures) through `measurement_import`, and reads each document at most once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor, ActorKind, system_actor
from mes.access.models import PrivacySettings
from mes.audit.guard import traced_action
from mes.lib.errors import InvalidInput
from mes.notifications.actions import notify, speaks_to_holder
from mes.notifications.models import Notification
from mes.records.models import Document
from mes.vault import store

from . import profiles
from .actions import measurement_import
from .models import DocumentReading, Measurement
from .profiles import MeasureCode

HL7 = "urn:hl7-org:v3"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
LOINC_OID = "2.16.840.1.113883.6.1"
# The MIME type the deposit gives a CDA R2 document (mes.lib.filetypes).
CDA_MIME = "text/xml"
# The background actor of the import: the audit shows any system actor as « Mon espace santé
# (traitement automatique) », never this name (audit.history.SYSTEM_NAME).
IMPORTER_NAME = "import-mesures-documents"

MOMENT_FASTING = "53049-3"  # « À jeun » (JDV_J157)
MOMENT_OTHER = "LA46-8"  # « Autre moment »: a lab glucose that does not say it was fasting

# The LOINC codes read, each to a measure (and a glucose moment). Besides each measure's own code
# (profiles.py), the usual variants French labs and vital-signs documents send.
LOINC_TO_MEASURE: dict[str, tuple[MeasureCode, str]] = {
    "8302-2": (MeasureCode.HEIGHT, ""),  # Body height
    "8306-3": (MeasureCode.HEIGHT, ""),  # Body height --lying
    "8308-9": (MeasureCode.HEIGHT, ""),  # Body height --standing
    "29463-7": (MeasureCode.WEIGHT, ""),  # Body weight
    "3141-9": (MeasureCode.WEIGHT, ""),  # Body weight Measured
    "8287-5": (MeasureCode.HEAD_CIRCUMFERENCE, ""),  # Head circumference by tape
    "9843-4": (MeasureCode.HEAD_CIRCUMFERENCE, ""),  # Head Occipital-frontal circumference
    "4548-4": (MeasureCode.HBA1C, ""),  # Hemoglobin A1c/Hemoglobin.total in Blood
    "17856-6": (MeasureCode.HBA1C, ""),  # idem, by HPLC
    "1558-6": (MeasureCode.GLUCOSE, MOMENT_FASTING),  # Fasting glucose [Mass/volume] S/P
    "14771-0": (MeasureCode.GLUCOSE, MOMENT_FASTING),  # Fasting glucose [Moles/volume] S/P
    "2345-7": (MeasureCode.GLUCOSE, MOMENT_OTHER),  # Glucose [Mass/volume] in Serum or Plasma
    "14749-6": (MeasureCode.GLUCOSE, MOMENT_OTHER),  # Glucose [Moles/volume] in Serum or Plasma
    "8310-5": (MeasureCode.BODY_TEMPERATURE, ""),
    "8867-4": (MeasureCode.HEART_RATE, ""),
    "8280-0": (MeasureCode.WAIST_CIRCUMFERENCE, ""),
}
# Units a document may use that the measure's own input units do not cover: (unit, factor to
# the canonical unit). A newborn's weight comes in grams; a lab glucose in mg/dL already.
EXTRA_UNITS: dict[tuple[MeasureCode, str], tuple[str, Decimal]] = {
    (MeasureCode.WEIGHT, "g"): ("kg", Decimal("0.001")),
    (MeasureCode.GLUCOSE, "mg/dl"): ("mg/dL", Decimal(1)),
    (MeasureCode.GLUCOSE, "g/l"): ("g/L", Decimal(1)),
    (MeasureCode.GLUCOSE, "mmol/l"): ("mmol/L", Decimal(1)),
}


class MalformedCda(ValueError):
    """The content is not a readable CDA R2 document: it is kept, nothing is read from it."""


@dataclass(frozen=True)
class ReadValue:
    """One value of a tracked measure found in a document, as written there."""

    type_code: MeasureCode
    loinc: str
    value: str
    unit: str
    effective_at: datetime | None
    moment: str


def _h(tag: str) -> str:
    return f"{{{HL7}}}{tag}"


_TS = re.compile(
    r"(?P<y>\d{4})(?P<mo>\d{2})?(?P<d>\d{2})?(?P<h>\d{2})?(?P<mi>\d{2})?(?P<s>\d{2})?"
    r"(?:\.\d+)?(?P<tz>[+-]\d{4})?"
)


def parse_ts(value: str | None) -> datetime | None:
    """An HL7 v3 TS (« 20240312083000+0100 », « 20240312 ») as an aware datetime, or None.

    A timestamp without offset is French local time; one without a time of day is at noon, so
    that no time zone moves it to another day.
    """
    m = _TS.fullmatch((value or "").strip())
    if not m or not m["d"]:
        return None
    try:
        naive = datetime(
            int(m["y"]),
            int(m["mo"]),
            int(m["d"]),
            int(m["h"] or 12),
            int(m["mi"] or 0),
            int(m["s"] or 0),
        )
    except ValueError:
        return None
    if m["tz"]:
        sign = 1 if m["tz"][0] == "+" else -1
        offset = timedelta(hours=int(m["tz"][1:3]), minutes=int(m["tz"][3:5]))
        return naive.replace(tzinfo=dt_timezone(sign * offset))
    return timezone.make_aware(naive)


def _time_of(el: Element | None) -> datetime | None:
    if el is None:
        return None
    t = el.find(_h("effectiveTime"))
    if t is None:
        return None
    low = t.find(_h("low"))
    return parse_ts(t.get("value") or (low.get("value") if low is not None else None))


def read_cda(content: bytes) -> list[ReadValue]:
    """The values of tracked measures in a CDA R2 document; MalformedCda when it is not one.

    An observation counts when it is LOINC-coded with a code of LOINC_TO_MEASURE, not negated
    nor cancelled, and has a physical quantity (xsi:type PQ). Its time is its own effectiveTime,
    else its organizer's (a lab battery), else the document's.
    """
    try:
        root = fromstring(content, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedCda("document XML illisible") from exc
    if root.tag != _h("ClinicalDocument"):
        raise MalformedCda("pas un document CDA R2")
    document_time = _time_of(root)
    out: list[ReadValue] = []
    organizers = list(root.iter(_h("organizer")))
    organizer_of = {id(obs): org for org in organizers for obs in org.iter(_h("observation"))}
    for obs in root.iter(_h("observation")):
        if obs.get("negationInd") == "true":
            continue
        code = obs.find(_h("code"))
        if code is None or code.get("codeSystem") != LOINC_OID:
            continue
        mapped = LOINC_TO_MEASURE.get(code.get("code") or "")
        if mapped is None:
            continue
        status = obs.find(_h("statusCode"))
        if status is not None and status.get("code") in ("aborted", "cancelled", "nullified"):
            continue
        value = obs.find(_h("value"))
        if value is None or (value.get(XSI_TYPE) or "").split(":")[-1] != "PQ":
            continue
        when = _time_of(obs) or _time_of(organizer_of.get(id(obs))) or document_time
        out.append(
            ReadValue(
                type_code=mapped[0],
                loinc=code.get("code") or "",
                value=value.get("value") or "",
                unit=(value.get("unit") or "").strip(),
                effective_at=when,
                moment=mapped[1],
            )
        )
    return out


def _canonical(v: ReadValue) -> tuple[Decimal | str, str]:
    """The value and a unit `measurement_import` understands (the extra document units)."""
    extra = EXTRA_UNITS.get((v.type_code, v.unit.lower()))
    if extra is None:
        return v.value, v.unit
    unit, factor = extra
    try:
        return Decimal(v.value) * factor, unit
    except InvalidOperation:
        return v.value, v.unit


def _already_read(doc: Document, code: MeasureCode, at: datetime) -> bool:
    # A new version of a report (or the same report sent again under another identifier) repeats
    # its results: a value of the same measure at the same instant read from a document is one.
    return Measurement.objects.filter(
        patient_id=doc.patient_id,
        type_code=code.value,
        effective_at=at,
        source=Measurement.Source.DOCUMENT,
    ).exists()


def _readable(doc: Document) -> bool:
    # Values taken out of a document would escape its protections: the measures have no
    # « caché » nor « masqué ». Only a document everyone who sees Mesures may see is read.
    return not (
        doc.hidden_from_patient or doc.hidden_from_representatives or doc.masked_from_professionals
    )


@traced_action
def measures_from_document(*, actor: Actor, document_id: uuid.UUID) -> DocumentReading | None:
    """Copy the tracked measures of a newly deposited CDA R2 document into Mesures.

    Precondition: a system actor (the deposit's after-commit hook). None when the document is not
    a CDA (nothing to read). Each document is read once (DocumentReading, one per document):
    a second call returns the first reading. Nothing is read when the holder turned « Import des
    données depuis les documents » off, or when the document is hidden or masked. A malformed CDA
    stays a document and gives nothing; a value out of range, in an unknown unit or of a measure
    the profile cannot follow is skipped. Side effects: one Measurement per value (source
    « document », linked to it), one AJOUT_MESURE trace each by the system, one
    COPIE_DOC_AJOUT_MESURE notification when anything was added.
    """
    if actor.kind is not ActorKind.SYSTEM:
        raise InvalidInput("L'import des mesures depuis les documents est un traitement.")
    doc = (
        Document.objects.select_for_update()
        .select_related("patient")
        .filter(pk=document_id, mime_type=CDA_MIME)
        .first()
    )
    if doc is None:
        return None
    done = DocumentReading.objects.filter(document=doc).first()
    if done is not None:
        return done
    now = timezone.now()
    privacy = PrivacySettings.objects.filter(patient=doc.patient).first()
    if privacy is not None and not privacy.import_from_documents:
        return DocumentReading.objects.create(
            document=doc, outcome=DocumentReading.Outcome.REFUSED, read_at=now
        )
    if not _readable(doc):
        return DocumentReading.objects.create(
            document=doc, outcome=DocumentReading.Outcome.PROTECTED, read_at=now
        )
    try:
        values = read_cda(store.get(doc.patient_id, doc.pk))
    except MalformedCda:
        return DocumentReading.objects.create(
            document=doc, outcome=DocumentReading.Outcome.MALFORMED, read_at=now
        )
    imported: list[Measurement] = []
    skipped = 0
    for v in values:
        if v.effective_at is None:
            skipped += 1
            continue
        value, unit = _canonical(v)
        if _already_read(doc, v.type_code, v.effective_at):
            skipped += 1
            continue
        try:
            imported.append(
                measurement_import(
                    actor=actor,
                    patient_id=doc.patient_id,
                    type_code=v.type_code.value,
                    value=value,
                    unit=unit,
                    effective_at=v.effective_at,
                    moment=v.moment,
                    source=Measurement.Source.DOCUMENT,
                    author_label=doc.author_label,
                    author_professional_id=doc.author_professional_id,
                    source_document_id=doc.pk,
                )
            )
        except InvalidInput:
            skipped += 1
    reading = DocumentReading.objects.create(
        document=doc,
        outcome=DocumentReading.Outcome.IMPORTED if imported else DocumentReading.Outcome.NOTHING,
        imported=len(imported),
        skipped=skipped,
        read_at=now,
    )
    if imported:
        _notify(doc, imported)
    return reading


def _notify(doc: Document, imported: list[Measurement]) -> None:
    labels = sorted({profiles.get(m.type_code).short_label for m in imported})
    what = ", ".join(labels)
    patient = doc.patient
    notify(
        profile=patient,
        code=Notification.Code.MEASURE_FROM_DOCUMENT,
        label=(
            f"Vos mesures ont été complétées ({what}) à partir du document "
            f"«\u00a0{doc.title}\u00a0»"
            if speaks_to_holder(patient)
            else f"Les mesures de {patient.used_first_name or patient.first_name} ont été "
            f"complétées ({what}) à partir du document «\u00a0{doc.title}\u00a0»"
        ),
        url=reverse("portal:measures"),
        link_label="Voir les mesures",
    )


def after_deposit(document_id: uuid.UUID) -> None:
    """The deposit's after-commit hook: read the document once it is stored for good."""
    measures_from_document(actor=system_actor(IMPORTER_NAME), document_id=document_id)

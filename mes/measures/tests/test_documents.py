"""Measures read from documents (portal.md §5.4): Dr Martin deposits Camille's biology report, a
small but real CDA R2 document; its HbA1c and glucose join Mesures once, linked to it, unless
Camille turned the import off. A malformed CDA is kept and gives nothing; out of range is
skipped."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mes.access.actions import privacy_update
from mes.access.actors import citizen_actor, system_actor
from mes.audit.history import SYSTEM_NAME
from mes.audit.models import Trace, TraceAction
from mes.conftest import pro
from mes.lib import filetypes
from mes.lib.errors import InvalidInput
from mes.measures.documents import IMPORTER_NAME, measures_from_document, parse_ts, read_cda
from mes.measures.models import DocumentReading, Measurement
from mes.notifications.models import Notification
from mes.records.actions import document_deposit

D = Decimal


def biology_report(hba1c: str = "7.2", glucose: str = "1.32", unit: str = "%") -> bytes:
    """A CR de biologie (CI-SIS XD-LAB shape, trimmed): one battery, LOINC-coded results."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="CDA-FO.xsl"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="1.3.6.1.4.1.19376.1.3.3"/>
  <id root="1.2.250.1.999.1.1" extension="CRBIO-2026-0042"/>
  <code code="11502-2" codeSystem="2.16.840.1.113883.6.1" displayName="CR d'examens biologiques"/>
  <title>Compte rendu de biologie médicale</title>
  <effectiveTime value="20260226091500+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <component><structuredBody><component><section>
    <code code="18719-5" codeSystem="2.16.840.1.113883.6.1" displayName="Chemistry studies"/>
    <title>Biochimie</title>
    <text>HbA1c {hba1c} {unit} ; glycémie à jeun {glucose} g/L</text>
    <entry typeCode="DRIV"><act classCode="ACT" moodCode="EVN">
      <code code="18719-5" codeSystem="2.16.840.1.113883.6.1"/>
      <statusCode code="completed"/>
      <entryRelationship typeCode="COMP"><organizer classCode="BATTERY" moodCode="EVN">
        <statusCode code="completed"/>
        <effectiveTime value="20260225074500+0100"/>
        <component><observation classCode="OBS" moodCode="EVN">
          <code code="4548-4" codeSystem="2.16.840.1.113883.6.1"
                displayName="Hémoglobine glyquée (HbA1c)"/>
          <statusCode code="completed"/>
          <value xsi:type="PQ" value="{hba1c}" unit="{unit}"/>
          <interpretationCode code="H" codeSystem="2.16.840.1.113883.5.83"/>
        </observation></component>
        <component><observation classCode="OBS" moodCode="EVN">
          <code code="1558-6" codeSystem="2.16.840.1.113883.6.1" displayName="Glycémie à jeun"/>
          <statusCode code="completed"/>
          <effectiveTime value="20260225074500+0100"/>
          <value xsi:type="PQ" value="{glucose}" unit="g/L"/>
        </observation></component>
        <component><observation classCode="OBS" moodCode="EVN">
          <code code="2160-0" codeSystem="2.16.840.1.113883.6.1" displayName="Créatinine"/>
          <statusCode code="completed"/>
          <value xsi:type="PQ" value="8.1" unit="mg/L"/>
        </observation></component>
      </organizer></entryRelationship>
    </act></entry>
  </section></component></structuredBody></component>
</ClinicalDocument>
""".encode()


MALFORMED = (
    b'<?xml version="1.0"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3"><title>CR</title>'
    b'<observation><code code="4548-4" codeSystem="2.16.840.1.113883.6.1"/>'
    b'<value value="7.2" unit="%"></ClinicalDocument>'
)


def deposit(patient, professional, content, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return document_deposit(
            actor=pro(professional),
            patient_id=patient.pk,
            content=content,
            title="Bilan biologique de février",
            type_code="11502-2",
        )


def test_reading_a_biology_report_finds_the_tracked_values():
    values = read_cda(biology_report())
    assert [(v.type_code.value, v.value, v.unit, v.moment) for v in values] == [
        ("HBA1C", "7.2", "%", ""),
        ("GLUCOSE", "1.32", "g/L", "53049-3"),
    ]
    # The HbA1c has no time of its own: its battery's.
    assert values[0].effective_at == parse_ts("20260225074500+0100")


def test_a_cda_is_recognised_and_kept_as_xml():
    assert filetypes.sniff(biology_report()) == "text/xml"
    assert filetypes.sniff(MALFORMED) == "text/xml"
    assert filetypes.sniff(b"<html><body>x</body></html>") is None


def test_the_biology_report_adds_its_hba1c_once(
    camille, dr_martin, django_capture_on_commit_callbacks
):
    doc = deposit(camille, dr_martin, biology_report(), django_capture_on_commit_callbacks)
    rows = {m.type_code: m for m in Measurement.objects.filter(patient=camille)}
    assert set(rows) == {"HBA1C", "GLUCOSE"}
    hba1c = rows["HBA1C"]
    assert (hba1c.value, hba1c.unit, hba1c.source) == (D("7.2"), "%", "document")
    assert hba1c.source_document_id == doc.pk and not hba1c.editable_by_citizen
    assert hba1c.author_label == doc.author_label
    assert (rows["GLUCOSE"].value, rows["GLUCOSE"].moment) == (D("132"), "53049-3")
    reading = DocumentReading.objects.get(document=doc)
    assert (reading.outcome, reading.imported) == ("imported", 2)
    # Traced on Camille's chain as the system, shown as « Mon espace santé » in her Historique.
    added = Trace.objects.filter(patient_id=camille.pk, action=TraceAction.ADD_MEASURE)
    assert {t.document_title for t in added} == {"Hémoglobine glyquée (HbA1c)", "Glycémie"}
    assert {t.actor_kind for t in added} == {"system"}
    assert SYSTEM_NAME.startswith("Mon espace santé")
    note = Notification.objects.get(profile=camille, code=Notification.Code.MEASURE_FROM_DOCUMENT)
    assert "Bilan biologique de février" in note.label and note.url.endswith("/mesures/")

    # Read again (a retry, the same hook twice): nothing is added twice.
    again = measures_from_document(actor=system_actor(IMPORTER_NAME), document_id=doc.pk)
    assert again == reading
    assert Measurement.objects.filter(patient=camille, type_code="HBA1C").count() == 1
    assert Notification.objects.filter(code=Notification.Code.MEASURE_FROM_DOCUMENT).count() == 1


def test_nothing_is_read_when_the_citizen_turned_the_import_off(
    camille, dr_martin, django_capture_on_commit_callbacks
):
    privacy_update(actor=citizen_actor(camille), patient_id=camille.pk, import_from_documents=False)
    assert Trace.objects.filter(patient_id=camille.pk, action=TraceAction.PRIVACY_SETTINGS).exists()
    doc = deposit(camille, dr_martin, biology_report(), django_capture_on_commit_callbacks)
    assert not Measurement.objects.filter(patient=camille).exists()
    assert DocumentReading.objects.get(document=doc).outcome == "refused"
    assert not Notification.objects.filter(code=Notification.Code.MEASURE_FROM_DOCUMENT).exists()


def test_a_malformed_cda_is_kept_and_gives_nothing(
    camille, dr_martin, django_capture_on_commit_callbacks
):
    doc = deposit(camille, dr_martin, MALFORMED, django_capture_on_commit_callbacks)
    assert doc.pk and doc.mime_type == "text/xml"
    assert not Measurement.objects.filter(patient=camille).exists()
    assert DocumentReading.objects.get(document=doc).outcome == "malformed"


def test_a_value_out_of_range_is_skipped(camille, dr_martin, django_capture_on_commit_callbacks):
    # 72 % is a unit slip (mmol/mol typed as %): skipped; the glucose still comes.
    doc = deposit(
        camille, dr_martin, biology_report(hba1c="72"), django_capture_on_commit_callbacks
    )
    assert list(
        Measurement.objects.filter(patient=camille).values_list("type_code", flat=True)
    ) == ["GLUCOSE"]
    reading = DocumentReading.objects.get(document=doc)
    assert (reading.imported, reading.skipped) == (1, 1)


def test_a_document_masked_from_professionals_is_not_read(
    camille, dr_martin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        doc = document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=biology_report(),
            title="Bilan",
            type_code="11502-2",
            masked=True,
        )
    assert not Measurement.objects.filter(patient=camille).exists()
    assert DocumentReading.objects.get(document=doc).outcome == "protected"


def test_only_the_system_reads_documents(camille, dr_martin, django_capture_on_commit_callbacks):
    doc = deposit(camille, dr_martin, MALFORMED, django_capture_on_commit_callbacks)
    DocumentReading.objects.all().delete()
    with pytest.raises(InvalidInput):
        measures_from_document(actor=citizen_actor(camille), document_id=doc.pk)
    assert not DocumentReading.objects.exists()

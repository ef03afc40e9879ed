"""The sample app's own data: a reproducible day of readings, its summary, its AGP report and the
FHIR shapes it sends (validated with fhir.resources, as the service validates them)."""

from __future__ import annotations

import io
from datetime import date

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from pypdf import PdfReader

from partner_app import mes_api
from partner_app.agp import agp_pdf
from partner_app.readings import day_of_readings, summarise

DAY = date(2026, 12, 6)


def test_a_day_is_48_plausible_readings_and_the_same_each_time():
    readings = day_of_readings(DAY)
    assert len(readings) == 48
    assert readings == day_of_readings(DAY)
    assert readings != day_of_readings(date(2026, 12, 5))
    assert all(40 <= r.mg_dl <= 400 for r in readings)
    assert [r.at.hour for r in readings[:3]] == [0, 0, 1]
    assert readings[0].at.utcoffset() is not None  # aware, Europe/Paris


def test_summary_figures():
    s = summarise(day_of_readings(DAY))
    assert 0 < s.in_range <= 1
    assert abs(s.in_range + s.below + s.above - 1) < 1e-9
    assert s.gmi == 3.31 + 0.02392 * s.mean


def test_the_report_is_a_one_page_pdf_with_its_figures():
    readings = day_of_readings(DAY)
    pdf = PdfReader(io.BytesIO(agp_pdf(DAY, readings, patient_name="Louise Dupont")))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert "Profil glycémique ambulatoire" in text
    assert "06/12/2026" in text
    assert f"{summarise(readings).in_range * 100:.0f} %" in text


def test_the_measure_bundle_is_one_observation_and_one_conditional_device():
    reading = day_of_readings(DAY)[20]
    bundle = mes_api.glucose_bundle(reading, patient="p1", editor_oid="1.2.3", serial="GP-0001")
    Bundle.model_validate(bundle)
    observation, device = (e["resource"] for e in bundle["entry"])
    assert observation["meta"]["profile"] == [mes_api.GLUCOSE_PROFILE]
    assert observation["valueQuantity"]["value"] == reading.mg_dl
    assert observation["extension"][0]["url"] == mes_api.MOMENT_EXTENSION
    assert observation["device"]["reference"] == bundle["entry"][1]["fullUrl"]
    assert bundle["entry"][1]["request"]["ifNoneExist"] == "identifier=urn:oid:1.2.3|GP-0001"
    assert device["identifier"] == [{"system": "urn:oid:1.2.3", "value": "GP-0001"}]


def test_the_report_document_carries_the_pdf():
    pdf = agp_pdf(DAY, day_of_readings(DAY), patient_name="X")
    doc = mes_api.agp_document(pdf, patient="p1", day=DAY)
    DocumentReference.model_validate(doc)
    assert doc["content"][0]["attachment"]["contentType"] == "application/pdf"
    assert doc["content"][0]["attachment"]["title"] == "Rapport de glycémie du 6 décembre 2026"

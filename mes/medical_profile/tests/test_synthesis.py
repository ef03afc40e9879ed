"""Camille's synthèse du profil médical: a French PDF of exactly the sections she chose, saved
as DOCPAT08 so that the professionals she authorised can read it; one current version."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from mes.access.actors import citizen_actor
from mes.access.models import PrivacySettings
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.lib.errors import InvalidInput, NotFound
from mes.measures.models import Measurement
from mes.medical_profile import directives, synthesis
from mes.medical_profile.lifestyle import catalogue
from mes.medical_profile.models import (
    Allergy,
    BloodGroup,
    Contact,
    Disability,
    Disease,
    FamilyHistory,
    Hospitalisation,
    LifestyleAnswer,
    NotConcerned,
    OrganDonationAcknowledgement,
    Treatment,
)
from mes.medical_profile.synthesis import SECTION_LABELS, Section
from mes.records import actions
from mes.records.models import Document
from mes.vaccinations.models import Vaccination

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel("2026-06-15 10:00 +02:00", tick=False):
        yield


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _entry(model, patient, **fields):
    return model.objects.create(patient=patient, added_by=patient.display_name, **fields)


def _measure(patient, code, value, day, **extra):
    at = datetime(2026, 6, day, 8, 30, tzinfo=PARIS)
    return Measurement.objects.create(
        patient=patient,
        type_code=code,
        value=Decimal(value),
        unit={"WEIGHT": "kg", "HEIGHT": "cm", "GLUCOSE": "mg/dL"}[code],
        effective_at=at,
        author_label=patient.display_name,
        created_at=at,
        updated_at=at,
        **extra,
    )


@pytest.fixture
def profile(camille, dr_martin):
    """Camille's profil médical, one item in most rubrics."""
    metformine = _entry(Treatment, camille, name="Metformine", ongoing=True, start_year=2024)
    diabete = _entry(Disease, camille, name="Diabète de type 2", ongoing=True, start_year=2024)
    diabete.treatments.add(metformine)
    _entry(Allergy, camille, name="Pénicilline", reaction="Urticaire", severity="SEVERE")
    _entry(Hospitalisation, camille, reason="Appendicite", admission_year=2010)
    _entry(FamilyHistory, camille, name="Hypertension", relative="FATHER")
    _entry(Disability, camille, name="Surdité partielle", kinds=["SENSORY"])
    _entry(BloodGroup, camille, value="ONEG")
    _entry(
        Contact,
        camille,
        last_name="Lefèvre",
        first_name="Jeanne",
        link="OTHER",
        phone1="0639980199",
        address="3 rue des Lilas",
        postal_code="75011",
        city="Paris",
        is_trusted=True,
    )
    _entry(OrganDonationAcknowledgement, camille, acknowledged_on=date(2026, 1, 5))
    LifestyleAnswer.objects.create(
        patient=camille,
        added_by="Camille Lefèvre",
        section="SLEEP",
        question="SLEEP_QUALITY",
        value=catalogue().question("SLEEP_QUALITY").options[0].value,
        catalogue_version="2025-08",
    )
    at = datetime(2025, 10, 20, 9, tzinfo=PARIS)
    Vaccination.objects.create(
        patient=camille,
        vaccine_code="REVAXIS",
        vaccine_label="REVAXIS",
        valences=["DIPHTERIE", "TETANOS", "POLIO"],
        date=date(2025, 10, 20),
        kind=Vaccination.Kind.BOOSTER,
        lot="X1234",
        source=Vaccination.Source.PATIENT,
        author_label="Camille Lefèvre",
        created_at=at,
        updated_at=at,
    )
    _measure(camille, "WEIGHT", "68.5", 10)
    _measure(camille, "HEIGHT", "165", 1)
    _measure(camille, "GLUCOSE", "126", 12, moment="53049-3")
    return camille


def pdf_of(citizen, sections, patient=None):
    return synthesis.synthesis_pdf(
        actor=citizen_actor(citizen), patient_id=(patient or citizen).pk, sections=sections
    )


# --- content --------------------------------------------------------------------------------


def test_every_section_in_the_services_order(profile):
    text = text_of(pdf_of(profile, list(Section)))
    assert text.startswith("Synthèse du profil médical")
    assert "Profil médical de Camille Lefèvre" in text and "Né(e) le 14/05/1985" in text
    positions = [text.index(SECTION_LABELS[s]) for s in Section]
    assert positions == sorted(positions)
    for expected in (
        "REVAXIS",
        "Diphtérie, Tétanos, Poliomyélite",
        "20/10/2025",
        "Rappel de vaccination",
        "Ajoutée par Camille Lefèvre",
        "Pénicilline",
        "Urticaire",
        "Sévère",
        "Diabète de type 2",
        "En cours depuis 2024",
        "Metformine",
        "Appendicite",
        "Hypertension",
        "Père",
        "Surdité partielle",
        "Sensoriel",
        "O-",
        "Jeanne Lefèvre",
        "Personne de confiance",
        "don d'organes et de tissus le 05/01/2026",
        "Aucune directive anticipée n'est accessible aux professionnels de santé.",
        "Dr Anne Martin",
        "Médecin traitant",
        "68,5 kg",
        "126 mg/dL (à jeun)",
        "25,2 kg/m² (surpoids)",
        "Sommeil",
    ):
        assert expected in text, expected


def test_only_the_chosen_sections_and_nothing_else(profile):
    text = text_of(pdf_of(profile, [Section.BLOOD_GROUP, Section.ALLERGIES]))
    assert "Allergies" in text and "Pénicilline" in text
    assert "Groupe sanguin" in text and "O-" in text
    # The order is the service's, whatever the order chosen.
    assert text.index("Allergies") < text.index("Groupe sanguin")
    for absent in (
        "Traitements",
        "Metformine",
        "Maladies et sujets de santé",
        "Diabète",
        "Hospitalisations",
        "Appendicite",
        "Mesures",
        "68,5",
        "Entourage",
        "Jeanne",
        "Antécédents familiaux",
        "Hypertension",
        "Handicaps",
        "Surdité",
        "Habitudes de vie",
        "Volontés",
        "Vaccinations",
        "REVAXIS",
        "Professionnels de santé",
        "Dr Anne Martin",
        "Pièces administratives",
    ):
        assert absent not in text, absent


def test_empty_and_not_concerned_rubrics_say_so(camille):
    NotConcerned.objects.create(
        patient=camille,
        added_by="Camille Lefèvre",
        section="ALLERGIES",
        declared_on=date(2026, 3, 1),
    )
    text = text_of(pdf_of(camille, [Section.ALLERGIES, Section.TREATMENTS]))
    assert "A déclaré ne pas avoir d'allergie le 01/03/2026." in text
    assert "Rien n'a été renseigné dans cette rubrique." in text


def test_wishes_mention_the_current_directives_and_admin_documents_are_listed(camille):
    me = citizen_actor(camille)
    directives.directives_upload(actor=me, patient_id=camille.pk, content=make_pdf("DA"))
    actions.document_deposit(
        actor=me,
        patient_id=camille.pk,
        content=make_pdf("Carte"),
        title="Carte de groupe sanguin",
        category="DOC_ADM",
        service_date=date(2020, 2, 2),
    )
    secret = actions.document_deposit(
        actor=me,
        patient_id=camille.pk,
        content=make_pdf("Jugement"),
        title="Jugement de divorce",
        category="DOC_ADM",
        masked=True,
    )
    text = text_of(pdf_of(camille, [Section.WISHES, Section.ADMINISTRATIVE_DOCUMENTS]))
    assert "Des directives anticipées ont été enregistrées le 15/06/2026" in text
    assert "Carte de groupe sanguin" in text and "02/02/2020" in text
    # What she masked from professionals, the synthesis (written for them) does not reveal.
    assert secret.title not in text
    da = Document.objects.get(patient=camille, type_code="EXPPAT_3")
    actions.document_set_masked(actor=me, document_id=da.pk, masked=True)
    text = text_of(pdf_of(camille, [Section.WISHES]))
    assert "Aucune directive anticipée n'est accessible aux professionnels de santé." in text


def test_no_section_or_an_unknown_one_is_refused(camille):
    with pytest.raises(InvalidInput) as refused:
        pdf_of(camille, [])
    assert refused.value.field == "sections"
    with pytest.raises(InvalidInput):
        pdf_of(camille, ["PASSWORDS"])


def test_download_is_traced_without_storing_anything(camille):
    pdf_of(camille, [Section.ALLERGIES])
    row = Trace.objects.get(patient_id=camille.pk)
    assert row.action == TraceAction.DOWNLOAD_DOC and row.outcome == TraceOutcome.ALLOWED
    assert row.document_title == "Synthèse du profil médical" and row.document_id is None
    assert not Document.objects.exists()


def test_a_parent_makes_her_sons_synthesis(camille, louis):
    _entry(Allergy, louis, name="Arachide")
    text = text_of(pdf_of(camille, [Section.ALLERGIES], patient=louis))
    assert "Profil médical de Louis Lefèvre" in text and "Arachide" in text
    doc = synthesis.synthesis_save(
        actor=citizen_actor(camille), patient_id=louis.pk, sections=[Section.ALLERGIES]
    )
    assert doc.patient_id == louis.pk and doc.author_citizen_id == camille.pk


# --- saving ---------------------------------------------------------------------------------


def save(citizen, sections=None, **kwargs):
    return synthesis.synthesis_save(
        actor=citizen_actor(citizen),
        patient_id=citizen.pk,
        sections=sections or list(Section),
        **kwargs,
    )


def test_saved_as_docpat08_in_class_11(profile):
    doc = save(profile)
    assert doc.type_code == "DOCPAT08" and doc.class_code == "11"
    assert doc.category == "SYNTH_PML" and doc.title == "Synthèse du profil médical"
    assert doc.type_display == "Profil médical Mon espace santé"
    assert doc.author_kind == Document.AuthorKind.PATIENT and doc.author_citizen_id == profile.pk
    assert doc.description.startswith("Rubriques : Vaccinations, Allergies")
    assert not doc.masked_from_professionals
    row = Trace.objects.get(document_id=doc.pk)
    assert row.action == TraceAction.DEPOSIT_DOC and row.actor_id == profile.ins


def test_regenerating_supersedes_the_previous_one(profile):
    first = save(profile)
    with time_machine.travel("2026-06-20 10:00 +02:00", tick=False):
        second = save(profile, [Section.ALLERGIES])
    first.refresh_from_db()
    assert first.status == Document.Status.SUPERSEDED and second.replaces_id == first.pk
    current = synthesis.synthesis_current(actor=citizen_actor(profile), patient_id=profile.pk)
    assert current == second
    assert Trace.objects.get(document_id=second.pk).action == TraceAction.REPLACE_DOC
    visible = Document.objects.filter(patient=profile, status=Document.Status.CURRENT)
    assert list(visible.filter(type_code="DOCPAT08")) == [second]


def test_masked_by_default_unless_made_visible(profile):
    PrivacySettings.objects.filter(patient=profile).update(mask_new_documents=True)
    assert save(profile).masked_from_professionals
    # « Rendre visible »
    assert not save(profile, masked=False).masked_from_professionals


def test_authorised_professionals_read_the_saved_synthesis(profile, ide_bernard, dr_durand):
    doc = save(profile)
    got, content = actions.document_content(actor=pro(ide_bernard), document_id=doc.pk)
    assert got == doc and "Pénicilline" in text_of(content)
    read = Trace.objects.get(document_id=doc.pk, action=TraceAction.DOWNLOAD_DOC)
    assert read.actor_id == ide_bernard.national_id
    # A doctor she never authorised reads nothing.
    with pytest.raises(NotFound):
        actions.document_content(actor=pro(dr_durand), document_id=doc.pk)


def test_a_masked_synthesis_stays_hidden_but_for_her_treating_doctor(
    profile, dr_martin, ide_bernard
):
    doc = save(profile, masked=True)
    with pytest.raises(NotFound):
        actions.document_content(actor=pro(ide_bernard), document_id=doc.pk)
    _, content = actions.document_content(actor=pro(dr_martin), document_id=doc.pk)
    assert "Synthèse du profil médical" in text_of(content)


# --- denials --------------------------------------------------------------------------------


def test_another_patient_gets_not_found_and_refused_traces(profile, bob):
    with pytest.raises(NotFound):
        pdf_of(bob, list(Section), patient=profile)
    with pytest.raises(NotFound):
        synthesis.synthesis_save(
            actor=citizen_actor(bob), patient_id=profile.pk, sections=list(Section)
        )
    with pytest.raises(NotFound):
        synthesis.synthesis_current(actor=citizen_actor(bob), patient_id=profile.pk)
    rows = Trace.objects.filter(patient_id=profile.pk, outcome=TraceOutcome.REFUSED).order_by("seq")
    assert [r.action for r in rows] == [
        TraceAction.DOWNLOAD_DOC,
        TraceAction.DEPOSIT_DOC,
        TraceAction.CONSULT_DOSSIER,
    ]
    assert {r.actor_id for r in rows} == {bob.ins}
    assert not Document.objects.exists()


def test_a_professional_cannot_generate_it(profile, dr_martin):
    # Even her médecin traitant: the profil médical reaches him only through the saved document.
    with pytest.raises(NotFound):
        synthesis.synthesis_pdf(actor=pro(dr_martin), patient_id=profile.pk, sections=list(Section))
    row = Trace.objects.get(patient_id=profile.pk, outcome=TraceOutcome.REFUSED)
    assert row.action == TraceAction.DOWNLOAD_DOC and row.actor_id == dr_martin.national_id

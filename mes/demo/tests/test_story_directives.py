"""The demo's directives anticipées and synthèse stories, loaded after the dataset, twice."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from mes.access.actors import professional_actor
from mes.audit.models import Trace, TraceAction
from mes.audit.trace import verify_all
from mes.demo import dataset
from mes.demo.story_directives import load_directive_stories
from mes.demo.story_measures import load_measure_stories
from mes.demo.story_profile import load_profile_stories
from mes.identity.models import Citizen, Professional
from mes.measures.models import Measurement
from mes.medical_profile.models import Allergy, Disease
from mes.records.actions import document_content
from mes.records.models import Document

TODAY = date(2026, 6, 15)


def _citizen(key):
    return Citizen.objects.get(ins=next(p for p in dataset.PEOPLE if p.key == key).ins)


def _text(content):
    return " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages
    )


def test_jacqueline_directives_and_louise_synthesis(db):
    dataset.load(TODAY)
    # The order `mes demo` follows: the profil médical stories first, then these.
    load_profile_stories(TODAY)
    load_measure_stories(TODAY)
    report = load_directive_stories(TODAY)
    assert report.created == {"directives anticipées": 1, "synthèses du profil médical": 1}

    jacqueline, louise = _citizen("jacqueline"), _citizen("louise")
    da = Document.objects.get(patient=jacqueline, type_code="EXPPAT_3")
    assert da.status == "current" and da.category == "DIR_ANT"
    assert da.author_citizen_id == jacqueline.pk and da.description.startswith("Modèle A")
    assert da.service_date == date(2026, 5, 6)  # day 500 of the story: 40 days before
    # Her médecin traitant reads them, like any document of the dossier.
    mt = Professional.objects.get(rpps="10100012345")
    _, content = document_content(actor=professional_actor(mt), document_id=da.pk)
    text = _text(content)
    assert "Je suis atteint(e) d'une maladie grave" in text
    assert "J'ai désigné comme personne de confiance : Isabelle Moreau" in text

    synth = Document.objects.get(patient=louise, type_code="DOCPAT08")
    assert synth.title == "Synthèse du profil médical" and synth.author_citizen_id == louise.pk
    assert synth.service_date == date(2026, 6, 14)
    assert Trace.objects.filter(document_id=synth.pk, action=TraceAction.DEPOSIT_DOC).exists()
    # Made from what her profile held: her allergies, diseases and measures are in it.
    cardio = Professional.objects.get(rpps="10100034567")
    _, content = document_content(actor=professional_actor(cardio), document_id=synth.pk)
    text = _text(content)
    names = [a.name for a in Allergy.objects.filter(patient=louise)]
    names += [d.name for d in Disease.objects.filter(patient=louise)]
    assert names and all(name in text for name in names)
    assert Measurement.objects.filter(patient=louise, type_code="WEIGHT").exists()
    assert "Poids" in text and "kg/m²" in text

    # A second load adds nothing, and every trace chain still holds.
    documents = Document.objects.count()
    assert load_directive_stories(TODAY).nothing_new
    assert Document.objects.count() == documents
    assert list(verify_all()) == []

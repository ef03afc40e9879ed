"""Camille's directives anticipées: written online (model A or B) or deposited signed; one
current version; read by the professionals the matrix lets read them; never for a minor."""

from __future__ import annotations

import io
import uuid
from datetime import date

import pytest
import time_machine
from pypdf import PdfReader

from mes.access.actors import citizen_actor
from mes.access.models import PrivacySettings
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.lib.errors import InvalidInput, NotFound
from mes.medical_profile import directives
from mes.medical_profile.directives import (
    Choice,
    DirectivesInput,
    DirectivesModel,
    TreatmentWish,
    Witness,
)
from mes.records import actions
from mes.records.models import Document

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel("2026-06-15 10:00 +02:00", tick=False):
        yield


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """PDF text with its line breaks folded, to look for sentences wrapped over two lines."""
    return " ".join(text.split())


def model_a(**changes):
    data = {
        "model": DirectivesModel.A,
        "place": "Paris",
        "birth_place": "Lyon",
        "address": "12 rue des Lilas, 75011 Paris",
        "situations": "Coma en phase terminale d'une maladie grave.",
        "life_support": Choice.NO,
        "treatments": (
            TreatmentWish(act="resuscitation", start=Choice.NO, stop=Choice.YES),
            TreatmentWish(act="dialysis", start=Choice.NO, details="Pas de dialyse au long cours."),
            TreatmentWish(act="surgery", start=Choice.YES, stop=Choice.YES),
        ),
        "sedation": Choice.YES,
        "end_of_life_place": "À la maison, entourée de mes proches.",
        "comments": "Je souhaite être accompagnée par une équipe de soins palliatifs.",
        "trusted_person": "Jeanne Lefèvre",
    }
    data.update(changes)
    return DirectivesInput(**data)


def write(citizen, data=None, **kwargs):
    return directives.directives_write(
        actor=citizen_actor(citizen), patient_id=citizen.pk, data=data or model_a(), **kwargs
    )


# --- writing online -------------------------------------------------------------------------


def test_model_a_is_a_french_pdf_deposited_as_exppat3_by_camille(camille):
    doc = write(camille)
    assert doc.type_code == "EXPPAT_3" and doc.class_code == "90" and doc.category == "DIR_ANT"
    assert doc.title == "Directives anticipées" and doc.mime_type == "application/pdf"
    assert doc.author_kind == Document.AuthorKind.PATIENT and doc.author_citizen_id == camille.pk
    assert doc.service_date == TODAY and not doc.masked_from_professionals
    assert doc.description.startswith("Modèle A")
    _, content = actions.document_content(actor=citizen_actor(camille), document_id=doc.pk)
    text = flat(text_of(content))
    for expected in (
        "Mes directives anticipées",
        "Je suis atteint(e) d'une maladie grave ou je pense être proche de la fin de ma vie",
        "LEFÈVRE Camille",
        "Né(e) le 14/05/1985 à Lyon",
        "12 rue des Lilas",
        "Coma en phase terminale",
        "Je ne souhaite pas être maintenu(e) artificiellement en vie",
        "Réanimation cardiaque et respiratoire",
        "Je refuse qu'il soit entrepris",
        "J'accepte qu'il soit arrêté",
        "Pas de dialyse au long cours.",
        "je souhaite bénéficier d'une sédation profonde et continue",
        "À la maison",
        "soins palliatifs",
        "J'ai désigné comme personne de confiance : Jeanne Lefèvre",
        "Fait le 15/06/2026 à Paris",
        "valables sans limite de durée",
    ):
        assert expected in text, expected
    # No witness page when she can write.
    assert "Attestation des témoins" not in text
    row = Trace.objects.filter(document_id=doc.pk).order_by("seq")[0]
    assert row.action == TraceAction.DEPOSIT_DOC and row.actor_id == camille.ins


def test_model_b_speaks_of_starting_or_continuing(camille):
    data = DirectivesInput(
        model=DirectivesModel.B,
        place="Nantes",
        situations="Coma prolongé jugé irréversible.",
        treatments=(TreatmentWish(act="nutrition", start=Choice.NO),),
    )
    doc = write(camille, data)
    _, content = actions.document_content(actor=citizen_actor(camille), document_id=doc.pk)
    text = flat(text_of(content))
    assert "Je pense être en bonne santé ou je ne suis pas atteint(e) d'une maladie grave" in text
    assert "Alimentation et hydratation artificielles" in text
    assert "Je refuse qu'il soit mis en œuvre ou poursuivi" in text
    assert "Qu'on l'arrête" not in text
    assert "Je n'ai pas désigné de personne de confiance." in text


def test_model_b_has_no_stop_choice(camille):
    data = DirectivesInput(
        model=DirectivesModel.B,
        place="Nantes",
        treatments=(TreatmentWish(act="surgery", start=Choice.NO, stop=Choice.YES),),
    )
    with pytest.raises(InvalidInput):
        write(camille, data)
    assert not Document.objects.exists()


def test_witnesses_attest_when_she_cannot_write(camille):
    data = model_a(
        cannot_write=True,
        witnesses=(
            Witness("Lefèvre", "Jeanne", "sœur", is_trusted_person=True),
            Witness("Durand", "Marc", "voisin et ami"),
        ),
    )
    doc = write(camille, data)
    _, content = actions.document_content(actor=citizen_actor(camille), document_id=doc.pk)
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 2
    text = flat(text_of(content))
    assert "Attestation des témoins" in text
    assert "Témoin 1" in text and "Témoin 2" in text
    assert "Je soussigné(e) Jeanne Lefèvre, sœur" in text
    assert "volonté libre et éclairée de Camille Lefèvre" in text
    assert "je ne peux pas écrire ni signer" in text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"place": ""}, "place"),
        ({"place": "Paris/Lyon"}, "place"),
        ({"comments": "x" * 3001}, "comments"),
        (
            {
                "situations": "",
                "life_support": Choice.UNSPECIFIED,
                "sedation": Choice.UNSPECIFIED,
                "comments": "",
                "treatments": (),
            },
            "situations",
        ),
        ({"guardianship": True}, "guardianship"),
        ({"cannot_write": True}, "witness1_last_name"),
        (
            {
                "cannot_write": True,
                "witnesses": (Witness("Lefèvre", "Jeanne", "sœur"), Witness("Durand", "Marc", "")),
            },
            "witness2_quality",
        ),
        (
            # Her personne de confiance must be one of the two witnesses (R1111-17).
            {
                "cannot_write": True,
                "witnesses": (Witness("Roy", "Anne", "amie"), Witness("Durand", "Marc", "voisin")),
            },
            "witness1_trusted",
        ),
        (
            {"treatments": (TreatmentWish(act="other", start=Choice.NO),), "other_act_name": ""},
            "other_act_name",
        ),
        ({"treatments": (TreatmentWish(act="teleportation", start=Choice.NO),)}, "treatments"),
    ],
)
def test_bad_input_is_refused_in_french_and_stores_nothing(camille, changes, field):
    with pytest.raises(InvalidInput) as refused:
        write(camille, model_a(**changes))
    assert refused.value.field == field and str(refused.value)
    assert not Document.objects.exists()


def test_guardianship_with_the_judges_authorisation_is_printed(camille):
    doc = write(camille, model_a(guardianship=True, guardianship_judge=True))
    _, content = actions.document_content(actor=citizen_actor(camille), document_id=doc.pk)
    text = flat(text_of(content))
    assert "Mesure de tutelle" in text and "Joindre la copie de l'autorisation." in text


def test_a_new_version_replaces_the_current_one(camille):
    first = write(camille)
    second = write(camille, model_a(comments="Nouvelle version."))
    first.refresh_from_db()
    assert first.status == Document.Status.SUPERSEDED and second.replaces_id == first.pk
    assert (
        directives.directives_current(actor=citizen_actor(camille), patient_id=camille.pk) == second
    )
    assert Trace.objects.get(document_id=second.pk).action == TraceAction.REPLACE_DOC


def test_masked_when_her_default_says_so(camille):
    PrivacySettings.objects.filter(patient=camille).update(mask_new_documents=True)
    assert write(camille).masked_from_professionals


# --- the signed document --------------------------------------------------------------------


def test_signed_scan_is_deposited_and_replaces_the_online_version(camille):
    online = write(camille)
    signed = directives.directives_upload(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        content=make_pdf("Directives signées"),
        service_date=date(2026, 6, 1),
    )
    assert signed.type_code == "EXPPAT_3" and signed.category == "DIR_ANT"
    assert signed.title == "Directives anticipées signées" and signed.replaces_id == online.pk
    assert signed.service_date == date(2026, 6, 1)


def test_an_executable_is_refused_by_its_content(camille):
    with pytest.raises(InvalidInput) as refused:
        directives.directives_upload(
            actor=citizen_actor(camille), patient_id=camille.pk, content=b"MZ\x90\x00" * 40
        )
    assert refused.value.field == "file"
    assert not Document.objects.exists()


# --- who may write them ---------------------------------------------------------------------


def test_a_minor_has_no_directives(camille, louis):
    assert directives.refusal_reason(actor=citizen_actor(camille), patient=louis) == (
        directives.MINOR_REFUSAL
    )
    with pytest.raises(InvalidInput) as refused:
        directives.directives_write(
            actor=citizen_actor(camille), patient_id=louis.pk, data=model_a()
        )
    assert "ne s'appliquent pas aux mineurs" in str(refused.value)
    with pytest.raises(InvalidInput):
        directives.directives_upload(
            actor=citizen_actor(camille), patient_id=louis.pk, content=make_pdf()
        )
    assert not Document.objects.exists()


def test_from_18_on_he_may(camille, louis):
    with time_machine.travel("2033-03-02 09:00 +01:00", tick=False):
        assert directives.refusal_reason(actor=citizen_actor(louis), patient=louis) == ""
        # His mother still may not write them for him: they are his own will.
        assert directives.refusal_reason(actor=citizen_actor(camille), patient=louis) == (
            directives.NOT_HOLDER_REFUSAL
        )


def test_another_patient_gets_not_found_and_a_refused_trace(camille, bob):
    with pytest.raises(NotFound):
        directives.directives_write(actor=citizen_actor(bob), patient_id=camille.pk, data=model_a())
    with pytest.raises(NotFound):
        directives.directives_current(actor=citizen_actor(bob), patient_id=camille.pk)
    rows = Trace.objects.filter(patient_id=camille.pk, outcome=TraceOutcome.REFUSED)
    assert [r.action for r in rows.order_by("seq")] == [
        TraceAction.DEPOSIT_DOC,
        TraceAction.CONSULT_DOSSIER,
    ]
    assert all(r.actor_id == bob.ins for r in rows)
    assert not Document.objects.exists()


def test_a_professional_cannot_write_them(camille, dr_martin):
    with pytest.raises(NotFound):
        directives.directives_write(actor=pro(dr_martin), patient_id=camille.pk, data=model_a())
    row = Trace.objects.get(patient_id=camille.pk, outcome=TraceOutcome.REFUSED)
    assert row.action == TraceAction.DEPOSIT_DOC and row.actor_id == dr_martin.national_id


def test_unknown_dossier_is_the_same_not_found(camille):
    with pytest.raises(NotFound):
        directives.directives_write(
            actor=citizen_actor(camille), patient_id=uuid.uuid4(), data=model_a()
        )
    assert Trace.objects.get(outcome=TraceOutcome.REFUSED).reason == "dossier inconnu"


# --- professionals read them through the Documents policies ----------------------------------


def test_authorised_professionals_read_them_per_the_matrix(
    camille, dr_martin, ide_bernard, podo_petit
):
    doc = write(camille)
    # Her médecin traitant and her nurse read them (the matrix gives EXPPAT_3 to nurses).
    for reader in (dr_martin, ide_bernard):
        got, content = actions.document_content(actor=pro(reader), document_id=doc.pk)
        assert got == doc and "Mes directives anticipées" in text_of(content)
    # The pédicure-podologue's row of the matrix excludes the directives.
    with pytest.raises(NotFound):
        actions.document_content(actor=pro(podo_petit), document_id=doc.pk)
    refused = Trace.objects.get(document_id=doc.pk, outcome=TraceOutcome.REFUSED)
    assert refused.actor_id == podo_petit.national_id


def test_a_professional_without_consent_reads_nothing(camille, dr_durand):
    doc = write(camille)
    with pytest.raises(NotFound):
        actions.document_content(actor=pro(dr_durand), document_id=doc.pk)

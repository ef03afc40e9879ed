"""Camille's Mesures pages, and Louis's as his mother: the tiles, one measure with its chart,
adding, modifying, deleting, choosing the tiles — each page with its denials (anonymous, a
professional's login, another patient) and its traces."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from mes.access.actors import citizen_actor, system_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.measures import actions
from mes.measures.models import Measurement, MeasureTilePreference

PARIS = ZoneInfo("Europe/Paris")
TODAY = datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[datetime]:
    # Autouse fixtures run first: the cast (and Louis's representation) is created on this day.
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


def at(y, m, d, h=8, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=PARIS)


def add(citizen, patient=None, **kwargs):
    args = {"type_code": "WEIGHT", "value": "72.5", "effective_at": at(2026, 2, 1)}
    args.update(kwargs)
    return actions.measurement_add(
        actor=citizen_actor(citizen), patient_id=(patient or citizen).pk, **args
    )


@pytest.fixture
def poids(camille):
    return add(camille)


def _show(client, profile):
    assert (
        client.post(reverse("portal:switch_profile"), {"profile": str(profile.pk)}).status_code
        == 302
    )


def _form(**kwargs):
    data = {"value": "71,8", "date": "2026-03-01", "time": "07:45", "comment": ""}
    data.update(kwargs)
    return data


PROFILE_PAGES = [
    ("measures", []),
    ("measure_tiles", []),
    ("measure", ["WEIGHT"]),
    ("measure_add", ["WEIGHT"]),
]
VALUE_PAGES = ["measure_edit", "measure_delete"]


# --- denials shared by every page ----------------------------------------------------------


@pytest.mark.parametrize(("name", "args"), PROFILE_PAGES)
def test_anonymous_is_sent_to_login(client, db, name, args):
    url = reverse(f"portal:{name}", args=args)
    assert client.get(url)["Location"] == f"/connexion/?next={url}"
    assert client.post(url, _form())["Location"] == f"/connexion/?next={url}"
    assert not Measurement.objects.exists()


@pytest.mark.parametrize("name", VALUE_PAGES)
def test_anonymous_is_sent_to_login_from_a_value(client, poids, name):
    url = reverse(f"portal:{name}", args=[poids.pk])
    assert client.post(url, _form())["Location"] == f"/connexion/?next={url}"
    assert Measurement.objects.get().value == Decimal("72.5")


@pytest.mark.parametrize(("name", "args"), PROFILE_PAGES)
def test_professional_login_gets_not_found(as_durand, name, args):
    url = reverse(f"portal:{name}", args=args)
    assert as_durand.get(url).status_code == 404
    assert as_durand.post(url, _form()).status_code == 404
    assert not Measurement.objects.exists()


@pytest.mark.parametrize("name", VALUE_PAGES)
def test_professional_login_cannot_reach_a_value(as_durand, poids, name):
    assert as_durand.post(reverse(f"portal:{name}", args=[poids.pk]), _form()).status_code == 404
    assert Measurement.objects.get().value == Decimal("72.5")
    # The view refused before any policy ran: nothing to trace beyond Camille's own addition.
    assert not Trace.objects.exclude(action=TraceAction.ADD_MEASURE).exists()


@pytest.mark.parametrize("name", VALUE_PAGES)
def test_other_patient_gets_not_found_and_a_refused_trace(as_bob, bob, camille, poids, name):
    assert as_bob.get(reverse(f"portal:{name}", args=[poids.pk])).status_code == 404
    row = Trace.objects.get(outcome=TraceOutcome.REFUSED)
    assert row.actor_id == bob.ins and row.patient_id == camille.pk
    assert row.action == TraceAction.CONSULT_MEASURES and row.document_title == "Poids"


def test_other_patient_cannot_change_or_delete(as_bob, bob, camille, poids):
    edit = as_bob.post(reverse("portal:measure_edit", args=[poids.pk]), _form(value="50"))
    delete = as_bob.post(reverse("portal:measure_delete", args=[poids.pk]))
    assert edit.status_code == delete.status_code == 404
    assert Measurement.objects.get().value == Decimal("72.5")
    refused = Trace.objects.filter(outcome=TraceOutcome.REFUSED).order_by("seq")
    assert [r.action for r in refused] == [TraceAction.UPDATE_MEASURE, TraceAction.DELETE_MEASURE]


def test_bobs_pages_never_show_camilles_values(as_bob, poids):
    html = as_bob.get(reverse("portal:measure", args=["WEIGHT"])).content.decode()
    assert "72,5" not in html and "Aucune valeur pour le moment." in html


def test_unknown_measure_or_value_is_not_found(as_camille, camille):
    assert as_camille.get(reverse("portal:measure", args=["CHOLESTEROL"])).status_code == 404
    assert (
        as_camille.get(reverse("portal:measure_add", args=["BODY_MASS_INDEX"])).status_code == 404
    )
    # Head circumference is a child's measure: not on an adult's profile.
    assert as_camille.get(reverse("portal:measure", args=["HEAD_CIRCUMFERENCE"])).status_code == 404
    assert as_camille.get(reverse("portal:measure_edit", args=[uuid.uuid4()])).status_code == 404
    assert Trace.objects.get(outcome=TraceOutcome.REFUSED).reason == "mesure inconnue"


# --- the Mesures page ----------------------------------------------------------------------


def test_tiles_show_the_last_values_and_the_bmi(as_camille, camille):
    add(camille, type_code="HEIGHT", value="165", effective_at=at(2025, 1, 1))
    add(camille, value="84", effective_at=at(2025, 3, 1))
    add(camille, value="77", effective_at=at(2026, 2, 1))
    add(camille, type_code="GLUCOSE", value="1.18", unit="g/L", moment="53049-3")
    response = as_camille.get(reverse("portal:measures"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mes mesures" in html and 'href="/static/portal/measures.css"' in html
    assert '<span class="mes-tile-value">77,0</span>' in html
    assert '<span class="mes-tile-value">28,3</span>' in html and "Surpoids" in html
    assert '<span class="mes-tile-value">118</span>' in html
    assert "Afficher les autres mesures" in html
    assert f'href="{reverse("portal:measure", args=["BLOOD_PRESSURE"])}"' in html
    row = Trace.objects.filter(action=TraceAction.CONSULT_MEASURES).get()
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins


def test_choose_the_tiles(as_camille, camille):
    page = as_camille.get(reverse("portal:measure_tiles")).content.decode()
    assert 'value="GLUCOSE" class="form-check-input" id="id_visible_7" checked' in page
    assert "Périmètre crânien" not in page  # not for an adult
    response = as_camille.post(
        reverse("portal:measure_tiles"), {"visible": ["WEIGHT", "STEPS_BY_DAY"]}
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal:measures")
    html = as_camille.get(reverse("portal:measures")).content.decode()
    assert "Nombre de pas" in html and "Glycémie" not in html
    assert MeasureTilePreference.objects.filter(patient=camille, visible=True).count() == 2
    assert Trace.objects.get(action=TraceAction.MEASURE_TILES).outcome == TraceOutcome.ALLOWED


# --- one measure ---------------------------------------------------------------------------


def test_measure_page_shows_the_chart_and_the_values(as_camille, camille, dr_martin):
    add(camille, value="84", effective_at=at(2025, 6, 1), comment="après les fêtes")
    add(camille, value="77", effective_at=at(2026, 2, 1))
    from_doc = actions.measurement_import(
        actor=system_actor("import-documents"),
        patient_id=camille.pk,
        type_code="WEIGHT",
        value="80",
        effective_at=at(2025, 10, 1),
        source=Measurement.Source.PROFESSIONAL,
        author_label="Dr Anne Martin",
        source_document_id=uuid.uuid4(),
    )
    response = as_camille.get(reverse("portal:measure", args=["WEIGHT"]))
    html = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="mes-chart"' in html
    assert html.count('class="chart-point"') == 3
    assert '<p class="visually-hidden">Dernière valeur : 77,0 kg le 01/02/2026.' in html
    assert "Par Camille Lefèvre" in html and "Par Dr Anne Martin" in html
    assert "Ajoutée par un professionnel de santé" in html and "Voir le document lié" in html
    assert "Commentaire : après les fêtes" in html
    assert reverse("portal:measure_edit", args=[from_doc.pk]) not in html
    assert "Cette valeur ne peut pas être modifiée ou supprimée." in html
    row = Trace.objects.filter(action=TraceAction.CONSULT_MEASURES).get()
    assert row.document_title == "Poids"


def test_period_filter_limits_the_chart_not_the_list(as_camille, camille):
    add(camille, value="84", effective_at=at(2024, 6, 1))
    add(camille, value="77", effective_at=at(2026, 2, 1))
    html = as_camille.get(
        reverse("portal:measure", args=["WEIGHT"]), {"periode": "1a"}
    ).content.decode()
    assert html.count('class="chart-point"') == 1 and "84,0 kg" in html
    html = as_camille.get(
        reverse("portal:measure", args=["WEIGHT"]), {"periode": "tout"}
    ).content.decode()
    assert html.count('class="chart-point"') == 2


def test_bmi_page_explains_the_bands(as_camille, camille):
    add(camille, type_code="HEIGHT", value="165", effective_at=at(2025, 1, 1))
    add(camille, value="77", effective_at=at(2026, 2, 1))
    html = as_camille.get(reverse("portal:measure", args=["BODY_MASS_INDEX"])).content.decode()
    assert "Dernier IMC : <strong>Surpoids</strong>" in html
    assert "<td>de 18,5 à moins de 25</td><td>Corpulence normale</td>" in html
    assert "Poids 77,0 kg, taille 165,0 cm" in html and "Ajouter une valeur" not in html


# --- adding --------------------------------------------------------------------------------


def test_add_a_weight_with_a_french_comma(as_camille, camille):
    page = as_camille.get(reverse("portal:measure_add", args=["WEIGHT"])).content.decode()
    assert 'value="2026-03-02"' in page and 'value="10:00"' in page  # today, now
    response = as_camille.post(reverse("portal:measure_add", args=["WEIGHT"]), _form())
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:measure", args=["WEIGHT"])
    m = Measurement.objects.get()
    assert (m.value, m.effective_at) == (Decimal("71.8"), at(2026, 3, 1, 7, 45))
    assert Trace.objects.get(action=TraceAction.ADD_MEASURE).outcome == TraceOutcome.ALLOWED
    html = as_camille.get(response["Location"]).content.decode()
    assert "Poids : valeur ajoutée" in html


@pytest.mark.parametrize(
    ("code", "data", "message"),
    [
        ("WEIGHT", {"value": "400"}, "La valeur doit être comprise entre 0,5 et 350 kg."),
        ("WEIGHT", {"value": "7O"}, "Saisissez un nombre, par exemple 72,5."),
        ("WEIGHT", {"value": ""}, "Indiquez la valeur."),
        ("WEIGHT", {"date": "2026-03-03"}, "La date de la mesure ne peut pas être dans le futur."),
        (
            "WEIGHT",
            {"date": "1985-05-13"},
            "La date de la mesure ne peut pas être antérieure à la date de naissance.",
        ),
        ("GLUCOSE", {"value": "110", "unit": "mg/dL"}, "Indiquez le moment de la mesure."),
        (
            "BLOOD_PRESSURE",
            {"value": "80", "diastolic": "95"},
            "supérieure à la tension diastolique",
        ),
    ],
)
def test_add_refusals_are_shown_in_french(as_camille, code, data, message):
    response = as_camille.post(reverse("portal:measure_add", args=[code]), _form(**data))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Le formulaire contient une erreur" in html and message in html
    assert "<title>Erreur – " in html
    assert not Measurement.objects.exists()


def test_add_a_glucose_in_grams_per_litre_with_its_moment(as_camille):
    page = as_camille.get(reverse("portal:measure_add", args=["GLUCOSE"])).content.decode()
    assert "Moment de la mesure" in page and "À jeun" in page and "Lors d&#x27;un malaise" in page
    assert 'placeholder="Ex. : Diabète, surpoids, maladie du coeur…"' in page
    response = as_camille.post(
        reverse("portal:measure_add", args=["GLUCOSE"]),
        _form(value="1,42", unit="g/L", moment="53049-3"),
    )
    assert response.status_code == 302
    m = Measurement.objects.get()
    assert (m.value, m.moment) == (Decimal(142), "53049-3")
    html = as_camille.get(reverse("portal:measure", args=["GLUCOSE"])).content.decode()
    assert "142 mg/dL (1,42 g/L)" in html and "Moment : À jeun" in html


def test_add_a_blood_pressure(as_camille):
    page = as_camille.get(reverse("portal:measure_add", args=["BLOOD_PRESSURE"])).content.decode()
    assert "Systolique (mmHg)" in page and "Diastolique (mmHg)" in page
    response = as_camille.post(
        reverse("portal:measure_add", args=["BLOOD_PRESSURE"]), _form(value="132", diastolic="82")
    )
    assert response.status_code == 302
    html = as_camille.get(reverse("portal:measure", args=["BLOOD_PRESSURE"])).content.decode()
    assert "132/82 mmHg" in html and html.count("chart-series-2") >= 2


def test_add_a_height_in_metres(as_camille):
    as_camille.post(reverse("portal:measure_add", args=["HEIGHT"]), _form(value="1,65"))
    assert Measurement.objects.get().value == Decimal(165)


# --- modifying, deleting -------------------------------------------------------------------


def test_edit_a_value(as_camille, camille, poids):
    page = as_camille.get(reverse("portal:measure_edit", args=[poids.pk])).content.decode()
    assert 'value="72,5"' in page and 'value="2026-02-01"' in page and 'value="08:00"' in page
    response = as_camille.post(
        reverse("portal:measure_edit", args=[poids.pk]), _form(value="72,1", comment="à jeun")
    )
    assert response.status_code == 302
    poids.refresh_from_db()
    assert (poids.value, poids.comment) == (Decimal("72.1"), "à jeun")
    assert Trace.objects.get(action=TraceAction.UPDATE_MEASURE).document_title == "Poids"
    bad = as_camille.post(reverse("portal:measure_edit", args=[poids.pk]), _form(value="0"))
    assert "La valeur doit être comprise entre 0,5 et 350 kg." in bad.content.decode()
    poids.refresh_from_db()
    assert poids.value == Decimal("72.1")


def test_delete_asks_then_deletes(as_camille, camille, poids):
    page = as_camille.get(reverse("portal:measure_delete", args=[poids.pk])).content.decode()
    assert "Supprimer cette valeur ?" in page and "72,5 kg" in page
    assert Measurement.objects.exists()
    response = as_camille.post(reverse("portal:measure_delete", args=[poids.pk]))
    assert response["Location"] == reverse("portal:measure", args=["WEIGHT"])
    assert not Measurement.objects.exists()
    assert Trace.objects.get(action=TraceAction.DELETE_MEASURE).outcome == TraceOutcome.ALLOWED


def test_a_professionals_value_cannot_be_edited_or_deleted(as_camille, camille):
    m = actions.measurement_import(
        actor=system_actor("import-documents"),
        patient_id=camille.pk,
        type_code="WEIGHT",
        value="80",
        effective_at=at(2025, 10, 1),
        source=Measurement.Source.PROFESSIONAL,
        author_label="Dr Anne Martin",
    )
    assert as_camille.get(reverse("portal:measure_edit", args=[m.pk])).status_code == 404
    assert as_camille.post(reverse("portal:measure_delete", args=[m.pk])).status_code == 404
    assert Measurement.objects.filter(pk=m.pk).exists()


# --- a child's profile ---------------------------------------------------------------------


def test_mother_follows_louis_growth_in_the_third_person(as_camille, camille, louis):
    _show(as_camille, louis)
    index = as_camille.get(reverse("portal:measures")).content.decode()
    assert "Les mesures de Louis Lefèvre" in index and "Périmètre crânien" in index
    for d, h in (((2024, 3, 1), "132"), ((2025, 3, 1), "138")):
        response = as_camille.post(
            reverse("portal:measure_add", args=["HEIGHT"]),
            _form(value=h, date=f"{d[0]}-0{d[1]}-0{d[2]}"),
        )
        assert response.status_code == 302
    assert Measurement.objects.filter(patient=louis).count() == 2
    html = as_camille.get(reverse("portal:measure", args=["HEIGHT"])).content.decode()
    assert "Taille <span" in html and "de Louis Lefèvre" in html
    assert "9 ans et 11 mois" in html  # his age at the measure of 01/03/2025
    assert 'class="chart-reference"' in html and 'data-centile="P97"' in html
    assert "Retour aux mesures de Louis Lefèvre" in html
    row = Trace.objects.filter(patient_id=louis.pk, action=TraceAction.ADD_MEASURE).first()
    assert row.acting_citizen_id == camille.pk


def test_a_louis_value_opened_by_its_link_switches_the_profile(as_camille, camille, louis):
    m = add(camille, louis, value="33")
    page = as_camille.get(reverse("portal:measure_edit", args=[m.pk])).content.decode()
    assert "Pour Louis Lefèvre." in page


def test_an_hba1c_read_from_a_document_has_its_tile_and_chart(
    client, camille, dr_martin, django_capture_on_commit_callbacks
):
    from mes.conftest import pro
    from mes.measures.tests.test_documents import biology_report
    from mes.records.actions import document_deposit

    with django_capture_on_commit_callbacks(execute=True):
        doc = document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=biology_report(),
            title="Bilan biologique",
            type_code="11502-2",
        )
    client.force_login(camille.user)
    home = client.get(reverse("portal:measures")).content.decode()
    assert "Hémoglobine glyquée (HbA1c)" in home  # its tile, without Camille choosing it
    page = client.get(reverse("portal:measure", args=["HBA1C"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "7,2" in html and "Extraite d&#x27;un document" in html
    assert reverse("portal:document", args=[doc.pk]) in html  # « Voir le document lié »
    assert "mes-chart-box" in html  # the chart

"""ITI-67: Dr Martin, Camille's médecin traitant, searches her dossier from his software — every
MHD parameter, paging by `next` links, GET and POST, each search traced."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest
import time_machine

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, make_professional, pro
from mes.fhir.mhd import systems
from mes.fhir.tests.conftest import INS_NIR_SYSTEM, fhir_json, issue_codes
from mes.records import actions

pytestmark = pytest.mark.django_db


def at(day: str):
    return time_machine.travel(
        datetime.fromisoformat(day + "T10:00:00").replace(tzinfo=UTC), tick=False
    )


@pytest.fixture
def dossier(camille, dr_martin, ide_bernard, hopital):
    """Camille's documents, deposited over spring 2024."""
    martin, bernard = pro(dr_martin), pro(ide_bernard)
    hospital_doctor = make_professional("10000000088", "Luc", "Cardio", "10", "SM04", hopital)

    def deposit(actor, day, **kwargs):
        with at(day):
            return actions.document_deposit(actor=actor, patient_id=camille.pk, **kwargs)

    docs = {}
    docs["v1"] = deposit(
        martin,
        "2024-01-11",
        content=make_pdf("v1"),
        title="Lettre de liaison",
        type_code="11490-0",
        service_date=date(2024, 1, 10),
    )
    docs["ald"] = deposit(
        martin,
        "2024-02-06",
        content=make_pdf("ald"),
        title="Protocole ALD",
        type_code="PROT_ALD",
        service_date=date(2024, 2, 5),
        masked=True,
        unique_id="1.2.250.1.999.67.2",
    )
    docs["soins"] = deposit(
        bernard,
        "2024-03-02",
        content=make_pdf("soins"),
        title="Suivi infirmier",
        type_code="11506-3",
        service_date=date(2024, 3, 1),
    )
    docs["patient"] = deposit(
        citizen_actor(camille),
        "2024-03-10",
        content=b"Ordonnance recopiee par Camille\n",
        title="Mon ordonnance",
        category="ORD_SOIN",
        service_date=date(2024, 3, 9),
    )
    docs["hospital"] = deposit(
        pro(hospital_doctor),
        "2024-04-01",
        content=make_pdf("hospi"),
        title="CR d'hospitalisation",
        type_code="34112-3",
        service_date=date(2024, 3, 28),
    )
    docs["v2"] = deposit(
        martin,
        "2024-04-15",
        content=make_pdf("v2"),
        title="Lettre de liaison corrigée",
        type_code="11490-0",
        service_date=date(2024, 1, 10),
        replaces_id=docs["v1"].pk,
    )
    docs["old"] = deposit(
        martin,
        "2024-05-01",
        content=make_pdf("old"),
        title="Ancienne consultation",
        type_code="11488-4",
        service_date=date(2024, 4, 30),
    )
    actions.document_set_archived(actor=martin, document_id=docs["old"].pk, archived=True)
    return docs


@pytest.fixture
def api(fhir_client_for, dr_martin):
    return fhir_client_for(dr_martin)


def found(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = fhir_json(response, "Bundle")
    assert body["type"] == "searchset"
    return [e["resource"]["id"] for e in body.get("entry", [])]


def ids(dossier, *names) -> list[str]:
    return [str(dossier[n].pk) for n in names]


def search(api, camille, **params):
    return found(api.get("/fhir/DocumentReference", patient=str(camille.pk), **params))


# --- required parameters, GET and POST --------------------------------------------------------


def test_current_documents_newest_first(api, camille, dossier):
    assert search(api, camille, status="current") == ids(
        dossier, "v2", "hospital", "patient", "soins", "ald"
    )


def test_post_search_gives_the_same_answer(api, camille, dossier):
    response = api.post_form(
        "/fhir/DocumentReference/_search",
        {"patient": f"Patient/{camille.pk}", "status": "current", "category": "10"},
    )
    assert found(response) == ids(dossier, "v2", "hospital", "soins")
    # As FHIR clients send it: form-urlencoded, parameters also in the query string.
    response = api.client.post(
        f"/fhir/DocumentReference/_search?patient={camille.pk}",
        "status=current&type=http%3A%2F%2Floinc.org%7C11490-0",
        content_type="application/x-www-form-urlencoded",
        headers=api._headers(None),
    )
    assert found(response) == ids(dossier, "v2")
    json_body = api.post("/fhir/DocumentReference/_search", {"status": "current"})
    assert json_body.status_code == 415


def test_status_and_patient_are_required(api, camille, dossier):
    response = api.get("/fhir/DocumentReference", patient=str(camille.pk))
    assert response.status_code == 400
    assert issue_codes(response) == ["required"]
    assert fhir_json(response)["issue"][0]["expression"] == ["status"]
    response = api.get("/fhir/DocumentReference", status="current")
    assert response.status_code == 400
    assert fhir_json(response)["issue"][0]["expression"] == ["patient"]


def test_the_patient_in_every_form(api, camille, dossier):
    expected = search(api, camille, status="current")
    for value in (f"Patient/{camille.pk}", f"http://testserver/fhir/Patient/{camille.pk}"):
        assert (
            found(api.get("/fhir/DocumentReference", patient=value, status="current")) == expected
        )
    by_ins = api.get(
        "/fhir/DocumentReference",
        **{"patient.identifier": f"{INS_NIR_SYSTEM}|{camille.ins}", "status": "current"},
    )
    assert found(by_ins) == expected


def test_patient_and_a_different_ins_find_nothing(api, camille, bob, dossier):
    response = api.get(
        "/fhir/DocumentReference",
        **{
            "patient": str(camille.pk),
            "patient.identifier": f"{INS_NIR_SYSTEM}|{bob.ins}",
            "status": "current",
        },
    )
    assert found(response) == []


# --- status and archive -----------------------------------------------------------------------


def test_superseded_versions_on_demand(api, camille, dossier):
    assert search(api, camille, status="superseded") == ids(dossier, "v1")
    both = search(api, camille, status="current,superseded", category="10", type="11490-0")
    assert both == ids(dossier, "v2", "v1")


def test_archived_documents_only_with_is_archived(api, camille, dossier):
    assert search(api, camille, status="current", isArchived="true") == ids(dossier, "old")
    everything = search(api, camille, status="current", isArchived="true,false")
    assert everything[0] == str(dossier["old"].pk) and len(everything) == 6


# --- tokens -----------------------------------------------------------------------------------


def test_category(api, camille, dossier):
    assert search(api, camille, status="current", category=f"{systems.TRE_A03}|44") == ids(
        dossier, "ald"
    )
    assert search(api, camille, status="current", category="http://loinc.org|44") == []


def test_type_with_or_without_system(api, camille, dossier):
    assert search(api, camille, status="current", type="http://loinc.org|11490-0") == ids(
        dossier, "v2"
    )
    assert search(api, camille, status="current", type="11506-3,34112-3") == ids(
        dossier, "hospital", "soins"
    )
    ans = "https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"
    assert search(api, camille, status="current", type=f"{ans}|PROT_ALD") == ids(dossier, "ald")
    assert search(api, camille, status="current", type=f"{systems.TRE_A05}|11490-0") == []


def test_format(api, camille, dossier):
    text = search(api, camille, status="current", format="urn:ihe:iti:xds-sd:text:2008")
    assert text == ids(dossier, "patient")


def test_security_label(api, camille, dr_martin, dossier):
    assert search(api, camille, status="current", **{"security-label": "MASQUE_PS"}) == ids(
        dossier, "ald"
    )
    assert search(api, camille, status="current", **{"security-label:not": "MASQUE_PS"}) == ids(
        dossier, "v2", "hospital", "patient", "soins"
    )
    assert len(search(api, camille, status="current", **{"security-label": "N"})) == 5
    hidden = actions.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Résultat à annoncer",
        type_code="11502-2",
        hidden_from_patient=True,
    )
    label = f"{systems.TRE_A07}|INVISIBLE_PATIENT"
    assert search(api, camille, status="current", **{"security-label": label}) == [str(hidden.pk)]


def test_setting_and_facility(api, camille, dossier):
    assert search(api, camille, status="current", setting="ETABLISSEMENT") == ids(
        dossier, "hospital"
    )
    assert search(api, camille, status="current", setting="EXP_PATIENT") == ids(dossier, "patient")
    assert search(api, camille, status="current", setting="AMBULATOIRE") == ids(
        dossier, "v2", "soins", "ald"
    )
    assert search(api, camille, status="current", facility=f"{systems.TRE_R02}|SA01") == ids(
        dossier, "hospital"
    )
    assert search(api, camille, status="current", facility="SA07") == ids(
        dossier, "v2", "soins", "ald"
    )


CCAM = "urn:oid:1.2.250.1.213.2.5"


@pytest.fixture
def coded(camille, dr_martin, dossier):
    """Two documents of Dr Martin carrying eventCodeList / referenceIdList values."""
    with at("2024-05-10"):
        echo = actions.document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=make_pdf("echo"),
            title="Échographie",
            type_code="11488-4",
            event_codes=[(CCAM, "ZCQM001"), ("", "ECHO")],
            reference_ids=["CMD-42", "urn:oid:1.2.3"],
        )
    with at("2024-05-11"):
        scan = actions.document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=make_pdf("scan"),
            title="Scanner",
            type_code="11488-4",
            event_codes=[(CCAM, "ZBQK002")],
            reference_ids=["CMD-43"],
        )
    return {"echo": str(echo.pk), "scan": str(scan.pk)}


def test_event_code_with_or_without_system(api, camille, coded):
    assert search(api, camille, status="current", event=f"{CCAM}|ZCQM001") == [coded["echo"]]
    assert search(api, camille, status="current", event="ZCQM001") == [coded["echo"]]
    assert search(api, camille, status="current", event="|ECHO") == [coded["echo"]]
    assert search(api, camille, status="current", event=f"{CCAM}|ZCQM001,ZBQK002") == [
        coded["scan"],
        coded["echo"],
    ]
    assert len(search(api, camille, status="current", **{"event:not": "ZBQK002"})) == 6


def test_event_code_not_found(api, camille, coded):
    assert search(api, camille, status="current", event="http://snomed.info/sct|ZCQM001") == []
    assert search(api, camille, status="current", event=f"{CCAM}|ECHO") == []
    assert search(api, camille, status="current", event="ZCQM00") == []  # no partial match
    assert search(api, camille, status="current", event="ZCQM001^x") == []


def test_related_identifier(api, camille, coded):
    assert search(api, camille, status="current", related="CMD-42") == [coded["echo"]]
    assert search(api, camille, status="current", related="urn:oid:1.2.3") == [coded["echo"]]
    assert search(api, camille, status="current", related="CMD-42,CMD-43") == [
        coded["scan"],
        coded["echo"],
    ]
    assert search(api, camille, status="current", related="CMD-4") == []
    assert search(api, camille, status="current", related="CMD-44") == []


def test_identifier_and_id(api, camille, dossier):
    ald = dossier["ald"]
    assert search(api, camille, status="current", identifier="urn:oid:1.2.250.1.999.67.2") == ids(
        dossier, "ald"
    )
    assert search(
        api, camille, status="current", identifier=f"{systems.RFC3986}|urn:uuid:{ald.pk}"
    ) == ids(dossier, "ald")
    assert search(api, camille, status="current", _id=f"{ald.pk},{dossier['v2'].pk}") == ids(
        dossier, "v2", "ald"
    )


# --- dates and strings ------------------------------------------------------------------------


def test_date_and_last_updated(api, camille, dossier):
    assert search(api, camille, status="current", date="2024-03") == ids(
        dossier, "patient", "soins"
    )
    assert search(api, camille, status="current", date="lt2024-03-01") == ids(dossier, "ald")
    assert search(api, camille, status="current", _lastUpdated="ge2024-04-01") == ids(
        dossier, "v2", "hospital"
    )


def test_creation(api, camille, dossier):
    assert search(api, camille, status="current", creation="le2024-02-28") == ids(dossier, "ald")


def test_period_repeated_is_an_and(api, camille, dossier):
    response = api.client.get(
        "/fhir/DocumentReference?"
        f"patient={camille.pk}&status=current&period=ge2024-03-01&period=le2024-03-27",
        headers=api._headers(None),
    )
    assert found(response) == ids(dossier, "patient", "soins")
    assert search(api, camille, status="current", period="2024-03-09") == ids(dossier, "patient")


def test_author_names(api, camille, dossier):
    assert search(api, camille, status="current", **{"author.family": "mart"}) == ids(
        dossier, "v2", "ald"
    )
    assert search(api, camille, status="current", **{"author.given": "JUL"}) == ids(
        dossier, "soins"
    )
    assert search(api, camille, status="current", **{"author.family:exact": "Mart"}) == []
    assert search(api, camille, status="current", **{"author.family:contains": "rdi"}) == ids(
        dossier, "hospital"
    )
    assert search(api, camille, status="current", **{"author.family": "Lef"}) == ids(
        dossier, "patient"
    )


def test_bad_values_are_400(api, camille, dossier):
    for params in ({"date": "hier"}, {"_count": "x"}, {"type:text": "lettre"}, {"_sort": "title"}):
        response = api.get(
            "/fhir/DocumentReference", patient=str(camille.pk), status="current", **params
        )
        assert response.status_code == 400, params
        assert fhir_json(response, "OperationOutcome")


def test_unknown_parameters_are_ignored(api, camille, dossier):
    response = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", inconnu="1"
    )
    assert len(found(response)) == 5
    assert "inconnu" not in fhir_json(response)["link"][0]["url"]


# --- paging and sorting -----------------------------------------------------------------------


def test_next_links_walk_every_page(api, camille, dossier):
    response = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", _count="2"
    )
    seen = []
    pages = 0
    while True:
        body = fhir_json(response, "Bundle")
        assert body["total"] == 5
        seen += [e["resource"]["id"] for e in body.get("entry", [])]
        pages += 1
        links = {link["relation"]: link["url"] for link in body["link"]}
        assert links["self"].startswith("http://testserver/fhir/DocumentReference?")
        if "next" not in links:
            break
        url = urlsplit(links["next"])
        response = api.client.get(f"{url.path}?{url.query}", headers=api._headers(None))
    assert pages == 3
    assert seen == ids(dossier, "v2", "hospital", "patient", "soins", "ald")
    assert "previous" in links and "first" in links


def test_count_zero_and_cap(api, camille, dossier):
    body = fhir_json(
        api.get("/fhir/DocumentReference", patient=str(camille.pk), status="current", _count="0")
    )
    assert body["total"] == 5
    assert "entry" not in body
    response = api.get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", _count="1000"
    )
    assert "_count=100" in fhir_json(response)["link"][0]["url"]


def test_sort_by_period(api, camille, dossier):
    assert search(api, camille, status="current", _sort="period") == ids(
        dossier, "v2", "ald", "soins", "patient", "hospital"
    )
    assert search(api, camille, status="current", _sort="-period")[0] == str(dossier["hospital"].pk)


# --- traces and refusals ----------------------------------------------------------------------


def test_each_search_is_traced_with_its_mode(api, camille, dr_martin, dossier):
    before = Trace.objects.filter(action=TraceAction.CONSULT_DOSSIER).count()
    search(api, camille, status="current")
    api.post_form(
        "/fhir/DocumentReference/_search", {"patient": str(camille.pk), "status": "current"}
    )
    rows = Trace.objects.filter(action=TraceAction.CONSULT_DOSSIER).order_by("pk")[before:]
    assert [(r.actor_id, r.outcome, r.access_mode, r.patient_id) for r in rows] == [
        (dr_martin.national_id, TraceOutcome.ALLOWED, "normal", camille.pk)
    ] * 2


def test_the_nurse_does_not_see_what_is_masked(fhir_client_for, camille, ide_bernard, dossier):
    api = fhir_client_for(ide_bernard)
    assert str(dossier["ald"].pk) not in search(api, camille, status="current")
    assert search(api, camille, status="current", **{"security-label": "MASQUE_PS"}) == []


def test_an_unknown_patient_is_404(api, dossier):
    response = api.get(
        "/fhir/DocumentReference", patient="7d5bb8ac-68ee-4926-85e7-b8aac8e1f09d", status="current"
    )
    assert response.status_code == 404
    assert issue_codes(response) == ["not-found"]

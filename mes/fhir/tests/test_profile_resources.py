"""Vaccinations (Immunization) and « Entourage et volontés » (RelatedPerson) through the FHIR API,
as practice software meets them: who reads, who is refused (404, indistinguishable from
unknown), who records and confirms a vaccination — and the trace each call leaves, with its
access mode."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fhir.resources.R4B.immunization import Immunization
from fhir.resources.R4B.relatedperson import RelatedPerson

from mes.access.actors import AccessMode, citizen_actor
from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, make_professional, pro
from mes.fhir.core.access import (
    SCOPE_BINARY_READ,
    SCOPE_DOCUMENT_READ,
    SCOPE_DOCUMENT_WRITE,
    SCOPE_IMMUNIZATION_READ,
    SCOPE_IMMUNIZATION_WRITE,
    SCOPE_PATIENT_READ,
    SCOPE_RELATED_PERSON_READ,
)
from mes.fhir.resources.metadata import EXT_TRUSTED_PERSON, EXT_VACCINATION_CONFIRMATION
from mes.fhir.tests.conftest import ALL_DATA_SCOPES, INS_NIR_SYSTEM, fhir_json, issue_codes
from mes.lib.errors import InvalidInput
from mes.medical_profile.models import Contact
from mes.notifications.models import Notification
from mes.records import actions as records
from mes.vaccinations import actions as vaccinations
from mes.vaccinations.fhir import IDNAT_PS_SYSTEM, VACCINE_SYSTEM
from mes.vaccinations.models import Vaccination

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
PROFILE_SCOPES = (
    *ALL_DATA_SCOPES,
    SCOPE_IMMUNIZATION_READ,
    SCOPE_IMMUNIZATION_WRITE,
    SCOPE_RELATED_PERSON_READ,
)
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
TRE_R260 = "https://mos.esante.gouv.fr/NOS/TRE_R260-HL7RoleClass/FHIR/TRE-R260-HL7RoleClass"


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api_for(fhir_client_for):
    """A practice-software client whose token carries the profile scopes too."""

    def make(who, **kwargs):
        kwargs.setdefault("scopes", PROFILE_SCOPES)
        return fhir_client_for(who, **kwargs)

    return make


@pytest.fixture
def hpv(camille):
    """Recorded by Camille herself: editable by her until a professional confirms it."""
    return vaccinations.vaccination_add(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        vaccine_code="GARDASIL_9",
        vaccination_date=date(2003, 5, 12),
        kind=Vaccination.Kind.FIRST,
    )


@pytest.fixture
def rappel(camille, dr_martin):
    """Recorded by her médecin traitant."""
    return vaccinations.vaccination_record_by_professional(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        vaccine_code="BOOSTRIXTETRA",
        vaccination_date=date(2025, 10, 6),
        kind=Vaccination.Kind.BOOSTER,
        lot="AB12",
        dose_number=1,
    )


@pytest.fixture
def hugo(camille):
    """Her partner: personne de confiance and contact d'urgence."""
    return Contact.objects.create(
        patient=camille,
        added_by=camille.display_name,
        last_name="Lefèvre",
        first_name="Hugo",
        link=Contact.Link.PARTNER,
        phone1="0639980199",
        email="hugo@example.org",
        address="3 rue des Lilas",
        postal_code="75015",
        city="Paris",
        is_trusted=True,
        is_emergency=True,
    )


@pytest.fixture
def mireille(camille):
    """Her mother, whom she helps (proche aidée)."""
    return Contact.objects.create(
        patient=camille,
        added_by=camille.display_name,
        last_name="Lefèvre",
        first_name="Mireille",
        link=Contact.Link.MOTHER,
        phone1="0145000000",
        phone2="0611223344",
        address="8 avenue Foch",
        postal_code="69006",
        city="Lyon",
        country="France",
        is_helped=True,
    )


@pytest.fixture
def profile(hpv, rappel, hugo, mireille):
    """Camille's carnet and entourage; the traces their making wrote are set aside."""
    return {"hpv": hpv, "rappel": rappel, "hugo": hugo, "mireille": mireille}


def traces_of(professional) -> list[tuple[str, str, str]]:
    rows = Trace.objects.filter(actor_id=professional.national_id).order_by("pk")
    return [(r.action, r.outcome, r.access_mode) for r in rows]


def reads(api, camille, profile) -> list[int]:
    """The four reads: the carnet, one vaccination, the entourage, one contact."""
    return [
        api.get("/fhir/Immunization", patient=str(camille.pk)).status_code,
        api.get(f"/fhir/Immunization/{profile['rappel'].pk}").status_code,
        api.get("/fhir/RelatedPerson", patient=str(camille.pk)).status_code,
        api.get(f"/fhir/RelatedPerson/{profile['hugo'].pk}").status_code,
    ]


ALLOWED_READS = [
    (TraceAction.CONSULT_VACCINATIONS, TraceOutcome.ALLOWED),
    (TraceAction.CONSULT_VACCINATIONS, TraceOutcome.ALLOWED),
    (TraceAction.CONSULT_ENTOURAGE, TraceOutcome.ALLOWED),
    (TraceAction.CONSULT_ENTOURAGE, TraceOutcome.ALLOWED),
]
REFUSED_READS = [(action, TraceOutcome.REFUSED) for action, _ in ALLOWED_READS]


def entries(response, resource_type: str) -> list[dict]:
    """The resources of a searchset, each validated against its R4 model."""
    assert response.status_code == 200, response.content
    bundle = fhir_json(response, "Bundle")
    assert bundle["type"] == "searchset"
    resources = [e["resource"] for e in bundle.get("entry", [])]
    model = {"Immunization": Immunization, "RelatedPerson": RelatedPerson}[resource_type]
    for resource in resources:
        assert resource["resourceType"] == resource_type
        model.model_validate(resource)
    assert bundle["total"] == len(resources)
    return resources


def immunization(**extra):
    resource = {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": VACCINE_SYSTEM, "code": "VAXIGRIPTETRA"}]},
        "occurrenceDateTime": "2026-11-20",
        "lotNumber": "FLU-2026-77",
    }
    resource.update(extra)
    return resource


# --- reading ----------------------------------------------------------------------------------


def test_an_authorised_nurse_reads_the_carnet(api_for, camille, ide_bernard, profile):
    api = api_for(ide_bernard)
    carnet = entries(api.get("/fhir/Immunization", patient=str(camille.pk)), "Immunization")
    assert [r["id"] for r in carnet] == [str(profile["rappel"].pk), str(profile["hpv"].pk)]
    rappel, hpv = carnet
    assert rappel["patient"]["reference"] == f"Patient/{camille.pk}"
    assert rappel["patient"]["identifier"]["value"] == camille.ins
    assert rappel["primarySource"] is True and rappel["lotNumber"] == "AB12"
    assert hpv["primarySource"] is False and "reportOrigin" in hpv
    by_ins = api.get(
        "/fhir/Immunization", **{"patient.identifier": f"{INS_NIR_SYSTEM}|{camille.ins}"}
    )
    assert [r["id"] for r in entries(by_ins, "Immunization")] == [r["id"] for r in carnet]
    one = api.get(f"/fhir/Immunization/{profile['hpv'].pk}")
    assert fhir_json(one, "Immunization")["id"] == str(profile["hpv"].pk)
    assert (
        traces_of(ide_bernard)
        == [(TraceAction.CONSULT_VACCINATIONS, TraceOutcome.ALLOWED, "normal")] * 3
    )


def test_the_carnet_search_narrows_by_date_and_vaccine(api_for, camille, ide_bernard, profile):
    api = api_for(ide_bernard)

    def found(**params):
        response = api.get("/fhir/Immunization", patient=str(camille.pk), **params)
        return [r["id"] for r in entries(response, "Immunization")]

    rappel, hpv = str(profile["rappel"].pk), str(profile["hpv"].pk)
    assert found(date="ge2025") == [rappel]
    assert found(date="2003-05-12") == [hpv]
    assert found(date="lt2000") == []
    assert found(**{"vaccine-code": f"{VACCINE_SYSTEM}|GARDASIL_9"}) == [hpv]
    assert found(**{"vaccine-code": "http://www.whocc.no/atc|J07CA02"}) == [rappel]
    bad = api.get("/fhir/Immunization", patient=str(camille.pk), date="hier")
    assert bad.status_code == 400 and issue_codes(bad) == ["value"]


def test_an_authorised_nurse_reads_the_entourage(api_for, camille, ide_bernard, profile):
    api = api_for(ide_bernard)
    people = entries(api.get("/fhir/RelatedPerson", patient=str(camille.pk)), "RelatedPerson")
    by_name = {p["name"][0]["given"][0]: p for p in people}
    assert set(by_name) == {"Hugo", "Mireille"}
    hugo, mireille = by_name["Hugo"], by_name["Mireille"]
    assert hugo["patient"]["reference"] == f"Patient/{camille.pk}"
    assert hugo["extension"] == [{"url": EXT_TRUSTED_PERSON, "valueBoolean": True}]
    assert mireille["extension"] == [{"url": EXT_TRUSTED_PERSON, "valueBoolean": False}]
    codes = {(c["system"], c["code"]) for r in hugo["relationship"] for c in r["coding"]}
    assert (V3_ROLE_CODE, "SIGOTHR") in codes  # conjoint(e)
    assert (TRE_R260, "NOK") in codes  # personne de confiance
    assert (V3_ROLE_CODE, "ECON") in codes and (TRE_R260, "ECON") in codes
    assert [r["text"] for r in hugo["relationship"]] == [
        "Conjoint(e)/Partenaire",
        "Contact d'urgence",
        "Personne de confiance",
    ]
    assert hugo["telecom"] == [
        {"system": "phone", "value": "0639980199", "rank": 1},
        {"system": "email", "value": "hugo@example.org"},
    ]
    assert mireille["address"] == [
        {
            "use": "home",
            "type": "postal",
            "line": ["8 avenue Foch"],
            "postalCode": "69006",
            "city": "Lyon",
            "country": "France",
        }
    ]
    assert [r["text"] for r in mireille["relationship"]] == ["Mère", "Proche aidé"]
    one = api.get(f"/fhir/RelatedPerson/{profile['hugo'].pk}")
    RelatedPerson.model_validate(fhir_json(one, "RelatedPerson"))
    trusted = api.get(
        "/fhir/RelatedPerson", patient=str(camille.pk), relationship=f"{TRE_R260}|NOK"
    )
    assert [p["id"] for p in entries(trusted, "RelatedPerson")] == [str(profile["hugo"].pk)]
    mothers = api.get("/fhir/RelatedPerson", patient=str(camille.pk), relationship="MTH,FTH")
    assert [p["id"] for p in entries(mothers, "RelatedPerson")] == [str(profile["mireille"].pk)]
    assert (
        traces_of(ide_bernard)
        == [(TraceAction.CONSULT_ENTOURAGE, TraceOutcome.ALLOWED, "normal")] * 4
    )
    titles = set(
        Trace.objects.filter(actor_id=ide_bernard.national_id).values_list(
            "document_title", flat=True
        )
    )
    assert titles == {"Entourage"}  # the rubric, never a contact's name


def test_the_directives_anticipees_are_found_as_documents(api_for, camille, ide_bernard):
    """No resource of their own: an EXPPAT_3 document, found with ITI-67 like any other."""
    directives = records.document_deposit(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        content=make_pdf("Mes directives anticipées"),
        title="Directives anticipées",
        category="DIR_ANT",
        generated=True,
    )
    response = api_for(ide_bernard).get(
        "/fhir/DocumentReference", patient=str(camille.pk), status="current", type="EXPPAT_3"
    )
    assert [e["resource"]["id"] for e in fhir_json(response, "Bundle")["entry"]] == [
        str(directives.pk)
    ]


def test_a_search_names_its_patient(api_for, camille, ide_bernard):
    api = api_for(ide_bernard)
    for path in ("/fhir/Immunization", "/fhir/RelatedPerson"):
        response = api.get(path)
        assert response.status_code == 400 and issue_codes(response) == ["required"]
        wrong = api.get(path, **{"patient.identifier": "urn:oid:1.2.3|123"})
        assert wrong.status_code == 400 and issue_codes(wrong) == ["value"]
        twice = api.get(f"{path}?patient={camille.pk}&patient={camille.pk}")
        assert twice.status_code == 400 and issue_codes(twice) == ["value"]
    assert not Trace.objects.filter(actor_id=ide_bernard.national_id).exists()


def test_patient_and_its_ins_must_agree(api_for, camille, bob, ide_bernard, profile):
    api = api_for(ide_bernard)
    for path, resource_type in (
        ("/fhir/Immunization", "Immunization"),
        ("/fhir/RelatedPerson", "RelatedPerson"),
    ):
        response = api.get(
            path, patient=str(camille.pk), **{"patient.identifier": f"{INS_NIR_SYSTEM}|{bob.ins}"}
        )
        assert entries(response, resource_type) == []


def test_an_unknown_patient_or_resource_is_not_found(api_for, ide_bernard, camille):
    api = api_for(ide_bernard)
    unknown = "00000000-0000-4000-8000-000000000001"
    assert api.get("/fhir/Immunization", patient=unknown).status_code == 404
    assert api.get(f"/fhir/Immunization/{unknown}").status_code == 404
    assert api.get("/fhir/RelatedPerson", patient=unknown).status_code == 404
    response = api.get(f"/fhir/RelatedPerson/{unknown}")
    assert response.status_code == 404 and issue_codes(response) == ["not-found"]
    assert api.get("/fhir/RelatedPerson/pas-un-uuid").status_code == 404
    assert [r[1] for r in traces_of(ide_bernard)] == [TraceOutcome.REFUSED] * 4


# --- denials ----------------------------------------------------------------------------------


def test_a_professional_without_authorisation(api_for, camille, dr_durand, profile):
    api = api_for(dr_durand)
    assert reads(api, camille, profile) == [404] * 4
    assert traces_of(dr_durand) == [(a, o, "normal") for a, o in REFUSED_READS]
    reasons = set(
        Trace.objects.filter(actor_id=dr_durand.national_id).values_list("reason", flat=True)
    )
    assert reasons == {"aucune autorisation d'accès"}
    body = api.get("/fhir/Immunization", patient=str(camille.pk))
    assert (
        fhir_json(body, "OperationOutcome")["issue"][0]["diagnostics"] == "Ressource introuvable."
    )


def test_a_blocked_professional(api_for, camille, ide_bernard, profile):
    ProfessionalAccess.objects.filter(patient=camille, professional=ide_bernard).update(
        status=ProfessionalAccess.Status.BLOCKED
    )
    api = api_for(ide_bernard)
    assert reads(api, camille, profile) == [404] * 4
    response = api.post(
        "/fhir/Immunization", immunization(patient={"reference": f"Patient/{camille.pk}"})
    )
    assert response.status_code == 404
    assert Vaccination.objects.filter(patient=camille).count() == 2
    assert traces_of(ide_bernard) == [(a, o, "normal") for a, o in REFUSED_READS] + [
        (TraceAction.ADD_VACCINATION, TraceOutcome.REFUSED, "normal")
    ]
    reasons = set(
        Trace.objects.filter(actor_id=ide_bernard.national_id).values_list("reason", flat=True)
    )
    assert reasons == {"professionnel bloqué par l'usager"}


def test_break_glass_opens_the_carnet_and_the_entourage(api_for, camille, dr_durand, profile):
    api = api_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Inconsciente, SAU")
    assert reads(api, camille, profile) == [200] * 4
    assert traces_of(dr_durand) == [
        (TraceAction.BREAK_GLASS, TraceOutcome.ALLOWED, "bris_de_glace"),
        *[(a, o, "bris_de_glace") for a, o in ALLOWED_READS],
    ]
    opening = Trace.objects.get(action=TraceAction.BREAK_GLASS)
    assert opening.justification == "Inconsciente, SAU"
    assert camille.notifications.filter(code=Notification.Code.BREAK_GLASS).count() == 1


def test_break_glass_on_a_patient_who_opposed_it(api_for, camille, dr_durand, profile):
    PrivacySettings.objects.filter(patient=camille).update(oppose_break_glass=True)
    api = api_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Inconsciente")
    assert reads(api, camille, profile) == [404] * 4
    refused = Trace.objects.filter(actor_id=dr_durand.national_id)
    assert {(r.action, r.outcome, r.access_mode, r.reason) for r in refused} == {
        (
            TraceAction.BREAK_GLASS,
            TraceOutcome.REFUSED,
            "bris_de_glace",
            "l'usager s'est opposé au bris de glace",
        )
    }
    assert refused.count() == 4
    assert not camille.notifications.filter(code=Notification.Code.BREAK_GLASS).exists()


def test_centre_15(api_for, camille, regulateur_samu, profile):
    api = api_for(regulateur_samu, mode=AccessMode.CENTRE_15)
    assert reads(api, camille, profile) == [200] * 4
    assert traces_of(regulateur_samu) == [
        (TraceAction.CENTRE_15, TraceOutcome.ALLOWED, "centre_15"),
        *[(a, o, "centre_15") for a, o in ALLOWED_READS],
    ]


def test_the_assurance_maladie_may_not_read_nor_write(
    api_for, assurance_maladie_org, camille, profile
):
    api = api_for(assurance_maladie_org)
    responses = [
        api.get("/fhir/Immunization", patient=str(camille.pk)),
        api.get(f"/fhir/Immunization/{profile['rappel'].pk}"),
        api.get("/fhir/RelatedPerson", patient=str(camille.pk)),
        api.get(f"/fhir/RelatedPerson/{profile['hugo'].pk}"),
        api.post(
            "/fhir/Immunization", immunization(patient={"reference": f"Patient/{camille.pk}"})
        ),
        api.post(f"/fhir/Immunization/{profile['hpv'].pk}/$confirmer"),
    ]
    assert [r.status_code for r in responses] == [403] * 6
    assert all(issue_codes(r) == ["forbidden"] for r in responses)
    # Each attempt is on record in the system chain; nothing reached Camille's dossier.
    attempts = Trace.objects.filter(actor_id=assurance_maladie_org.national_id)
    assert {(t.chain, t.outcome) for t in attempts} == {("system", TraceOutcome.REFUSED)}
    assert attempts.count() == 6
    assert Vaccination.objects.filter(patient=camille).count() == 2


def test_no_token_and_missing_scopes(client, api_for, camille, ide_bernard, profile):
    response = client.get("/fhir/Immunization", {"patient": str(camille.pk)})
    assert response.status_code == 401 and issue_codes(response) == ["login"]
    documents_only = api_for(
        ide_bernard,
        scopes=[SCOPE_PATIENT_READ, SCOPE_DOCUMENT_READ, SCOPE_DOCUMENT_WRITE, SCOPE_BINARY_READ],
    )
    for response in (
        documents_only.get("/fhir/Immunization", patient=str(camille.pk)),
        documents_only.get("/fhir/RelatedPerson", patient=str(camille.pk)),
        documents_only.post("/fhir/Immunization", immunization()),
    ):
        assert response.status_code == 403
        assert "insufficient_scope" in response["WWW-Authenticate"]
    readonly = api_for(ide_bernard, scopes=[SCOPE_PATIENT_READ, SCOPE_IMMUNIZATION_READ])
    assert readonly.get("/fhir/Immunization", patient=str(camille.pk)).status_code == 200
    assert readonly.post(f"/fhir/Immunization/{profile['hpv'].pk}/$confirmer").status_code == 403
    assert not Trace.objects.filter(action=TraceAction.CONSULT_ENTOURAGE).exists()


def test_json_or_xml_and_the_methods_offered(api_for, camille, ide_bernard, profile):
    api = api_for(ide_bernard)
    xml = api.get(
        "/fhir/Immunization", patient=str(camille.pk), headers={"Accept": "application/fhir+xml"}
    )
    assert xml.status_code == 200 and xml.content.startswith(b"<?xml")
    turtle = api.get("/fhir/Immunization", patient=str(camille.pk), _format="ttl")
    assert turtle.status_code == 406 and issue_codes(turtle) == ["not-supported"]
    put = api.put(f"/fhir/Immunization/{profile['rappel'].pk}", immunization())
    assert put.status_code == 405 and put["Allow"] == "GET"
    delete = api.delete("/fhir/Immunization")
    assert delete.status_code == 405 and delete["Allow"] == "GET, POST"
    assert api.post("/fhir/RelatedPerson", {}).status_code == 405


# --- recording a vaccination -----------------------------------------------------------------


def test_the_treating_physician_records_a_vaccination(api_for, camille, dr_martin):
    api = api_for(dr_martin)
    response = api.post(
        "/fhir/Immunization",
        immunization(
            patient={"reference": f"Patient/{camille.pk}"},
            protocolApplied=[{"doseNumberPositiveInt": 1}],
            note=[{"text": "Campagne de grippe 2026-2027."}],
        ),
    )
    assert response.status_code == 201, response.content
    body = fhir_json(response, "Immunization")
    Immunization.model_validate(body)
    assert response["Location"] == f"http://testserver/fhir/Immunization/{body['id']}"
    stored = Vaccination.objects.get(pk=body["id"])
    assert stored.source == Vaccination.Source.PROFESSIONAL
    assert stored.author_professional == dr_martin and stored.vaccinator == dr_martin
    assert (stored.vaccine_code, stored.date, stored.lot) == (
        "VAXIGRIPTETRA",
        date(2026, 11, 20),
        "FLU-2026-77",
    )
    assert stored.comment == "Campagne de grippe 2026-2027." and stored.dose_number == 1
    assert stored.read_only
    assert body["primarySource"] is True
    assert body["performer"][0]["actor"]["identifier"] == {
        "system": IDNAT_PS_SYSTEM,
        "value": dr_martin.national_id,
    }
    [notice] = camille.notifications.filter(code=Notification.Code.NEW_VACCINATION)
    assert "Anne Martin" in notice.label and "Vaccinations" in notice.label
    assert traces_of(dr_martin) == [(TraceAction.ADD_VACCINATION, TraceOutcome.ALLOWED, "normal")]
    # Read-only for the citizen side: neither edited nor deleted (and the refusal is traced).
    camille_actor = citizen_actor(camille)
    with pytest.raises(InvalidInput, match="ne pouvez pas supprimer"):
        vaccinations.vaccination_delete(actor=camille_actor, vaccination_id=stored.pk)
    with pytest.raises(InvalidInput, match="ne pouvez pas modifier"):
        vaccinations.vaccination_update(
            actor=camille_actor,
            vaccination_id=stored.pk,
            vaccine_code="VAXIGRIPTETRA",
            vaccination_date=date(2026, 11, 1),
            kind=Vaccination.Kind.UNKNOWN,
        )
    assert Vaccination.objects.get(pk=stored.pk).date == date(2026, 11, 20)
    refused = Trace.objects.filter(actor_id=camille.ins, outcome=TraceOutcome.REFUSED)
    assert {r.action for r in refused} == {
        TraceAction.DELETE_VACCINATION,
        TraceAction.UPDATE_VACCINATION,
    }


def test_a_vaccination_by_ins_given_by_a_colleague(api_for, camille, dr_martin, ide_bernard):
    """Named by INS; the performer is the nurse who gave it, the doctor records it."""
    api = api_for(dr_martin)
    response = api.post(
        "/fhir/Immunization",
        immunization(
            patient={"identifier": {"system": INS_NIR_SYSTEM, "value": camille.ins}},
            performer=[
                {
                    "actor": {
                        "identifier": {
                            "system": IDNAT_PS_SYSTEM,
                            "value": ide_bernard.national_id,
                        }
                    }
                }
            ],
        ),
    )
    assert response.status_code == 201, response.content
    body = fhir_json(response, "Immunization")
    stored = Vaccination.objects.get(pk=body["id"])
    assert stored.vaccinator == ide_bernard and stored.author_professional == dr_martin
    assert body["primarySource"] is False  # recorded by someone else than who gave it
    unknown = api.post(
        "/fhir/Immunization",
        immunization(
            patient={"reference": f"Patient/{camille.pk}"},
            performer=[
                {"actor": {"identifier": {"system": IDNAT_PS_SYSTEM, "value": "899999999999"}}}
            ],
        ),
    )
    assert unknown.status_code == 422 and issue_codes(unknown) == ["value"]
    assert Vaccination.objects.filter(patient=camille).count() == 1


def test_a_pharmacist_who_vaccinates_needs_no_consent_to_read(api_for, camille, pharmacie_centre):
    """Recording is a deposit (any professional not blocked), reading needs the consent."""
    pharmacist = make_professional(
        "10000000007", "Inès", "Garnier", "21", organisation=pharmacie_centre
    )
    api = api_for(pharmacist)
    created = api.post(
        "/fhir/Immunization", immunization(patient={"reference": f"Patient/{camille.pk}"})
    )
    assert created.status_code == 201
    assert api.get("/fhir/Immunization", patient=str(camille.pk)).status_code == 404
    assert traces_of(pharmacist) == [
        (TraceAction.ADD_VACCINATION, TraceOutcome.ALLOWED, "normal"),
        (TraceAction.CONSULT_VACCINATIONS, TraceOutcome.REFUSED, "normal"),
    ]


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"status": "not-done"}, "value", "Seule une vaccination réalisée"),
        (
            {"vaccineCode": {"coding": [{"system": VACCINE_SYSTEM, "code": "INCONNU"}]}},
            "value",
            "Vaccin inconnu",
        ),
        ({"occurrenceDateTime": "2026-12-01"}, "value", "ne peut pas être dans le futur"),
        ({"occurrenceDateTime": "1980-01-01"}, "value", "postérieure à la date de naissance"),
        ({"occurrenceDateTime": "2024-05"}, "value", "doit être complète"),
        (
            {"occurrenceDateTime": None},
            "required",
            "date de vaccination (occurrenceDateTime) est obligatoire",
        ),
        ({"status": "fait"}, "value", "Seule une vaccination réalisée"),
        ({"occurrenceDateTime": "le 20 novembre"}, "structure", "occurrenceDateTime"),
        ({"vaccineCode": "VAXIGRIPTETRA"}, "structure", "vaccineCode"),
        ({"lotNumber": "L" * 101}, "value", "ne doit pas dépasser 100 caractères"),
        ({"patient": None}, "structure", "non conforme à FHIR R4"),
        ({"patient": {"display": "Camille"}}, "required", "Précisez le patient"),
        (
            {"patient": {"identifier": {"system": "urn:oid:1.2.3", "value": "1"}}},
            "value",
            "Seul l'INS est accepté",
        ),
    ],
)
def test_an_invalid_immunization_stores_nothing(api_for, camille, dr_martin, change, code, words):
    resource = immunization(patient={"reference": f"Patient/{camille.pk}"})
    for key, value in change.items():
        if value is None:
            resource.pop(key)
        else:
            resource[key] = value
    response = api_for(dr_martin).post("/fhir/Immunization", resource)
    assert response.status_code == 422, response.content
    [issue] = fhir_json(response, "OperationOutcome")["issue"]
    assert issue["code"] == code and words in issue["diagnostics"], issue
    assert issue["expression"][0].startswith("Immunization")
    assert not Vaccination.objects.exists()
    assert not camille.notifications.filter(code=Notification.Code.NEW_VACCINATION).exists()
    # Content refused before anything is stored: no trace, as for a rejected MHD bundle.
    assert not Trace.objects.filter(action=TraceAction.ADD_VACCINATION).exists()


def test_a_body_that_is_not_an_immunization(api_for, camille, dr_martin):
    api = api_for(dr_martin)
    text = api.post("/fhir/Immunization", "Immunization", content_type="text/plain")
    assert text.status_code == 415 and issue_codes(text) == ["not-supported"]
    broken = api.post("/fhir/Immunization", "{pas du json")
    assert broken.status_code == 400 and issue_codes(broken) == ["structure"]
    patient = api.post("/fhir/Immunization", {"resourceType": "Patient"})
    assert patient.status_code == 400 and issue_codes(patient) == ["structure"]
    huge = api.post("/fhir/Immunization", immunization(note=[{"text": "x" * 70_000}]))
    assert huge.status_code == 413
    assert not Vaccination.objects.exists()


def test_recording_for_an_unknown_patient_is_not_found(api_for, dr_martin):
    api = api_for(dr_martin)
    response = api.post(
        "/fhir/Immunization",
        immunization(patient={"reference": "Patient/00000000-0000-4000-8000-000000000001"}),
    )
    assert response.status_code == 404 and issue_codes(response) == ["not-found"]
    assert traces_of(dr_martin) == [(TraceAction.ADD_VACCINATION, TraceOutcome.REFUSED, "normal")]


# --- confirming a vaccination the citizen recorded --------------------------------------------


def test_the_treating_physician_confirms_a_citizen_entry(api_for, camille, dr_martin, hpv):
    api = api_for(dr_martin)
    before = fhir_json(api.get(f"/fhir/Immunization/{hpv.pk}"), "Immunization")
    assert all(e["url"] != EXT_VACCINATION_CONFIRMATION for e in before["extension"])
    response = api.post(f"/fhir/Immunization/{hpv.pk}/$confirmer")
    assert response.status_code == 200, response.content
    body = fhir_json(response, "Immunization")
    Immunization.model_validate(body)
    [confirmation] = [e for e in body["extension"] if e["url"] == EXT_VACCINATION_CONFIRMATION]
    parts = {e["url"]: e for e in confirmation["extension"]}
    assert parts["confirmedBy"]["valueReference"]["identifier"]["value"] == dr_martin.national_id
    assert parts["confirmedAt"]["valueDateTime"].startswith("2026-11-24")
    stored = Vaccination.objects.get(pk=hpv.pk)
    assert stored.confirmed_by == dr_martin and stored.read_only
    with pytest.raises(InvalidInput, match="ne pouvez pas supprimer"):
        vaccinations.vaccination_delete(actor=citizen_actor(camille), vaccination_id=hpv.pk)
    assert camille.notifications.filter(code=Notification.Code.NEW_VACCINATION).count() == 1
    again = api.post(f"/fhir/Immunization/{hpv.pk}/$confirmer")
    assert again.status_code == 422 and issue_codes(again) == ["business-rule"]
    assert traces_of(dr_martin) == [
        (TraceAction.CONSULT_VACCINATIONS, TraceOutcome.ALLOWED, "normal"),
        (TraceAction.CONFIRM_VACCINATION, TraceOutcome.ALLOWED, "normal"),
    ]


def test_confirming_needs_to_read_the_carnet(api_for, camille, dr_durand, hpv):
    response = api_for(dr_durand).post(f"/fhir/Immunization/{hpv.pk}/$confirmer")
    assert response.status_code == 404
    assert Vaccination.objects.get(pk=hpv.pk).confirmed_at is None
    assert traces_of(dr_durand) == [
        (TraceAction.CONFIRM_VACCINATION, TraceOutcome.REFUSED, "normal")
    ]


def test_the_break_glass_session_covers_a_recording(api_for, camille, dr_durand):
    """In an emergency mode, the emergency session is opened first, then the recording."""
    api = api_for(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Morsure, SAU")
    response = api.post(
        "/fhir/Immunization",
        immunization(
            patient={"reference": f"Patient/{camille.pk}"},
            vaccineCode={"coding": [{"system": VACCINE_SYSTEM, "code": "REVAXIS"}]},
            occurrenceDateTime=(NOW - timedelta(hours=1)).isoformat(),
        ),
    )
    assert response.status_code == 201, response.content
    assert traces_of(dr_durand) == [
        (TraceAction.BREAK_GLASS, TraceOutcome.ALLOWED, "bris_de_glace"),
        (TraceAction.ADD_VACCINATION, TraceOutcome.ALLOWED, "bris_de_glace"),
    ]


def test_the_capability_statement_declares_both_resources(client):
    cs = fhir_json(client.get("/fhir/metadata"), "CapabilityStatement")
    resources = {r["type"]: r for r in cs["rest"][0]["resource"]}
    immunization_ = resources["Immunization"]
    assert {i["code"] for i in immunization_["interaction"]} == {"read", "search-type", "create"}
    assert {p["name"] for p in immunization_["searchParam"]} == {
        "patient",
        "patient.identifier",
        "date",
        "vaccine-code",
    }
    assert [op["name"] for op in immunization_["operation"]] == ["confirmer"]
    related = resources["RelatedPerson"]
    assert {i["code"] for i in related["interaction"]} == {"read", "search-type"}
    assert {p["name"] for p in related["searchParam"]} == {
        "patient",
        "patient.identifier",
        "relationship",
    }
    documents = {p["name"] for p in resources["DocumentReference"]["searchParam"]}
    assert {"isArchived", "_id", "_lastUpdated", "_sort", "_offset", "_count"} <= documents
    assert "415" in cs["rest"][0]["documentation"] and "406" in cs["rest"][0]["documentation"]

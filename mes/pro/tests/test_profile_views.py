"""« Entourage et volontés » and « Vaccinations » from the Web PS: read only, for whoever may
read the dossier; the directives anticipées and the carnet follow the matrix."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.audit.models import TraceAction, TraceOutcome
from mes.conftest import authorise, make_pdf, make_professional
from mes.medical_profile.models import Contact
from mes.records import actions
from mes.vaccinations.models import Vaccination

from .conftest import body, login_as, open_emergency, traces


def _contact(patient):
    return Contact.objects.create(
        patient=patient,
        added_by=patient.display_name,
        last_name="Lefèvre",
        first_name="Hugo",
        link=Contact.Link.PARTNER,
        phone1="0639980199",
        address="3 rue des Lilas",
        postal_code="75015",
        city="Paris",
        is_trusted=True,
        is_emergency=True,
    )


def _directives(patient):
    return actions.document_deposit(
        actor=citizen_actor(patient),
        patient_id=patient.pk,
        content=make_pdf("Mes directives anticipées"),
        title="Directives anticipées",
        category="DIR_ANT",
        generated=True,
    )


def _url(patient):
    return reverse("pro:entourage", args=[patient.pk])


def test_an_authorised_professional_reads_the_entourage(as_bernard, ide_bernard, camille):
    _contact(camille)
    directives = _directives(camille)
    response = as_bernard.get(_url(camille))
    assert response.status_code == 200
    html = body(response)
    assert "Hugo Lefèvre" in html and "Personne de confiance" in html
    assert "Contact d'urgence" in html and "06 39 98 01 99" in html  # by pairs
    assert reverse("pro:document", args=[directives.pk]) in html
    [read] = traces(camille, TraceAction.CONSULT_ENTOURAGE)
    assert read.outcome == TraceOutcome.ALLOWED and read.actor_id == ide_bernard.national_id


def test_a_dentist_does_not_see_the_directives(client, camille):
    dentist = make_professional("10000000009", "Léa", "Blanc", "40")
    authorise(camille, dentist)
    _directives(camille)
    html = body(login_as(client, dentist).get(_url(camille)))
    assert "Aucune directive anticipée consultable" in html


def test_without_consent_the_entourage_is_not_found(as_durand, camille):
    _contact(camille)
    assert as_durand.get(_url(camille)).status_code == 404
    assert traces(camille, TraceAction.CONSULT_ENTOURAGE)[0].outcome == TraceOutcome.REFUSED


def test_in_an_emergency_the_entourage_is_readable(as_durand, dr_durand, camille):
    _contact(camille)
    open_emergency(as_durand, dr_durand, camille)
    assert "Hugo Lefèvre" in body(as_durand.get(_url(camille)))
    assert traces(camille, TraceAction.CONSULT_ENTOURAGE)[0].access_mode == "bris_de_glace"


def _vaccination(patient):
    now = timezone.now()
    return Vaccination.objects.create(
        patient=patient,
        vaccine_code="REVAXIS",
        vaccine_label="Revaxis",
        date=date(2024, 9, 12),
        kind=Vaccination.Kind.BOOSTER,
        lot="X1234",
        vaccinator_name="Dr Anne Martin",
        source=Vaccination.Source.PATIENT,
        author_label=patient.display_name,
        created_at=now,
        updated_at=now,
    )


def test_an_authorised_professional_reads_the_vaccinations(as_bernard, ide_bernard, camille):
    _vaccination(camille)
    url = reverse("pro:vaccinations", args=[camille.pk])
    html = body(as_bernard.get(url))
    assert "Revaxis" in html and "12/09/2024" in html and "Rappel de vaccination" in html
    assert "X1234" in html
    [read] = traces(camille, TraceAction.CONSULT_VACCINATIONS)
    assert read.outcome == TraceOutcome.ALLOWED and read.actor_id == ide_bernard.national_id
    # The tab is offered on the patient's pages.
    patient_page = body(as_bernard.get(reverse("pro:patient", args=[camille.pk])))
    assert url in patient_page


def test_without_consent_the_vaccinations_are_not_found(as_durand, camille):
    _vaccination(camille)
    url = reverse("pro:vaccinations", args=[camille.pk])
    assert as_durand.get(url).status_code == 404
    assert traces(camille, TraceAction.CONSULT_VACCINATIONS)[0].outcome == TraceOutcome.REFUSED
    assert url not in body(as_durand.get(reverse("pro:patient", args=[camille.pk])))

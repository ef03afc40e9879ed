"""Finding Camille (by INS, by identity traits), her patient page with the professional's
standing (TD0.2), and declaring or withdrawing consent (TD0.3) — with the traces she sees."""

from __future__ import annotations

import uuid
from datetime import date

from django.urls import reverse
from django.utils import timezone

from mes.access.actors import AccessMode
from mes.access.models import ProfessionalAccess
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_citizen
from mes.identity.lookup import MAX_RESULTS
from mes.lib.ins import with_key
from mes.pro.access import EMERGENCY_SESSION_KEY

from .conftest import block, body, open_emergency, traces

HOME = "/pro/"


def _ins_search(client, ins):
    return client.post(HOME, {"recherche": "ins", "ins-ins": ins})


def _traits_search(client, last_name, birth_date, first_name=""):
    return client.post(
        HOME,
        {
            "recherche": "traits",
            "id-last_name": last_name,
            "id-first_name": first_name,
            "id-birth_date": birth_date,
        },
    )


# --- search by INS ------------------------------------------------------------------------


def test_search_by_ins_opens_the_patient_and_is_traced(as_durand, dr_durand, camille):
    spaced = " ".join([camille.ins[:1], camille.ins[1:7], camille.ins[7:]])
    response = _ins_search(as_durand, spaced)
    assert response.status_code == 302
    assert response["Location"] == reverse("pro:patient", args=[camille.pk])
    [found] = traces(camille, TraceAction.SEARCH_PATIENT)
    assert found.outcome == TraceOutcome.ALLOWED
    assert found.actor_id == dr_durand.national_id and found.access_mode == "normal"

    page = as_durand.get(response["Location"])
    assert page.status_code == 200
    assert "Camille Lefèvre" in body(page)
    # The search already traced the identity: opening the page adds nothing.
    assert len(traces(camille, TraceAction.SEARCH_PATIENT)) == 1


def test_a_bad_ins_key_is_refused_in_french(as_durand, camille):
    wrong_key = camille.ins[:13] + ("00" if camille.ins[13:] != "00" else "01")
    response = _ins_search(as_durand, wrong_key)
    assert response.status_code == 200
    html = body(response)
    assert "La clé du numéro INS ne correspond pas" in html
    assert 'aria-invalid="true"' in html
    assert not Trace.objects.filter(action=TraceAction.SEARCH_PATIENT).exists()


def test_a_short_ins_says_how_long_it_must_be(as_durand, db):
    html = body(_ins_search(as_durand, "28505"))
    assert "15 caractères" in html


def test_an_unknown_but_valid_ins_finds_nothing(as_durand, camille):
    response = _ins_search(as_durand, with_key("1990175056099"))
    assert "Aucun dossier ne correspond à ce matricule INS." in body(response)
    assert not Trace.objects.filter(action=TraceAction.SEARCH_PATIENT).exists()


# --- search by identity traits ------------------------------------------------------------


def test_search_by_traits_ignores_case_and_accents(as_durand, dr_durand, camille, bob):
    response = _traits_search(as_durand, "LEFEVRE", "1985-05-14", first_name="cam")
    assert response.status_code == 200
    html = body(response)
    assert "1 patient trouvé" in html and "Camille Lefèvre" in html
    assert reverse("pro:patient", args=[camille.pk]) in html
    assert len(traces(camille, TraceAction.SEARCH_PATIENT)) == 1
    assert not traces(bob, TraceAction.SEARCH_PATIENT)


def test_search_by_traits_needs_the_right_birth_date(as_durand, camille):
    html = body(_traits_search(as_durand, "Lefèvre", "1985-05-15"))
    assert "Aucun patient ne correspond" in html
    assert not traces(camille, TraceAction.SEARCH_PATIENT)


def test_search_by_traits_with_another_first_name_finds_nothing(as_durand, camille):
    html = body(_traits_search(as_durand, "Lef", "1985-05-14", first_name="Julie"))
    assert "Aucun patient ne correspond" in html


def test_search_by_traits_requires_two_letters_and_a_date(as_durand, camille):
    html = body(_traits_search(as_durand, "L", ""))
    assert "Le nom doit compter au moins 2 caractères." in html
    assert "Saisissez la date de naissance du patient." in html
    assert not Trace.objects.filter(action=TraceAction.SEARCH_PATIENT).exists()


def test_a_too_broad_search_lists_no_one(as_durand, db):
    for n in range(MAX_RESULTS + 1):
        make_citizen(
            None,
            first13=f"2850575056{n:03d}",
            first_name="Marie",
            birth_name="Martin",
            birth_date=date(1985, 5, 14),
            sex="F",
        )
    html = body(_traits_search(as_durand, "Mar", "1985-05-14"))
    assert "Trop de patients correspondent" in html
    assert not Trace.objects.filter(action=TraceAction.SEARCH_PATIENT).exists()


# --- the patient page -----------------------------------------------------------------------


def test_patient_page_reached_directly_is_traced_once(as_durand, dr_durand, camille):
    url = reverse("pro:patient", args=[camille.pk])
    html = body(as_durand.get(url))
    assert "Dossier de Camille Lefèvre" in html
    assert camille.ins in html
    as_durand.get(url)
    [found] = traces(camille, TraceAction.SEARCH_PATIENT)
    assert found.actor_id == dr_durand.national_id


def test_an_unknown_patient_is_not_found_and_traced(as_durand, db):
    assert as_durand.get(reverse("pro:patient", args=[uuid.uuid4()])).status_code == 404
    refused = Trace.objects.get(action=TraceAction.SEARCH_PATIENT)
    assert refused.outcome == TraceOutcome.REFUSED and refused.patient_id is None


def test_standing_of_an_authorised_nurse(as_bernard, camille, consultation):
    html = body(as_bernard.get(reverse("pro:patient", args=[camille.pk])))
    assert "Autorisé" in html
    assert "Consulter les documents" in html
    assert "Retirer mon autorisation" in html
    assert "Le patient m'a donné son accord" not in html
    assert "Je suis son médecin traitant" not in html  # not a médecin


def test_standing_of_the_treating_physician(as_martin, camille):
    html = body(as_martin.get(reverse("pro:patient", args=[camille.pk])))
    assert "Vous êtes son médecin traitant" in html
    assert "Déclaration de médecin traitant" not in html


def test_standing_of_a_doctor_she_never_saw(as_durand, camille):
    html = body(as_durand.get(reverse("pro:patient", args=[camille.pk])))
    assert "Aucune" in html
    assert "Consulter les documents" not in html
    assert "Le patient m'a donné son accord" in html
    assert "J'atteste avoir recueilli le consentement du patient" in html
    assert "Je suis son médecin traitant" in html
    assert "Accéder en urgence" in html
    assert "Déposer un document" in html


def test_standing_of_a_blocked_professional(as_bernard, camille, ide_bernard):
    block(camille, ide_bernard)
    html = body(as_bernard.get(reverse("pro:patient", args=[camille.pk])))
    assert "Bloqué par le patient" in html
    assert "Consulter les documents" not in html
    assert "Déposer un document" not in html
    assert "Accéder en urgence" not in html


def test_standing_when_the_authorisation_expired(as_bernard, camille, ide_bernard):
    ProfessionalAccess.objects.filter(professional=ide_bernard).update(expires_at=timezone.now())
    html = body(as_bernard.get(reverse("pro:patient", args=[camille.pk])))
    assert "Expirée" in html and "Votre autorisation a expiré." in html


# --- consent -----------------------------------------------------------------------------


def test_declaring_consent_authorises_and_is_traced(as_durand, dr_durand, camille):
    url = reverse("pro:consent_declare", args=[camille.pk])
    response = as_durand.post(url, {"attestation": "on"}, follow=True)
    assert "Votre autorisation d'accès au dossier est enregistrée." in body(response)
    row = ProfessionalAccess.objects.get(patient=camille, professional=dr_durand)
    assert row.status == ProfessionalAccess.Status.AUTHORISED
    assert row.source == ProfessionalAccess.Source.DECLARED_BY_PROFESSIONAL
    assert not row.is_treating_physician
    [granted] = traces(camille, TraceAction.GRANT_PRO)
    assert granted.actor_id == dr_durand.national_id and granted.access_mode == "normal"
    assert "Consulter les documents" in body(response)


def test_declaring_consent_needs_the_attestation(as_durand, dr_durand, camille):
    url = reverse("pro:consent_declare", args=[camille.pk])
    response = as_durand.post(url, {}, follow=True)
    assert "Cochez l'attestation de recueil du consentement." in body(response)
    assert not ProfessionalAccess.objects.filter(professional=dr_durand).exists()
    assert not traces(camille, TraceAction.GRANT_PRO)


def test_declaring_oneself_treating_physician(as_durand, dr_durand, dr_martin, camille):
    url = reverse("pro:consent_declare", args=[camille.pk])
    as_durand.post(url, {"attestation": "on", "treating_physician": "on"})
    assert ProfessionalAccess.objects.get(professional=dr_durand).is_treating_physician
    assert not ProfessionalAccess.objects.get(professional=dr_martin).is_treating_physician
    assert traces(camille, TraceAction.DECLARE_TREATING)


def test_a_nurse_cannot_become_treating_physician(client, ide_bernard, camille):
    client.force_login(ide_bernard.user)
    url = reverse("pro:consent_declare", args=[camille.pk])
    client.post(url, {"attestation": "on", "treating_physician": "on"})
    assert not ProfessionalAccess.objects.get(professional=ide_bernard).is_treating_physician
    assert not traces(camille, TraceAction.DECLARE_TREATING)


def test_a_blocked_professional_cannot_declare(as_bernard, ide_bernard, camille):
    block(camille, ide_bernard)
    url = reverse("pro:consent_declare", args=[camille.pk])
    response = as_bernard.post(url, {"attestation": "on"}, follow=True)
    assert "Le patient a bloqué votre accès" in body(response)
    row = ProfessionalAccess.objects.get(professional=ide_bernard)
    assert row.status == ProfessionalAccess.Status.BLOCKED
    [refused] = traces(camille, TraceAction.GRANT_PRO)
    assert refused.outcome == TraceOutcome.REFUSED


def test_declaring_consent_ends_an_emergency_access(as_durand, dr_durand, camille):
    open_emergency(as_durand, dr_durand, camille)
    url = reverse("pro:consent_declare", args=[camille.pk])
    as_durand.post(url, {"attestation": "on"})
    assert str(camille.pk) not in as_durand.session[EMERGENCY_SESSION_KEY]
    [granted] = traces(camille, TraceAction.GRANT_PRO)
    assert granted.access_mode == AccessMode.NORMAL


def test_withdrawing_consent(as_bernard, ide_bernard, camille):
    url = reverse("pro:consent_withdraw", args=[camille.pk])
    response = as_bernard.post(url, follow=True)
    assert "Votre autorisation d'accès à ce dossier est retirée." in body(response)
    row = ProfessionalAccess.objects.get(professional=ide_bernard)
    assert row.status == ProfessionalAccess.Status.REVOKED
    assert traces(camille, TraceAction.REVOKE_PRO)[0].outcome == TraceOutcome.ALLOWED
    assert as_bernard.get(reverse("pro:documents", args=[camille.pk])).status_code == 404


def test_withdrawing_without_authorisation_says_so(as_durand, camille):
    url = reverse("pro:consent_withdraw", args=[camille.pk])
    response = as_durand.post(url, follow=True)
    assert "Vous n'avez pas d'autorisation d'accès à ce dossier." in body(response)
    assert not traces(camille, TraceAction.REVOKE_PRO)


def test_consent_pages_are_post_only(as_durand, camille):
    assert as_durand.get(reverse("pro:consent_declare", args=[camille.pk])).status_code == 405
    assert as_durand.get(reverse("pro:consent_withdraw", args=[camille.pk])).status_code == 405

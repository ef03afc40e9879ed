"""Camille's agenda in a real browser (Chromium + axe-core, desktop and phone): the agenda,
an appointment added through the form with its errors, its page, an exam's page and answer,
a professional's read-only appointment, the subscription link, the notification preferences,
and Louis's agenda in the third person."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from mes.access.models import PrivacySettings
from mes.agenda import actions
from mes.agenda.models import Appointment, PreventionRecord, UserReminder
from mes.conftest import pro

from .conftest import check_a11y, login


def test_the_agenda_pages_are_accessible(page, live_server, camille, louis, dr_martin):
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    by_doctor = actions.appointment_write(
        actor=pro(dr_martin, software="LogicielCabinet"),
        patient_id=camille.pk,
        data=actions.clean_appointment(
            starts_at=timezone.now() + timedelta(days=9),
            professional_name="Dr Martin",
            title="Consultation de suivi",
        ),
        status="booked",
    )
    login(page, live_server, camille)
    page.goto(live_server.url + "/agenda/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon agenda de santé")
    expect(
        page.get_by_role("heading", name="Examens médicaux et vaccinations à réaliser")
    ).to_be_visible()
    check_a11y(page, "agenda")

    page.get_by_role("link", name="Ajouter un rendez-vous").first.click()
    page.get_by_role("button", name="Ajouter le rendez-vous").click()
    expect(page.get_by_role("alert")).to_contain_text("La date du rendez-vous est obligatoire.")
    check_a11y(page, "agenda-rdv-erreurs")

    page.get_by_label("Nom du professionnel ou de l'établissement").fill("Cabinet de kiné")
    day = timezone.localdate() + timedelta(days=4)
    page.locator("#id_date").fill(day.isoformat())
    page.get_by_label("Heure").fill("17:30")
    page.get_by_label("Titre du rendez-vous (facultatif)").fill("Kinésithérapie")
    page.get_by_label("Rappel").select_option("2d")
    page.get_by_role("button", name="Ajouter le rendez-vous").click()
    expect(page.get_by_role("status")).to_contain_text("Rendez-vous ajouté")
    assert Appointment.objects.get(title="Kinésithérapie").reminder == "2d"
    check_a11y(page, "agenda-rdv")

    page.goto(f"{live_server.url}/agenda/rendez-vous/{by_doctor.pk}/")
    expect(page.get_by_text(re.compile("contactez ce professionnel"))).to_be_visible()
    expect(page.get_by_text("Confirmé")).to_be_visible()
    check_a11y(page, "agenda-rdv-professionnel")

    page.goto(live_server.url + "/agenda/examens/DEPISTAGE_COL_HPV@40/")
    page.get_by_label("Je ne suis pas concerné(e)").check()
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("status")).to_contain_text("Réponse enregistrée")
    assert PreventionRecord.objects.get(patient=camille).status == "non concerné"
    check_a11y(page, "agenda-examen")

    page.goto(live_server.url + "/agenda/")
    page.get_by_role("button", name="Créer un lien d'abonnement").click()
    expect(page.get_by_label(re.compile("Votre lien d'abonnement"))).to_have_value(
        re.compile(r"\.ics$")
    )
    check_a11y(page, "agenda-abonnement")

    page.goto(live_server.url + "/agenda/preferences-notifications/")
    expect(page.get_by_text(re.compile("ne peut pas être désactivée"))).to_be_visible()
    check_a11y(page, "notifications-preferences")

    page.get_by_role("button", name=re.compile("Profil affiché")).click()
    page.get_by_role("button", name="Louis Lefèvre").click()
    page.goto(live_server.url + "/agenda/")
    expect(page.get_by_role("heading", level=1)).to_have_text("L'agenda de santé de Louis")
    expect(page.get_by_text("Examen entre 11 et 13 ans").first).to_be_visible()
    check_a11y(page, "agenda-enfant")


def test_a_reminder_is_added_changed_and_deleted(page, live_server, camille):
    """« Rappel »: its form with its errors, in the agenda, changed, then deleted (axe checks
    each page at 390 and 1280 px)."""
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    login(page, live_server, camille)
    page.goto(live_server.url + "/agenda/")
    page.get_by_role("link", name="Ajouter un rappel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter un rappel")
    page.get_by_role("button", name="Ajouter le rappel").click()
    expect(page.get_by_role("alert")).to_contain_text("Le titre du rappel est obligatoire.")
    check_a11y(page, "agenda-rappel-erreurs")

    page.get_by_label("Titre du rappel").fill("Envoyer les analyses")
    day = timezone.localdate() + timedelta(days=3)
    page.locator("#id_date").fill(day.isoformat())
    page.get_by_label("Heure").fill("18:30")
    page.get_by_label("Note personnelle (facultatif)").fill("Au laboratoire du centre")
    page.get_by_role("button", name="Ajouter le rappel").click()
    expect(page.get_by_role("status")).to_contain_text("Rappel ajouté")
    expect(page.get_by_role("link", name="Envoyer les analyses")).to_be_visible()
    check_a11y(page, "agenda-avec-rappel")

    page.get_by_role("link", name="Envoyer les analyses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modifier le rappel")
    check_a11y(page, "agenda-rappel")
    page.get_by_label("Titre du rappel").fill("Appeler le laboratoire")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_role("status")).to_contain_text("Rappel modifié")
    assert UserReminder.objects.get(patient=camille).title == "Appeler le laboratoire"

    page.get_by_role("link", name="Appeler le laboratoire").click()
    page.get_by_role("button", name=re.compile("Supprimer ce rappel")).click()
    expect(page.get_by_role("status")).to_contain_text("Rappel supprimé")
    expect(page.get_by_text("Aucun rappel à venir.")).to_be_visible()
    assert not UserReminder.objects.filter(patient=camille).exists()


def test_declaring_a_situation(page, live_server, camille):
    """« Ma situation pour la prévention »: a pregnancy's date, then the agenda shows the
    pregnancy's whooping-cough vaccination (axe at 390 and 1280 px)."""
    PrivacySettings.objects.filter(patient=camille).update(onboarded_at=timezone.now())
    login(page, live_server, camille)
    page.goto(live_server.url + "/agenda/")
    page.get_by_role("link", name="indiquer ma situation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ma situation pour la prévention")
    check_a11y(page, "agenda-situation")
    due = timezone.localdate() + timedelta(days=160)
    page.get_by_label(re.compile("date prévue d'accouchement")).fill(due.isoformat())
    page.get_by_label(re.compile("Maladie chronique \\(diabète")).check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_contain_text("Situation enregistrée")
    # Later in the pregnancy: among « Prochains » (folded), one link to its page.
    expect(page.locator("a[href*=VAC_COQUELUCHE_GROSSESSE]")).to_have_count(1)
    check_a11y(page, "agenda-avec-situation")

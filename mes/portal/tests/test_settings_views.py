"""Camille's settings pages: who reaches her dossier, emergencies, confidentiality, her activity
history and her notifications — each with its denials and its traces."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from mes.access.actions import emergency_access_open
from mes.access.actors import AccessMode
from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.audit import trace
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import make_pdf, pro
from mes.lib.errors import NotFound
from mes.notifications.actions import notify
from mes.notifications.models import Notification
from mes.records import actions as records

PARIS = ZoneInfo("Europe/Paris")
URLS = ["access", "emergency", "confidentiality", "history", "notifications"]


def _traces(patient, action):
    return list(Trace.objects.filter(patient_id=patient.pk, action=action).order_by("seq"))


def _show(client, profile):
    response = client.post(reverse("portal:switch_profile"), {"profile": str(profile.pk)})
    assert response.status_code == 302


# --- every page: anonymous, professional --------------------------------------------------------


@pytest.mark.parametrize("name", URLS)
def test_anonymous_is_sent_to_login(client, db, name):
    url = reverse(f"portal:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/connexion/?next={url}"
    assert client.post(url, {"op": "tout-lu"})["Location"] == f"/connexion/?next={url}"


@pytest.mark.parametrize("name", URLS)
def test_professional_account_gets_not_found(client, dr_durand, name):
    client.force_login(dr_durand.user)
    assert client.get(reverse(f"portal:{name}")).status_code == 404
    # The history is read only: a POST is refused before anyone is looked at.
    expected = 405 if name == "history" else 404
    assert client.post(reverse(f"portal:{name}"), {"op": "tout-lu"}).status_code == expected
    assert not Trace.objects.exists()


# --- Historique d'activité ----------------------------------------------------------------------


@pytest.fixture
def bilan(camille, dr_martin):
    return records.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf("Bilan"),
        title="Bilan sanguin de mars",
        type_code="11502-2",
    )


def test_history_shows_professional_accesses_with_mode_and_document(
    as_camille, camille, dr_martin, dr_durand, regulateur_samu, bilan
):
    records.document_content(actor=pro(dr_martin), document_id=bilan.pk)
    emergency = pro(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Patiente inconsciente")
    emergency_access_open(actor=emergency, patient_id=camille.pk)
    records.document_content(actor=emergency, document_id=bilan.pk)
    with pytest.raises(NotFound):
        records.document_content(actor=pro(dr_durand), document_id=bilan.pk)

    response = as_camille.get(reverse("portal:history"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Dr Anne Martin" in html and "Cabinet médical République" in html
    assert "Médecin" in html
    assert "Téléchargement d&#x27;un document" in html and "Bilan sanguin de mars" in html
    assert "Accès en urgence (bris de glace)" in html
    assert "Accès refusé" in html
    [row] = _traces(camille, TraceAction.CONSULT_HISTORY)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins


def test_history_tab_of_my_activities(as_camille, camille, bilan):
    as_camille.post(reverse("portal:confidentiality"), {"mask_new_documents": "on"})
    response = as_camille.get(reverse("portal:history"), {"onglet": "mes-activites"})
    html = response.content.decode()
    assert "Mes activités" in html
    assert "Modification de la confidentialité par défaut" in html
    assert "Dr Anne Martin" not in html  # professionals are in the other tab


def test_history_samu_mode_in_words(as_camille, camille, regulateur_samu, bilan):
    regulation = pro(regulateur_samu, mode=AccessMode.CENTRE_15)
    emergency_access_open(actor=regulation, patient_id=camille.pk)
    records.document_content(actor=regulation, document_id=bilan.pk)
    html = as_camille.get(reverse("portal:history")).content.decode()
    assert "SAMU – Centre 15" in html and "SAMU de Paris" in html


def test_representative_never_sees_a_minors_secret_care(as_camille, camille, louis, dr_martin):
    trace.record(
        actor=pro(dr_martin),
        action=TraceAction.CONSULT_DOC,
        patient_id=louis.pk,
        document_title="Consultation confidentielle",
        hidden_from_representatives=True,
    )
    trace.record(
        actor=pro(dr_martin),
        action=TraceAction.CONSULT_DOC,
        patient_id=louis.pk,
        document_title="Carnet de vaccination",
    )
    _show(as_camille, louis)

    response = as_camille.get(reverse("portal:history"))

    html = response.content.decode()
    assert "Carnet de vaccination" in html
    assert "Consultation confidentielle" not in html
    assert "Représentants légaux" in html and "Mes activités" not in html
    row = Trace.objects.get(patient_id=louis.pk, action=TraceAction.CONSULT_HISTORY)
    assert row.actor_id == camille.ins and row.acting_citizen_id == camille.pk


def test_history_date_filters_and_reset(as_camille, camille, dr_martin):
    for day, title in ((date(2025, 1, 10), "Ancien"), (date(2025, 3, 5), "Récent")):
        with time_machine.travel(datetime(day.year, day.month, day.day, 0, 30, tzinfo=PARIS)):
            trace.record(
                actor=pro(dr_martin),
                action=TraceAction.CONSULT_DOC,
                patient_id=camille.pk,
                document_title=title,
            )
    url = reverse("portal:history")

    html = as_camille.get(url, {"debut": "2025-03-05", "fin": "2025-03-05"}).content.decode()
    assert "Récent" in html and "Ancien" not in html
    assert "05/03/2025 à 00:30" in html  # shown in Europe/Paris time
    html = as_camille.get(url, {"fin": "2025-02-01"}).content.decode()
    assert "Ancien" in html and "Récent" not in html
    assert "Réinitialiser les filtres" in html
    html = as_camille.get(url, {"debut": "2025-04-01", "fin": "2025-03-01"}).content.decode()
    assert "La date de début doit précéder la date de fin." in html
    assert "Ancien" in html and "Récent" in html  # an invalid filter filters nothing


def test_history_pages_of_a_hundred(as_camille, camille, dr_martin):
    for i in range(101):
        trace.record(
            actor=pro(dr_martin),
            action=TraceAction.CONSULT_DOC,
            patient_id=camille.pk,
            document_title=f"Doc {i:03d}",
        )
    first = as_camille.get(reverse("portal:history")).content.decode()
    assert "Doc 100" in first and "Doc 001" in first and "Doc 000" not in first
    assert "Afficher plus" in first
    second = as_camille.get(reverse("portal:history"), {"page": 2}).content.decode()
    assert "Doc 000" in second and "Doc 100" not in second and "Afficher plus" not in second


def test_history_of_another_patient_is_unreachable(as_bob, bob, camille, dr_martin, bilan):
    # Bob forging the session's profile still sees only his own dossier.
    session = as_bob.session
    session["mes_profile_id"] = str(camille.pk)
    session.save()
    html = as_bob.get(reverse("portal:history")).content.decode()
    assert "Bilan sanguin de mars" not in html
    assert not _traces(camille, TraceAction.CONSULT_HISTORY)
    assert _traces(bob, TraceAction.CONSULT_HISTORY)[0].actor_id == bob.ins


# --- Accès des professionnels -------------------------------------------------------------------


def test_access_page_lists_authorised_and_traces(as_camille, camille, dr_martin, ide_bernard):
    ProfessionalAccess.objects.filter(professional=ide_bernard).update(is_administrator=True)
    response = as_camille.get(reverse("portal:access"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Professionnels autorisés" in html and "Professionnels bloqués" in html
    assert "(s)" not in html and "(e)" not in html
    assert "Dr Anne Martin" in html and "Médecin traitant" in html
    assert "Julie Bernard" in html and "Administrateur" in html
    assert "Depuis le " in html
    [row] = _traces(camille, TraceAction.CONSULT_ACCESS)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins


def test_search_the_directory_then_block(as_camille, camille, ide_bernard, bilan):
    html = as_camille.get(reverse("portal:access"), {"q": "bernard"}).content.decode()
    assert "Julie Bernard" in html and "10000000003" in html
    assert "Bloquer ce professionnel de santé ?" in html
    html = as_camille.get(reverse("portal:access"), {"q": "10000000003"}).content.decode()
    assert "Julie Bernard" in html

    response = as_camille.post(
        reverse("portal:access"), {"op": "bloquer", "professional": str(ide_bernard.pk)}
    )

    assert response.status_code == 302
    html = as_camille.get(response["Location"]).content.decode()
    blocked_section = html.split("Professionnels bloqués</h2>")[1].split("</section>")[0]
    today = datetime.now(PARIS).strftime("%d/%m/%Y")
    assert "Julie Bernard" in blocked_section and f"Depuis le {today}" in blocked_section
    [row] = _traces(camille, TraceAction.BLOCK_PRO)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins
    with pytest.raises(NotFound):
        records.document_content(actor=pro(ide_bernard), document_id=bilan.pk)


def test_unblock_needs_consent_again(as_camille, camille, ide_bernard):
    url = reverse("portal:access")
    as_camille.post(url, {"op": "bloquer", "professional": str(ide_bernard.pk)})
    html = as_camille.get(url).content.decode()
    assert "lors d'une prochaine consultation" in html

    as_camille.post(url, {"op": "debloquer", "professional": str(ide_bernard.pk)})

    access = ProfessionalAccess.objects.get(patient=camille, professional=ide_bernard)
    assert access.status == ProfessionalAccess.Status.REVOKED
    assert _traces(camille, TraceAction.UNBLOCK_PRO)[0].actor_id == camille.ins


def test_treating_physician_cannot_be_blocked(as_camille, camille, dr_martin):
    response = as_camille.post(
        reverse("portal:access"),
        {"op": "bloquer", "professional": str(dr_martin.pk)},
        follow=True,
    )
    assert "Votre médecin traitant ne peut pas être bloqué" in response.content.decode()
    access = ProfessionalAccess.objects.get(patient=camille, professional=dr_martin)
    assert access.status == ProfessionalAccess.Status.AUTHORISED
    assert not _traces(camille, TraceAction.BLOCK_PRO)


def test_set_and_withdraw_administrator(as_camille, camille, ide_bernard, podo_petit):
    url = reverse("portal:access")
    as_camille.post(url, {"op": "nommer-administrateur", "professional": str(ide_bernard.pk)})
    assert ProfessionalAccess.objects.get(professional=ide_bernard).is_administrator
    as_camille.post(url, {"op": "nommer-administrateur", "professional": str(podo_petit.pk)})
    assert not ProfessionalAccess.objects.get(professional=ide_bernard).is_administrator
    as_camille.post(url, {"op": "retirer-administrateur", "professional": str(podo_petit.pk)})
    assert not ProfessionalAccess.objects.filter(is_administrator=True).exists()
    assert [
        t.action
        for t in Trace.objects.filter(
            action__in=["ATTRIBUTION_STATUT_MEDECIN_ADMIN", "RETRAIT_STATUT_MEDECIN_ADMIN"]
        ).order_by("seq")
    ] == [
        TraceAction.SET_ADMIN,
        TraceAction.SET_ADMIN,
        TraceAction.UNSET_ADMIN,
    ]


def test_matrix_detail_for_podiatrists(as_camille, camille):
    html = as_camille.get(reverse("portal:access"), {"profession": "80"}).content.decode()
    assert "Pédicure-podologue" in html and "2023-10-26" in html
    compte_rendus = html.split('<h4 class="h6">Compte rendu</h4>')[1].split("</div>\n  </div>")[0]
    not_accessible = compte_rendus.split("Non accessibles")[1]
    assert "CR d&#x27;accouchement" in not_accessible
    assert "CR d&#x27;accouchement" not in compte_rendus.split("Non accessibles")[0]


def test_bob_cannot_block_on_camilles_dossier(as_bob, bob, camille, ide_bernard):
    session = as_bob.session
    session["mes_profile_id"] = str(camille.pk)
    session.save()
    as_bob.post(reverse("portal:access"), {"op": "bloquer", "professional": str(ide_bernard.pk)})
    camille_access = ProfessionalAccess.objects.get(patient=camille, professional=ide_bernard)
    assert camille_access.status == ProfessionalAccess.Status.AUTHORISED
    assert not _traces(camille, TraceAction.BLOCK_PRO)
    # What Bob did concerns his own dossier only.
    assert ProfessionalAccess.objects.get(patient=bob, professional=ide_bernard).status == "blocked"


def test_access_post_with_an_unknown_professional_is_not_found(as_camille, camille):
    url = reverse("portal:access")
    assert as_camille.post(url, {"op": "bloquer", "professional": "nimporte"}).status_code == 404
    response = as_camille.post(
        url, {"op": "bloquer", "professional": "00000000-0000-0000-0000-000000000000"}
    )
    assert response.status_code == 404
    assert as_camille.get(url + "?op=bloquer").status_code == 200  # GET changes nothing


# --- Accès en cas d'urgence, confidentialité ----------------------------------------------------


def test_emergency_settings(as_camille, camille):
    html = as_camille.get(reverse("portal:emergency")).content.decode()
    assert "Masquer tous mes documents, y compris en cas d&#x27;urgence" in html
    assert "notification" in html
    assert _traces(camille, TraceAction.CONSULT_ACCESS)[0].actor_id == camille.ins

    as_camille.post(reverse("portal:emergency"), {"samu": "on", "reveals_masked": "on"})

    privacy = PrivacySettings.objects.get(patient=camille)
    assert not privacy.oppose_centre_15 and privacy.oppose_break_glass
    assert privacy.emergency_reveals_masked and not privacy.mask_everything
    [row] = _traces(camille, TraceAction.EMERGENCY_SETTINGS)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins
    html = as_camille.get(reverse("portal:emergency")).content.decode()
    assert 'aria-describedby="id_samu-aide" id="id_samu" checked' in html
    assert 'id="id_break_glass">' in html  # not checked: Camille opposed it


def test_break_glass_refused_after_opposition(as_camille, camille, dr_durand, bilan):
    as_camille.post(reverse("portal:emergency"), {"samu": "on", "mask_everything": ""})
    emergency = pro(dr_durand, mode=AccessMode.BREAK_GLASS, justification="Inconsciente")
    with pytest.raises(NotFound):
        records.document_content(actor=emergency, document_id=bilan.pk)


def test_emergency_on_a_childs_profile(as_camille, camille, louis):
    _show(as_camille, louis)
    as_camille.post(reverse("portal:emergency"), {})
    assert PrivacySettings.objects.get(patient=louis).oppose_centre_15
    assert PrivacySettings.objects.get(patient=camille).oppose_centre_15 is False
    [row] = _traces(louis, TraceAction.EMERGENCY_SETTINGS)
    assert row.acting_citizen_id == camille.pk


def test_confidentiality_default(as_camille, camille, dr_martin):
    html = as_camille.get(reverse("portal:confidentiality")).content.decode()
    assert "camille@example.org" in html

    as_camille.post(reverse("portal:confidentiality"), {"mask_new_documents": "on"})

    assert PrivacySettings.objects.get(patient=camille).mask_new_documents
    [row] = _traces(camille, TraceAction.PRIVACY_SETTINGS)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins
    doc = records.document_deposit(
        actor=pro(dr_martin),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Nouveau CR",
        type_code="11490-0",
    )
    assert doc.masked_from_professionals


def test_bob_changes_only_his_own_privacy(as_bob, bob, camille):
    session = as_bob.session
    session["mes_profile_id"] = str(camille.pk)
    session.save()
    as_bob.post(reverse("portal:confidentiality"), {"mask_new_documents": "on"})
    assert not PrivacySettings.objects.get(patient=camille).mask_new_documents
    assert PrivacySettings.objects.get(patient=bob).mask_new_documents
    assert not _traces(camille, TraceAction.PRIVACY_SETTINGS)


# --- Notifications ------------------------------------------------------------------------------


def _notification(profile, label="Le Dr Martin vous a ajouté un document", **extra):
    return notify(
        profile=profile,
        code=Notification.Code.NEW_DOCUMENT,
        label=label,
        url="/documents/",
        link_label="Voir le document",
        **extra,
    )


def test_notification_centre_lists_and_marks(as_camille, camille):
    with time_machine.travel(timezone.now() - timedelta(minutes=24)):
        n = _notification(camille)
    _notification(camille, "Ancienne", hidden_from_representatives=False)
    html = as_camille.get(reverse("portal:notifications")).content.decode()
    assert "Le Dr Martin vous a ajouté un document" in html
    assert "Voir le document" in html and "Non lue" in html
    assert "il y a 24 minutes" in html
    assert "Supprimer cette notification ?" in html
    assert "les autres comptes qui ont accès à ce profil ne la verront plus" in html

    as_camille.post(reverse("portal:notifications"), {"op": "lu", "notification": n.pk})
    n.refresh_from_db()
    assert n.read_at is not None
    as_camille.post(reverse("portal:notifications"), {"op": "non-lu", "notification": n.pk})
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_all_read_then_delete(as_camille, camille):
    a, b = _notification(camille, "A"), _notification(camille, "B")
    as_camille.post(reverse("portal:notifications"), {"op": "tout-lu"})
    assert not Notification.objects.filter(profile=camille, read_at__isnull=True).exists()
    as_camille.post(reverse("portal:notifications"), {"op": "supprimer", "notification": a.pk})
    assert list(Notification.objects.filter(profile=camille)) == [b]


def test_empty_centre(as_camille, camille):
    html = as_camille.get(reverse("portal:notifications")).content.decode()
    assert "Aucune notification" in html


def test_representative_does_not_see_secret_notifications(as_camille, camille, louis):
    _notification(louis, "Vaccin ajouté")
    secret = _notification(louis, "Consultation confidentielle", hidden_from_representatives=True)
    _show(as_camille, louis)
    html = as_camille.get(reverse("portal:notifications")).content.decode()
    assert "Vaccin ajouté" in html and "Consultation confidentielle" not in html

    response = as_camille.post(
        reverse("portal:notifications"), {"op": "supprimer", "notification": secret.pk}
    )

    assert response.status_code == 404
    assert Notification.objects.filter(pk=secret.pk).exists()


def test_bob_cannot_touch_camilles_notification(as_bob, bob, camille):
    n = _notification(camille)
    for op in ("lu", "supprimer"):
        response = as_bob.post(reverse("portal:notifications"), {"op": op, "notification": n.pk})
        assert response.status_code == 404
    n.refresh_from_db()
    assert n.read_at is None
    refused = Trace.objects.filter(patient_id=camille.pk, outcome=TraceOutcome.REFUSED)
    assert refused.count() == 2
    assert {t.actor_id for t in refused} == {bob.ins}
    assert "Le Dr Martin" not in as_bob.get(reverse("portal:notifications")).content.decode()


def test_notification_centre_counts_the_other_profiles_as_a_parent_sees_them(
    as_camille, camille, louis, django_assert_max_num_queries
):
    """A parent is told of the child's unread notifications, never of those hidden from the
    representatives (R1111-50), and the counts of every other profile come in one query."""
    notify(profile=louis, code=Notification.Code.NEW_DOCUMENT, label="Vaccination ajoutée")
    notify(
        profile=louis,
        code=Notification.Code.NEW_DOCUMENT,
        label="Consultation confidentielle",
        hidden_from_representatives=True,
    )
    with django_assert_max_num_queries(30):
        html = as_camille.get(reverse("portal:notifications")).content.decode()
    assert "Il y a 1 notification non lue pour le profil de Louis Lefèvre" in html


def test_import_from_documents_is_on_by_default_and_turned_off_here(as_camille, camille):
    html = as_camille.get(reverse("portal:confidentiality")).content.decode()
    assert "Import des données depuis les documents" in html
    assert (
        'name="import_from_documents"' in html
        and "checked"
        in html.split('name="import_from_documents"')[0].rsplit("<input", 1)[1]
        + html.split('name="import_from_documents"')[1].split(">", 1)[0]
    )

    as_camille.post(reverse("portal:confidentiality"), {"mask_new_documents": ""})
    assert not PrivacySettings.objects.get(patient=camille).import_from_documents
    [row] = _traces(camille, TraceAction.PRIVACY_SETTINGS)
    assert row.outcome == TraceOutcome.ALLOWED and row.actor_id == camille.ins

    as_camille.post(reverse("portal:confidentiality"), {"import_from_documents": "on"})
    assert PrivacySettings.objects.get(patient=camille).import_from_documents

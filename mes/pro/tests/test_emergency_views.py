"""The emergency access from the Web PS: bris de glace for any professional (a justification
and an attestation required), Centre 15 for a SAMU médecin régulateur only; refused (neutral
message, traced) when Camille opposed it or masked everything; a banner while it lasts; the
patient notified and the médecin traitant e-mailed."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from mes.access.actors import AccessMode
from mes.access.models import BreakGlassSession, PrivacySettings
from mes.audit.models import TraceAction, TraceOutcome
from mes.identity.models import Professional
from mes.notifications.models import Notification
from mes.pro.access import EMERGENCY_SESSION_KEY
from mes.pro.patients.views import EMERGENCY_REFUSED

from .conftest import block, body, open_emergency, traces

JUSTIFICATION = "Patiente inconsciente, admise aux urgences après un malaise"


def _url(patient):
    return reverse("pro:emergency", args=[patient.pk])


def _break_glass(client, patient, **kwargs):
    data = {"mode": "bris_de_glace", "justification": JUSTIFICATION, "attestation": "on"}
    data.update(kwargs)
    return client.post(_url(patient), data)


def _set_email(professional: Professional, email: str) -> None:
    Professional.objects.filter(pk=professional.pk).update(email=email)


def test_the_form_offers_bris_de_glace_only_to_a_non_regulateur(as_durand, camille):
    html = body(as_durand.get(_url(camille)))
    assert "Bris de glace : le patient ne peut pas exprimer sa volonté" in html
    assert 'value="centre_15"' not in html


def test_the_form_offers_centre_15_to_the_regulateur(as_regulateur, camille):
    html = body(as_regulateur.get(_url(camille)))
    assert 'value="centre_15"' in html and 'value="bris_de_glace"' in html


def test_bris_de_glace_opens_traces_notifies_and_shows_the_banner(
    as_durand, dr_durand, dr_martin, camille, consultation, django_capture_on_commit_callbacks
):
    _set_email(dr_martin, "anne.martin@pro.example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = _break_glass(as_durand, camille)
    assert response["Location"] == reverse("pro:documents", args=[camille.pk])
    session = BreakGlassSession.objects.get(patient=camille, professional=dr_durand)
    assert session.mode == AccessMode.BREAK_GLASS and session.justification == JUSTIFICATION
    assert as_durand.session[EMERGENCY_SESSION_KEY] == {str(camille.pk): "bris_de_glace"}

    [opened] = traces(camille, TraceAction.BREAK_GLASS)
    assert opened.outcome == TraceOutcome.ALLOWED
    assert opened.access_mode == "bris_de_glace" and opened.justification == JUSTIFICATION
    assert Notification.objects.filter(profile=camille, code=Notification.Code.BREAK_GLASS)
    assert any("anne.martin@pro.example.org" in m.to for m in mail.outbox)

    html = body(as_durand.get(response["Location"]))
    assert "Accès en urgence (bris de glace) jusqu'au" in html
    assert f"justification : « {JUSTIFICATION} »" in html
    assert "le patient et son médecin traitant en sont informés" in html
    assert "Compte rendu de consultation" in html
    listed = traces(camille, TraceAction.CONSULT_DOSSIER)[-1]
    assert listed.access_mode == "bris_de_glace" and listed.outcome == TraceOutcome.ALLOWED

    # The banner is on every page of that patient, the document page included.
    page = body(as_durand.get(reverse("pro:document", args=[consultation.pk])))
    assert "Accès en urgence (bris de glace)" in page
    assert traces(camille, TraceAction.CONSULT_DOC)[-1].access_mode == "bris_de_glace"
    assert "Accès en urgence (bris de glace)" in body(
        as_durand.get(reverse("pro:patient", args=[camille.pk]))
    )


def test_the_banner_is_not_shown_on_another_patient(as_durand, dr_durand, camille, bob):
    open_emergency(as_durand, dr_durand, camille)
    html = body(as_durand.get(reverse("pro:patient", args=[bob.pk])))
    assert "Accès en urgence (bris de glace) jusqu'au" not in html


def test_the_justification_is_required(as_durand, dr_durand, camille):
    html = body(_break_glass(as_durand, camille, justification=""))
    assert "La justification est obligatoire." in html
    html = body(_break_glass(as_durand, camille, justification="   urgence   "))
    assert "La justification doit compter au moins 10 caractères." in html
    assert not BreakGlassSession.objects.exists()
    assert not traces(camille, TraceAction.BREAK_GLASS)


def test_bris_de_glace_needs_the_attestation(as_durand, camille):
    html = body(_break_glass(as_durand, camille, attestation=""))
    assert "Cochez l'attestation" in html
    assert not BreakGlassSession.objects.exists()


def test_refused_when_the_patient_opposed_it(as_durand, dr_durand, camille):
    PrivacySettings.objects.filter(patient=camille).update(oppose_break_glass=True)
    response = _break_glass(as_durand, camille)
    assert response.status_code == 200
    html = body(response)
    assert EMERGENCY_REFUSED in html and "Accès impossible" in html
    assert "oppos" not in html.split("Accès impossible")[1].split("</div>")[0]
    assert not BreakGlassSession.objects.exists()
    assert EMERGENCY_SESSION_KEY not in as_durand.session
    [refused] = traces(camille, TraceAction.BREAK_GLASS)
    assert refused.outcome == TraceOutcome.REFUSED
    assert refused.access_mode == "bris_de_glace" and refused.justification == JUSTIFICATION
    assert not Notification.objects.filter(profile=camille, code=Notification.Code.BREAK_GLASS)
    assert as_durand.get(reverse("pro:documents", args=[camille.pk])).status_code == 404


def test_refused_with_the_same_words_when_everything_is_masked(as_durand, camille):
    PrivacySettings.objects.filter(patient=camille).update(mask_everything=True)
    assert EMERGENCY_REFUSED in body(_break_glass(as_durand, camille))
    assert traces(camille, TraceAction.BREAK_GLASS)[0].outcome == TraceOutcome.REFUSED


def test_refused_to_a_blocked_professional(as_bernard, ide_bernard, camille):
    block(camille, ide_bernard)
    assert EMERGENCY_REFUSED in body(_break_glass(as_bernard, camille))
    assert not BreakGlassSession.objects.exists()


def test_centre_15_by_the_regulateur(as_regulateur, regulateur_samu, camille, consultation):
    response = as_regulateur.post(
        _url(camille),
        {"mode": "centre_15", "justification": "Appel au 15 pour une douleur thoracique"},
    )
    assert response["Location"] == reverse("pro:documents", args=[camille.pk])
    [opened] = traces(camille, TraceAction.CENTRE_15)
    assert opened.access_mode == "centre_15" and opened.outcome == TraceOutcome.ALLOWED
    html = body(as_regulateur.get(response["Location"]))
    assert "Accès en urgence (Centre 15) jusqu'au" in html


def test_centre_15_is_refused_by_the_form_to_others(as_durand, camille):
    response = as_durand.post(
        _url(camille), {"mode": "centre_15", "justification": JUSTIFICATION, "attestation": "on"}
    )
    assert "Choisissez un type d'accès en urgence proposé." in body(response)
    assert not BreakGlassSession.objects.exists()


def test_centre_15_refused_when_opposed(as_regulateur, camille):
    PrivacySettings.objects.filter(patient=camille).update(oppose_centre_15=True)
    response = as_regulateur.post(
        _url(camille), {"mode": "centre_15", "justification": JUSTIFICATION}
    )
    assert EMERGENCY_REFUSED in body(response)
    assert traces(camille, TraceAction.CENTRE_15)[0].outcome == TraceOutcome.REFUSED


def test_the_form_redirects_while_an_access_is_open(as_durand, dr_durand, camille):
    open_emergency(as_durand, dr_durand, camille)
    assert as_durand.get(_url(camille))["Location"] == reverse("pro:documents", args=[camille.pk])


def test_leaving_the_emergency_access(as_durand, dr_durand, camille, consultation):
    open_emergency(as_durand, dr_durand, camille)
    response = as_durand.post(reverse("pro:emergency_end", args=[camille.pk]), follow=True)
    html = body(response)
    assert "Vous avez quitté l'accès en urgence à ce dossier." in html
    assert "Accès en urgence (bris de glace) jusqu'au" not in html
    assert as_durand.get(reverse("pro:documents", args=[camille.pk])).status_code == 404

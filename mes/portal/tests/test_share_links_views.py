"""Share links in the portal: Camille makes one, sees it opened, revokes it; the recipient's
pages; strangers and anonymous get nothing of hers."""

from __future__ import annotations

from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.conftest import make_pdf
from mes.portal.access import PROFILE_SESSION_KEY
from mes.records import actions as records
from mes.takeout.models import ShareLink


def _as(client, citizen):
    client.force_login(citizen.user)
    session = client.session
    session[PROFILE_SESSION_KEY] = str(citizen.pk)
    session.save()
    return client


def _doc(camille):
    return records.document_deposit(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        content=make_pdf("Radio"),
        title="Radio du genou",
        category="RADIO_SC",
    )


def test_make_open_and_revoke(client, camille):
    doc = _doc(camille)
    _as(client, camille)
    errors = client.post(reverse("portal:share_links"), {"label": "Kiné", "days": "7"})
    assert "Choisissez au moins un document" in errors.content.decode()
    client.post(
        reverse("portal:share_links"),
        {"label": "Kiné", "days": "7", "documents": [str(doc.pk)], "passcode": "genou-2026"},
    )
    link = ShareLink.objects.get()
    page = client.get(reverse("portal:share_links")).content.decode()
    assert "#shlink:/" in page and "Jamais ouvert." in page

    client.logout()
    viewer = reverse("portal:share_view", args=[link.token])
    assert "protégé par un code d'accès" in client.get(viewer).content.decode()
    wrong = client.post(viewer, {"passcode": "non"})
    assert wrong.status_code == 401 and "Il reste 4 essais" in wrong.content.decode()
    shown = client.post(viewer, {"passcode": "genou-2026"})
    assert "Radio du genou" in shown.content.decode()
    pdf = client.get(reverse("portal:share_document", args=[link.token, doc.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    _as(client, camille)
    page = client.get(reverse("portal:share_links")).content.decode()
    assert "Ouvert 2 fois" in page
    client.post(reverse("portal:share_link_revoke", args=[link.pk]))
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_a_stranger_cannot_revoke_or_list(client, camille, bob):
    doc = _doc(camille)
    from mes.takeout.sharing import share_link_create

    link = share_link_create(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        document_ids=[doc.pk],
        label="x",
        days=1,
    )
    _as(client, bob)
    assert client.post(reverse("portal:share_link_revoke", args=[link.pk])).status_code == 404
    assert "Aucun lien de partage." in client.get(reverse("portal:share_links")).content.decode()
    assert ShareLink.objects.get().revoked_at is None


def test_anonymous_goes_to_login_for_the_management_page(client, db):
    response = client.get(reverse("portal:share_links"))
    assert response.status_code == 302

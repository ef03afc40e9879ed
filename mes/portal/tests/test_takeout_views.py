"""« Télécharger mes données » in the portal: Camille asks, gets the notification and the zip;
an aidant acting for her, a stranger and anonymous get nothing; an expired link explains itself."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

from django.urls import reverse

from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.carers.tests.conftest import delegate, make_isabelle
from mes.portal.access import PROFILE_SESSION_KEY
from mes.takeout.models import DataExport


def _as(client, citizen, profile=None):
    client.force_login(citizen.user)
    session = client.session
    session[PROFILE_SESSION_KEY] = str((profile or citizen).pk)
    session.save()
    return client


def _ask(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:data_export_request"))
    assert response.status_code == 302
    return DataExport.objects.get()


def test_camille_asks_and_downloads(client, camille, louis, django_capture_on_commit_callbacks):
    _as(client, camille)
    page = client.get(reverse("portal:data_export"))
    assert page.status_code == 200 and "Demander le téléchargement" in page.content.decode()
    export = _ask(client, django_capture_on_commit_callbacks)
    page = client.get(reverse("portal:data_export")).content.decode()
    assert "Dossier médical" in page and "Messagerie" in page and "Données du compte" in page
    download = client.get(reverse("portal:data_export_download", args=[export.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert "attachment" in download["Content-Disposition"]
    assert zipfile.ZipFile(io.BytesIO(download.content)).testzip() is None


def test_an_expired_link_says_so(client, camille, django_capture_on_commit_callbacks):
    _as(client, camille)
    export = _ask(client, django_capture_on_commit_callbacks)
    DataExport.objects.filter(pk=export.pk).update(
        expires_at=export.expires_at - timedelta(days=30)
    )
    response = client.get(reverse("portal:data_export_download", args=[export.pk]))
    assert response.status_code == 410 and "a expiré" in response.content.decode()
    assert Trace.objects.filter(
        patient_id=camille.pk, action=TraceAction.EXPORT_DOWNLOAD, outcome=TraceOutcome.REFUSED
    ).exists()


def test_the_aidant_cannot_ask_for_the_aide(client, camille):
    isabelle = make_isabelle()
    delegate(camille, isabelle)
    _as(client, isabelle, camille)
    assert client.get(reverse("portal:data_export")).status_code == 404
    assert client.post(reverse("portal:data_export_request")).status_code == 404
    assert not DataExport.objects.exists()


def test_a_stranger_cannot_download(client, camille, bob, django_capture_on_commit_callbacks):
    _as(client, camille)
    export = _ask(client, django_capture_on_commit_callbacks)
    client.logout()
    _as(client, bob)
    assert client.get(reverse("portal:data_export_download", args=[export.pk])).status_code == 404


def test_anonymous_goes_to_login(client, db):
    response = client.get(reverse("portal:data_export"))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]

"""Every error in French and in the service's look, on the portal and on the Web PS (issue 8
item 4): what happened, and the way back. A refusal looks exactly like an absence."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client, override_settings
from django.urls import path, reverse

from mes.conftest import PASSWORD
from mes.web import errors
from mes.web.access import public_view


@public_view
def _boom(request):
    raise RuntimeError("boom")


@public_view
def _forbidden(request):
    raise PermissionDenied


@public_view
def _bad(request):
    raise SuspiciousOperation("bad")


# A URLconf made of the project's, plus views that fail on purpose, under both portals.
urlpatterns = [
    path("pro/essai/erreur/", _boom),
    path("pro/essai/interdit/", _forbidden),
    path("essai/erreur/", _boom),
    path("essai/interdit/", _forbidden),
    path("essai/mauvaise-demande/", _bad),
    path("fhir/essai/erreur/", _boom),
]
from config.urls import handler400, handler403, handler404, handler500  # noqa: E402,F401
from config.urls import urlpatterns as _project  # noqa: E402

urlpatterns += _project

PORTAL_HOME_LINK = 'href="/">Retour à l\'accueil'
PRO_HOME_LINK = 'href="/pro/">Retour à l\'espace professionnel'


def _french_page(response, title: str) -> str:
    html = unescape(response.content.decode())
    assert '<html lang="fr">' in html
    assert title in html
    assert "Not Found" not in html and "Server Error" not in html and "Forbidden" not in html
    return html


def test_unknown_portal_url_is_a_french_404_with_the_way_home(client, db):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    html = _french_page(response, "Page introuvable")
    assert PORTAL_HOME_LINK in html and "Mon espace <span>santé</span>" in html
    assert "Espace professionnel" not in html


def test_unknown_pro_url_is_a_french_404_in_the_web_ps_look(client, db):
    response = client.get("/pro/nulle-part/")
    assert response.status_code == 404
    html = _french_page(response, "Page introuvable")
    assert PRO_HOME_LINK in html and "Espace professionnel" in html


def test_the_fhir_api_keeps_answering_json(client, db):
    response = client.get("/fhir/Nothing/here")
    assert response["Content-Type"].startswith("application/fhir+json")


def test_a_refused_dossier_looks_exactly_like_an_unknown_one(client, camille, bob):
    """Bob asks for one of Camille's documents and for a document that does not exist: the
    same status, the same page."""
    import uuid

    from mes.access.actors import citizen_actor
    from mes.conftest import make_pdf
    from mes.records import actions

    doc = actions.document_deposit(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        content=make_pdf(),
        title="Ordonnance",
        category="ORD_SOIN",
    )
    client.force_login(bob.user)
    theirs = client.get(reverse("portal:document", args=[doc.pk]))
    absent = client.get(reverse("portal:document", args=[uuid.uuid4()]))
    assert theirs.status_code == absent.status_code == 404
    # Same page, byte for byte, but for the per-response CSRF masks of the header's forms.
    assert _without_csrf(theirs) == _without_csrf(absent)
    assert "Page introuvable" in theirs.content.decode()


def _without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("url", ["/essai/interdit/", "/pro/essai/interdit/"])
def test_403_is_shown_as_not_found(client, db, url):
    response = client.get(url)
    assert response.status_code == 404
    _french_page(response, "Page introuvable")


@override_settings(ROOT_URLCONF=__name__)
def test_400_in_french(db):
    response = Client(raise_request_exception=False).get("/essai/mauvaise-demande/")
    assert response.status_code == 400
    html = _french_page(response, "Demande incorrecte")
    assert "rien n'a été enregistré" in html


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("url", "home"), [("/essai/erreur/", PORTAL_HOME_LINK), ("/pro/essai/erreur/", PRO_HOME_LINK)]
)
def test_500_in_french_without_the_database(db, url, home):
    client = Client(raise_request_exception=False)
    response = client.get(url)
    assert response.status_code == 500
    html = _french_page(response, "Le service rencontre un problème")
    assert home in html


@override_settings(ROOT_URLCONF=__name__)
def test_500_of_the_api_is_json(db):
    response = Client(raise_request_exception=False).get("/fhir/essai/erreur/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/fhir+json")


def test_405_on_a_post_only_portal_url_is_a_french_page(client, camille):
    client.force_login(camille.user)
    response = client.get(reverse("portal:logout"), HTTP_REFERER="http://testserver/documents/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    html = _french_page(response, "Action impossible depuis cette adresse")
    assert 'href="http://testserver/documents/">Revenir à la page précédente' in html


def test_405_on_a_post_only_pro_url(client, db):
    response = client.get(reverse("pro:logout"))
    assert response.status_code == 405
    html = _french_page(response, "Action impossible depuis cette adresse")
    assert PRO_HOME_LINK in html


def test_a_foreign_referer_is_never_offered_as_the_way_back(client, db):
    response = client.get("/nulle-part/", HTTP_REFERER="https://ailleurs.example/")
    assert "ailleurs.example" not in response.content.decode()


# --- CSRF: a stale form -------------------------------------------------------------------------


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def test_a_stale_portal_login_form_starts_a_fresh_login(csrf_client, camille):
    response = csrf_client.post(
        reverse("portal:login") + "?next=/documents/",
        {"username": "camille", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/connexion/?next=%2Fdocuments%2F"
    page = csrf_client.get(response["Location"])
    assert page.status_code == 200
    assert errors.STALE_LOGIN_MESSAGE in page.content.decode()


def test_a_stale_code_form_starts_a_fresh_login(csrf_client, camille):
    response = csrf_client.post(reverse("portal:login_code"), {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:login")


def test_a_stale_pro_login_form_starts_a_fresh_pro_login(csrf_client, dr_martin):
    response = csrf_client.post(reverse("pro:login"), {"username": "x", "password": "y"})
    assert response.status_code == 302 and response["Location"] == reverse("pro:login")


def test_an_open_redirect_is_not_kept_from_a_stale_login(csrf_client, db):
    response = csrf_client.post(reverse("portal:login") + "?next=https://ailleurs.example/")
    assert response["Location"] == reverse("portal:login")


def test_a_stale_form_elsewhere_says_the_page_expired(csrf_client, camille):
    csrf_client.force_login(camille.user)
    response = csrf_client.post(reverse("portal:switch_profile"), {"profile": str(camille.pk)})
    assert response.status_code == 403
    html = _french_page(response, "Cette page a expiré")
    assert "rien n'a été enregistré" in html


def test_a_stale_pro_form_says_the_page_expired_in_the_web_ps_look(csrf_client, dr_martin):
    csrf_client.force_login(dr_martin.user)
    response = csrf_client.post(reverse("pro:logout"))
    assert response.status_code == 403
    html = _french_page(response, "Cette page a expiré")
    assert PRO_HOME_LINK in html

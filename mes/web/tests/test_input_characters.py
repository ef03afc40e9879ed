"""Control characters and bidirectional overrides (issue 13 item 4): refused with a French
message on every input path of the portal and the Web PS — a form field (shown on the field),
the domain actions behind them, and at the door for query strings, headers and form bodies —
and nothing stored. Runs on SQLite and PostgreSQL in CI (a NUL is a 500 on PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.models import Trace
from mes.conftest import make_pdf, pro
from mes.lib.errors import InvalidInput
from mes.lib.text import check_text, text_problem
from mes.records import actions
from mes.records.models import Document, Folder
from mes.vaccinations import actions as vaccinations

REFUSED_PAGE = "Caractères non acceptés"


@pytest.mark.parametrize(
    ("value", "multiline", "refused"),
    [
        ("Compte rendu", False, None),
        ("Ligne 1\nLigne 2\tfin", True, None),
        ("Compte\x00rendu", False, "caractère nul (U+0000)"),
        ("Compte\x00rendu", True, "caractère nul"),
        ("Bip\x07", True, "U+0007"),
        ("Suppr\x7f", False, "U+007F"),
        ("C1 \x85", True, "U+0085"),
        ("Ligne 1\nLigne 2", False, "U+000A"),
        ("facture\u202efdp.exe", False, "inverse le sens d'écriture (U+202E"),
        ("isolé \u2067x\u2069", False, "U+2067"),
        ("مرحبا \u200f texte", False, None),  # a right-to-left mark only nudges: allowed
    ],
)
def test_the_one_rule(value, multiline, refused):
    problem = text_problem(value, multiline=multiline)
    assert (problem is None) if refused is None else (refused in (problem or ""))


def test_the_domain_message_names_the_field():
    with pytest.raises(InvalidInput) as caught:
        check_text("a\x00b", label="Nom du document", field="title")
    assert str(caught.value) == (
        "Le champ « Nom du document » contient un caractère de contrôle interdit "
        "(caractère nul (U+0000))."
    )
    assert caught.value.field == "title"


# --- the domain actions, whatever calls them (portal, Web PS, FHIR, demo) ---------------------


def test_a_document_title_or_description_with_a_control_is_refused_and_nothing_stored(
    camille, dr_martin
):
    before = Trace.objects.count()
    for kwargs in (
        {"title": "Radio\x00 du genou"},
        {"title": "Radio \u202efdp.exe"},
        {"title": "Radio", "description": "note\x00"},
    ):
        with pytest.raises(InvalidInput):
            actions.document_deposit(
                actor=pro(dr_martin),
                patient_id=camille.pk,
                content=make_pdf(),
                type_code="11490-0",
                **kwargs,
            )
    with pytest.raises(InvalidInput):
        actions.folder_create(actor=citizen_actor(camille), patient_id=camille.pk, name="A\x01")
    with pytest.raises(InvalidInput, match="eventCode"):
        actions.document_deposit(
            actor=pro(dr_martin),
            patient_id=camille.pk,
            content=make_pdf(),
            type_code="11490-0",
            title="Radio",
            event_codes=[("", "GLE\x00")],
        )
    assert not Document.objects.exists() and not Folder.objects.exists()
    assert Trace.objects.count() == before


def test_a_vaccination_note_with_a_nul_is_refused(camille):
    with pytest.raises(InvalidInput) as caught:
        vaccinations.clean_input(
            patient=camille,
            vaccine_code="VAXIGRIPTETRA",
            vaccination_date=date(2024, 10, 1),
            kind="BOOSTER",
            comment="bien toléré\x00",
        )
    assert caught.value.field == "comment"


# --- the forms (every MesForm / BootstrapFormMixin) -------------------------------------------


@pytest.fixture
def as_camille(client, camille):
    client.force_login(camille.user)
    return client


@pytest.fixture
def as_martin(client, dr_martin):
    client.force_login(dr_martin.user)
    return client


def _portal_upload(**kwargs):
    data = {
        "title": "Radio du genou",
        "service_date": "2024-02-03",
        "category": "RADIO_SC",
        "folder": "",
        "confidentiality": "visible",
        "file": SimpleUploadedFile("radio.pdf", make_pdf()),
    }
    data.update(kwargs)
    return data


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("Radio\x00genou", "contient un caractère de contrôle interdit (caractère nul (U+0000))"),
        ("Radio\x1bgenou", "contient un caractère de contrôle interdit (U+001B"),
        ("radio\u202efdp.exe", "contient un caractère qui inverse le sens d&#x27;écriture"),
    ],
)
def test_the_portal_upload_form_shows_the_refusal_on_the_title(as_camille, title, message):
    traces = Trace.objects.count()
    response = as_camille.post(reverse("portal:document_add"), _portal_upload(title=title))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Le champ « Nom du document » {message}" in html
    assert 'id="id_title_error"' in html
    assert not Document.objects.exists() and Trace.objects.count() == traces


def test_the_web_ps_deposit_form_refuses_a_bidi_override(as_martin, camille):
    data = {
        "file": SimpleUploadedFile("cr.pdf", make_pdf()),
        "type_code": "11490-0",
        "title": "Lettre \u202eeftr",
        "service_date": "2026-03-02",
    }
    response = as_martin.post(reverse("pro:document_deposit", args=[camille.pk]), data)
    assert response.status_code == 200
    assert "inverse le sens d&#x27;écriture" in response.content.decode()
    assert not Document.objects.exists()


# --- at the door: query strings, headers, form bodies (mes.web.limits) -------------------------


def _refused(response):
    assert response.status_code == 400
    html = response.content.decode()
    assert REFUSED_PAGE in html and 'lang="fr"' in html
    assert response["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in response


@pytest.mark.parametrize("query", ["q=a%00b", "q=%FF%FE", "q=bip%07"])
def test_a_query_string_with_a_nul_a_control_or_bad_bytes_is_refused(as_camille, query):
    _refused(as_camille.get(f"{reverse('portal:documents')}?{query}"))


def test_a_header_with_a_nul_is_refused(client):
    _refused(client.get(reverse("portal:login"), HTTP_X_MES_JUSTIFICATION="urgence\x00"))
    _refused(client.get(reverse("pro:login"), HTTP_USER_AGENT="navigateur\x01"))


def test_a_form_body_with_a_nul_is_refused_before_the_view(as_camille, camille):
    response = as_camille.post(
        reverse("portal:folders"),
        "op=create&name=Genou%00",
        content_type="application/x-www-form-urlencoded",
    )
    _refused(response)
    response = as_camille.post(
        reverse("portal:folders"),
        b"op=create&name=Genou\xff",
        content_type="application/x-www-form-urlencoded",
    )
    _refused(response)
    assert not Folder.objects.exists()


def test_a_multiline_form_body_passes_the_door(as_camille):
    response = as_camille.post(
        reverse("portal:folders"),
        "op=create&name=Genou%0D%0A",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code != 400  # the form itself decides (one line: refused there)


def test_the_api_paths_answer_in_their_own_format(client):
    response = client.get("/fhir/metadata?x=%00")
    assert REFUSED_PAGE not in response.content.decode()

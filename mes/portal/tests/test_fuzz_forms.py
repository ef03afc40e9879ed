"""Generated form posts and uploads against the citizen portal (issue 13): several hundred per
run across its forms, each form's fields read from its own page (so a new field is fuzzed
without touching this file). No post may answer a server error, and none that is refused may
leave anything behind: rows, encrypted blobs and notifications are counted before and after,
and at the end every stored document has its blob and every trace chain verifies. Runs on
SQLite and PostgreSQL in CI."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from mes.access.actors import citizen_actor
from mes.audit import integrity
from mes.audit.models import ChainHead, Trace
from mes.conftest import make_pdf
from mes.notifications.models import Notification
from mes.records import actions
from mes.records.models import Document
from mes.vault import store

# Several hundred posts, sized for a 2-core machine (about 15 s of CPU).
EXAMPLES = 250
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00\xb8" * 64

# The portal's pages whose POST forms are fuzzed: (url name, args); "DOC" is Camille's document.
PAGES: list[tuple[str, tuple[str, ...]]] = [
    ("portal:document_add", ()),
    ("portal:folders", ()),
    ("portal:document", ("DOC",)),
    ("portal:document_edit", ("DOC",)),
    ("portal:document_report", ("DOC",)),
    ("portal:profile_blood_group", ()),
    ("portal:profile_disease_add", ()),
    ("portal:profile_treatment_add", ()),
    ("portal:profile_hospitalisation_add", ()),
    ("portal:profile_disability_add", ()),
    ("portal:profile_allergy_add", ()),
    ("portal:profile_family_history_add", ()),
    ("portal:profile_contact_add", ()),
    ("portal:measure_add", ("WEIGHT",)),
    ("portal:vaccination_add", ()),
    ("portal:directives_write", ("b",)),
    ("portal:emergency", ()),
    ("portal:confidentiality", ()),
]

# The header's forms (sign out, change profile) would end the session the run needs.
SKIPPED_ACTIONS = ["/deconnexion/", "/profil/changer/"]

# Values a person or an attacker may type, beside random text.
NASTY = [
    "",
    " ",
    "\x00",
    "Radio\x00genou",
    "bip\x07",
    "facture\u202efdp.exe",
    "\u2067isolé\u2069",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "x" * 5000,
    "é" * 300,
    "2024-02-30",
    "0000-00-00",
    "9999-12-31",
    "-1",
    "1e308",
    "NaN",
    "١٢٣",  # Arabic-Indic digits
    "𝟘𝟙",  # mathematical digits
    "\ufeff",
    "\ud7ff",
    "@<>?:/€*#|%~+£$!§¤",
]


@dataclass
class Form:
    action: str
    multipart: bool
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """The POST forms of a page: their action, encoding, and each field's kind and options."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = Form(a.get("action", ""), "multipart" in a.get("enctype", ""))
            self.forms.append(self._form)
        if self._form is None or (not a.get("name") and tag != "option"):
            return
        name = a.get("name", "")
        if name == "csrfmiddlewaretoken":
            return
        if tag == "input":
            kind = a.get("type", "text")
            spec = self._form.fields.setdefault(name, {"kind": kind, "options": []})
            if kind in {"radio", "checkbox", "hidden", "submit"}:
                spec["options"].append(a.get("value", "on"))
        elif tag == "textarea":
            self._form.fields[name] = {"kind": "textarea", "options": []}
        elif tag == "select":
            self._select = name
            self._form.fields[name] = {"kind": "select", "options": []}
        elif tag == "option" and self._select:
            self._form.fields[self._select]["options"].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _forms(client: Any, url: str) -> list[Form]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = _FormParser()
    parser.feed(response.content.decode())
    forms = [
        f for f in parser.forms if f.fields and not f.action.startswith(tuple(SKIPPED_ACTIONS))
    ]
    return forms


def _value(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    options = spec["options"]
    typed = st.one_of(st.sampled_from(NASTY), st.text(max_size=120))
    if spec["kind"] == "file":
        content = st.one_of(
            st.just(make_pdf()), st.binary(max_size=600), st.just(EXE), st.just(b"")
        )
        name = st.one_of(st.just("radio.pdf"), st.sampled_from(NASTY[:8]).map(lambda n: n + ".pdf"))
        return st.builds(lambda c, n: SimpleUploadedFile(n or "x.pdf", c), content, name)
    if options:
        return st.one_of(st.sampled_from(options), st.sampled_from(options), typed)
    return typed


def _data(draw: Any, form: Form) -> tuple[dict[str, Any], bool]:
    data: dict[str, Any] = {}
    for name, spec in form.fields.items():
        if draw(st.integers(0, 9)) == 0:
            continue  # a field left out of the post
        if spec["kind"] == "checkbox" and draw(st.booleans()):
            continue
        data[name] = draw(_value(spec))
    urlencoded = not form.multipart and draw(st.booleans())
    return data, urlencoded


def _vault_files(patient: Any) -> int:
    """Camille's encrypted blobs (her folder of the vault: other tests share the vault)."""
    root = Path(settings.STORAGES["vault"]["OPTIONS"]["location"])
    folder = root / patient.pk.hex[:2] / patient.pk.hex
    return sum(1 for p in folder.iterdir() if p.is_file()) if folder.exists() else 0


def _rows() -> tuple[int, ...]:
    """The row count of every table of the project's apps (but the trace), in one query."""
    tables = [
        connection.ops.quote_name(model._meta.db_table)
        for model in apps.get_models()
        if model.__module__.startswith("mes.") and model not in (Trace, ChainHead)
    ]
    with connection.cursor() as cur:
        cur.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables))
        return tuple(cur.fetchone())


def _state(patient: Any) -> tuple[tuple[int, ...], int, int]:
    return _rows(), _vault_files(patient), Notification.objects.count()


@pytest.fixture
def portal(client: Any, camille: Any) -> dict[str, list[Form]]:
    client.force_login(camille.user)
    doc = actions.document_deposit(
        actor=citizen_actor(camille),
        patient_id=camille.pk,
        title="Radio du genou",
        category="RADIO_SC",
        content=make_pdf(),
    )
    pages = {}
    for name, args in PAGES:
        url = reverse(name, args=[str(doc.pk) if a == "DOC" else a for a in args])
        for form in _forms(client, url):
            pages.setdefault(form.action or url, []).append(form)
    assert len(pages) >= len(PAGES), sorted(pages)  # a page that lost its form is noticed
    return pages


@pytest.mark.django_db
def test_generated_portal_posts_never_fail_nor_half_store(client, camille, portal):
    urls = sorted(portal)
    seen: dict[int, int] = {}

    @hsettings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def post(data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(urls))
        form = data.draw(st.sampled_from(portal[target]))
        values, urlencoded = _data(data.draw, form)
        before = _state(camille)
        if urlencoded:
            response = client.post(
                target,
                urlencode(values, doseq=True),
                content_type="application/x-www-form-urlencoded",
            )
        else:
            response = client.post(target, values)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (target, values)
        if response.status_code not in (301, 302, 303):
            # Refused (the form again with its errors, 400, 404, 413): nothing left behind.
            assert _state(camille) == before, (target, values)

    post()
    assert sum(seen.values()) >= EXAMPLES
    assert seen.get(200, 0) and seen.get(302, 0), seen  # both refusals and successes were made
    # Nothing half-stored: each document's blob is there, and no blob without its document.
    for doc in Document.objects.filter(patient=camille):
        assert store.get(camille.pk, doc.pk)
    assert _vault_files(camille) == Document.objects.filter(patient=camille).count()
    assert list(integrity.verify_all()) == []

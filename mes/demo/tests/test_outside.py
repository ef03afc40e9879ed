"""The demo as someone from outside meets it: what `mes demo` prints, and the README's API walk
done literally by a vendor (token, ITI-67, ITI-68, a bad input) over real HTTP."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command

from mes.audit.models import Trace, TraceAction
from mes.demo import dataset, loading
from mes.demo.management.commands.demo import Command
from mes.identity.models import Citizen

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
FHIR_DOC = ROOT / "docs" / "fhir-api.md"


def banner(port: int = 8000, smtp_port: int = 2525) -> str:
    out = io.StringIO()
    Command(stdout=out, no_color=True)._banner(port, smtp_port)
    return out.getvalue()


@pytest.fixture
def demo(db: Any) -> None:
    call_command("demo", "--load-only", stdout=io.StringIO())


def test_the_banner_names_every_door_and_every_login(demo: None) -> None:
    text = banner()
    for path in ("/connexion/", "/pro/connexion/", "/guichet/connexion/", "/enrolement/"):
        assert f"http://127.0.0.1:8000{path}" in text
    for login in dataset.logins():
        assert f"  {login.username} " in text
    # The support desk's agent and Inès's activation are in the README's table: printed too.
    assert "  sophie.3422 " in text
    assert "Inès Garnier" in text
    assert "Nadia Roux" in text and "http://127.0.0.1:8000/enrolement/cloture/" in text


def test_the_printed_commands_name_a_uv_that_exists(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh machine: uv only where `make` put it (.tools/bin), which `uv run` names in $UV.
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setenv("UV", "/clone/.tools/bin/uv")
    assert "  /clone/.tools/bin/uv run python scripts/deposit_document.py" in banner()
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    assert "  uv run python scripts/deposit_document.py" in banner()


def _readme_api_block() -> str:
    """The README's shell block of « The professionals' API, by hand » that reads documents."""
    section = README.read_text().split("### The professionals' API, by hand", 1)[1]
    section = section.split("\n### ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return next(b for b in blocks if "grant_type=client_credentials" in b)


def _doc_client_credentials_scope() -> str:
    section = FHIR_DOC.read_text().split("### Client credentials", 1)[1].split("\n### ", 1)[0]
    found = re.search(r'-d scope="([^"]+)"', section)
    assert found, "docs/fhir-api.md shows no scope for client credentials"
    return found.group(1)


def _curl_headers(block: str) -> dict[str, str]:
    headers = {}
    for line in block.splitlines():
        for name, value in re.findall(r'-H "([^:"]+): ([^"]+)"', line):
            headers[name] = value
    return headers


def _token(base: str, scope: str) -> str:
    api = loading.api_demo()
    secret = api.secret_file.read_text().strip()
    answer = httpx.post(
        f"{base}/o/token/",
        auth=(api.client_id, secret),
        data={"grant_type": "client_credentials", "scope": scope},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _operation_outcome(answer: httpx.Response) -> list[dict[str, Any]]:
    assert answer.headers["Content-Type"].startswith("application/fhir+json")
    body = answer.json()
    assert body["resourceType"] == "OperationOutcome", body
    return list(body["issue"])


@pytest.mark.django_db(transaction=True)
def test_a_vendor_follows_the_readme_literally(live_server: Any) -> None:
    call_command("demo", "--load-only", stdout=io.StringIO())
    block = _readme_api_block()
    base = live_server.url
    scope = re.search(r'-d scope="([^"]+)"', block)
    assert scope
    token = _token(base, scope.group(1))
    headers = {name: value.replace("$TOKEN", token) for name, value in _curl_headers(block).items()}
    assert headers["X-Mes-Professionnel"] == loading.api_demo().professional_id
    urls = [
        u.replace("http://127.0.0.1:8000", base) for u in re.findall(r'"(http://[^"]+)"', block)
    ]
    search, retrieve, bad = (u for u in urls if "/o/token/" not in u)

    found = httpx.get(search, headers=headers)
    assert found.status_code == 200, found.text
    entries = found.json()["entry"]
    assert len(entries) == 5
    document_id = entries[0]["resource"]["id"]

    content = httpx.get(retrieve.replace("<id>", document_id), headers=headers)
    assert content.status_code == 200, content.text
    assert content.headers["Content-Type"] == "application/pdf"
    assert content.content.startswith(b"%PDF")

    refused = httpx.get(bad, headers=headers)
    assert refused.status_code == 422
    assert [(i["code"], i["expression"]) for i in _operation_outcome(refused)] == [
        ("processing", ["identifier"])
    ]
    # Without the acting professional, as the README says: 400, naming the header.
    anonymous_act = httpx.get(search, headers={"Authorization": f"Bearer {token}"})
    assert anonymous_act.status_code == 400
    assert _operation_outcome(anonymous_act)[0]["expression"] == ["X-Mes-Professionnel"]

    louise = Citizen.objects.get(ins=loading.api_demo().patient_ins)
    read = Trace.objects.filter(patient_id=louise.pk, action=TraceAction.DOWNLOAD_DOC)
    assert read.filter(document_id=document_id, actor_id=headers["X-Mes-Professionnel"]).exists()


@pytest.mark.django_db(transaction=True)
def test_the_documented_client_credentials_scope_reaches_iti_68(live_server: Any) -> None:
    """docs/fhir-api.md's token for an establishment's server serves its ITI-68 example."""
    call_command("demo", "--load-only", stdout=io.StringIO())
    token = _token(live_server.url, _doc_client_credentials_scope())
    api = loading.api_demo()
    headers = {"Authorization": f"Bearer {token}", "X-Mes-Professionnel": api.professional_id}
    found = httpx.get(
        f"{live_server.url}/fhir/DocumentReference",
        params={
            "patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{api.patient_ins}",
            "status": "current",
            "_count": "1",
        },
        headers=headers,
    )
    assert found.status_code == 200, found.text
    url = found.json()["entry"][0]["resource"]["content"][0]["attachment"]["url"]
    content = httpx.get(url, headers=headers)
    assert content.status_code == 200, content.text
    assert content.content.startswith(b"%PDF")


def test_the_readme_block_is_shell() -> None:
    # The block is pasted into a terminal as it stands: bash must read it without a syntax error.
    checked = subprocess.run(
        ["bash", "-n"], input=_readme_api_block(), capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr


def test_the_demo_mails_name_the_address_it_serves(
    db: Any, settings: Any, monkeypatch: Any
) -> None:
    """The e-mails and SMS the demo writes while loading lead to the portal `mes demo` serves
    (its --port), not to a default host."""
    from mes.notifications.models import Delivery

    monkeypatch.delenv("MES_PORTAL_URL", raising=False)
    call_command("demo", "--load-only", "--port", "8123", stdout=io.StringIO())
    bodies = list(Delivery.objects.values_list("body", flat=True))
    linked = [body for body in bodies if "http" in body]
    assert linked
    assert all("http://127.0.0.1:8123/" in body for body in linked)

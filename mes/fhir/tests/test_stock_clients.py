"""Issue 12 « What it must show »: stock FHIR clients drive the API over real HTTP.

- `fhirclient` (the SMART reference Python client) with its defaults: it reads the
  CapabilityStatement, asks for its default scopes (`launch/patient user/*.* patient/*.read
  openid profile`), gets the subset it may have, exchanges the code with PKCE and searches.
- `fhirpy` with the token: reads, searches and pages DocumentReference, deposits through the
  base URL as advertised (no slash).
"""

from __future__ import annotations

import httpx
import pytest
from fhirclient import client as smart_client
from fhirclient.models.documentreference import DocumentReference as SmartDocumentReference
from fhirpy import SyncFHIRClient

from mes.fhir.models import register_client
from mes.fhir.tests.conftest import REDIRECT_URI, issue_token, practice_software
from mes.fhir.tests.mhd_fixtures import document, provide_bundle
from mes.fhir.tests.test_auth_live import session_cookie_of


@pytest.mark.django_db(transaction=True)
def test_fhirclient_with_its_defaults(live_server, dr_martin, camille):
    software = register_client(
        software_name="AppSMART", software_version="1", redirect_uris=REDIRECT_URI
    )
    smart = smart_client.FHIRClient(
        settings={
            "app_id": software.client_id,
            "app_secret": software.client_secret,
            "api_base": f"{live_server.url}/fhir",
            "redirect_uri": REDIRECT_URI,
        }
    )
    assert smart.prepare() is False  # metadata read, no token yet
    with httpx.Client(cookies=session_cookie_of(dr_martin)) as browser:
        redirect = browser.get(smart.authorize_url)
    assert redirect.status_code == 302, redirect.text[:300]
    smart.handle_callback(redirect.headers["Location"])
    assert smart.ready
    granted = smart.launch_context["scope"].split()
    assert set(granted) == {"user/*.*", "openid", "profile"}  # no launch, no patient/ scopes

    bundle = provide_bundle(camille, [document(), document(), document()])
    deposit = httpx.post(
        f"{live_server.url}/fhir",
        json=bundle,
        headers={
            "Authorization": f"Bearer {smart.server.auth.access_token}",
            "Content-Type": "application/fhir+json",
        },
    )
    assert deposit.status_code == 200, deposit.text[:500]
    search = SmartDocumentReference.where(
        struct={"patient": str(camille.pk), "status": "current", "_count": "2"}
    )
    found = list(search.perform_resources_iter(smart.server))  # pages of 2, `next` followed
    assert len(found) == 3
    assert {d.masterIdentifier.use for d in found} == {"usual"}


@pytest.mark.django_db(transaction=True)
def test_fhirpy_reads_searches_pages_and_deposits(live_server, dr_martin, camille):
    raw, _ = issue_token(
        practice_software().application,
        user=dr_martin.user,
        scopes=["user/DocumentReference.cruds", "user/Patient.rs", "user/Binary.r"],
    )
    fhir = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {raw}")
    deposit = httpx.post(
        f"{live_server.url}/fhir",
        json=provide_bundle(camille, [document(title=f"Lettre {n}") for n in range(3)]),
        headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/fhir+json"},
    )
    assert deposit.status_code == 200, deposit.text[:500]

    patient = fhir.reference("Patient", str(camille.pk)).to_resource()
    assert patient["id"] == str(camille.pk)
    search = fhir.resources("DocumentReference").search(patient=str(camille.pk), status="current")
    assert search.count() == 3
    every = search.limit(2).fetch_all()  # follows the `next` links
    assert len(every) == 3
    titles = sorted(d["content"][0]["attachment"]["title"] for d in every)
    assert titles == ["Lettre 0", "Lettre 1", "Lettre 2"]
    one = fhir.reference("DocumentReference", every[0]["id"]).to_resource()
    assert one["masterIdentifier"]["use"] == "usual"

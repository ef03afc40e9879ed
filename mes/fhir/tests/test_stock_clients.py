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


@pytest.mark.django_db(transaction=True)
def test_an_xml_round_trip_over_http_with_a_signed_assertion(live_server, hopital, camille):
    """A structure's server as a vendor would write it with httpx and lxml: client credentials
    at the token endpoint, the professional in a signed assertion, an ITI-65 bundle in FHIR XML
    to the base URL as advertised, found (ITI-67) and retrieved (ITI-68) in XML."""
    import base64
    import time
    import uuid

    from jwcrypto import jwk, jwt
    from lxml import etree

    from mes.conftest import authorise, make_pdf, make_professional
    from mes.fhir.auth.assertion import register_assertion_key
    from mes.fhir.core.formats import to_xml

    leroy = make_professional("10000000020", "Claire", "Leroy", "10", "SM04", hopital)
    authorise(camille, leroy)
    server = register_client(software_name="DPI", software_version="9", organisation=hopital)
    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="dpi")
    register_assertion_key(client=server.client, key_text=key.export_public())
    token = httpx.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials", "scope": "system/*.rs system/*.cud"},
        auth=(server.client_id, server.client_secret),
    ).json()["access_token"]

    def headers(**extra: str) -> dict[str, str]:
        now = int(time.time())
        signed = jwt.JWT(
            header={"alg": "ES256", "kid": "dpi"},
            claims={
                "iss": server.client_id,
                "sub": leroy.national_id,
                "aud": f"{live_server.url}/fhir/",
                "iat": now,
                "exp": now + 60,
                "jti": str(uuid.uuid4()),
            },
        )
        signed.make_signed_token(key)
        return {"Authorization": f"Bearer {token}", "X-Mes-Assertion": signed.serialize(), **extra}

    pdf = make_pdf("Compte rendu opératoire")
    xml_bundle = to_xml(provide_bundle(camille, [document(pdf, title="Compte rendu opératoire")]))
    deposit = httpx.post(
        f"{live_server.url}/fhir",
        content=xml_bundle,
        headers=headers(**{"Content-Type": "application/fhir+xml"}),
    )
    assert deposit.status_code == 200, deposit.text[:500]
    assert deposit.headers["content-type"] == "application/fhir+xml; charset=utf-8"
    ns = {"f": "http://hl7.org/fhir"}
    statuses = etree.fromstring(deposit.content).xpath(
        "f:entry/f:response/f:status/@value", namespaces=ns
    )
    assert statuses == ["201 Created"] * 3

    found = httpx.get(
        f"{live_server.url}/fhir/DocumentReference",
        params={"patient": str(camille.pk), "status": "current"},
        headers=headers(Accept="application/fhir+xml"),
    )
    tree = etree.fromstring(found.content)
    assert tree.xpath("f:total/@value", namespaces=ns) == ["1"]
    titles = tree.xpath("//f:attachment/f:title/@value", namespaces=ns)
    assert titles == ["Compte rendu opératoire"]
    url = tree.xpath("//f:attachment/f:url/@value", namespaces=ns)[0]
    binary = httpx.get(url, headers=headers(Accept="application/fhir+xml"))
    data = etree.fromstring(binary.content).xpath("f:data/@value", namespaces=ns)[0]
    assert base64.b64decode(data) == pdf

"""Practice software's authorization-code flow in a real browser: the professional signs in to
the Web PS from the authorization request and is sent back to the software's redirect URI.

Chromium applies the page's `form-action` to the redirects that answer a form post, so the last
redirect — to the software's own origin — must be allowed by the login pages' policy (httpx,
which drives the other OAuth tests, does not enforce CSP)."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from mes.fhir.models import register_client
from mes.identity.models import Professional
from mes.portal.tests.browser.conftest import TIMEOUT_MS

from .conftest import CODE_BUTTON, CODE_LABEL, login_code_for, submit_password, with_email

SOFTWARE_CALLBACK = "http://127.0.0.1:9/callback"  # a port nothing listens on: intercepted


def test_the_professional_signs_in_and_returns_to_the_software(
    browser: Any, live_server: Any, transactional_db: None, dr_martin: Professional
) -> None:
    # A context of its own: the `page` fixture fails on any request leaving the application,
    # and going back to the software is the point here. Console errors (a blocked form) still
    # fail the test.
    context = browser.new_context(locale="fr-FR", base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    client = register_client(
        software_name="Logiciel de cabinet",
        software_version="1.0",
        redirect_uris=SOFTWARE_CALLBACK,
        confidential=False,
    )
    verifier = "v" * 64
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": SOFTWARE_CALLBACK,
            "scope": "openid user/DocumentReference.read",
            "state": "etat-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    arrived: list[str] = []

    def software(route: Any) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Logiciel</p>")

    page.route(re.compile(r"^http://127\.0\.0\.1:9/"), software)
    with_email(dr_martin)
    page.goto(f"/o/authorize/?{query}")
    page.wait_for_url("**/pro/connexion/**")
    submit_password(page, rpps=dr_martin.rpps)
    page.wait_for_url("**/pro/connexion/code/")
    page.get_by_label(CODE_LABEL).fill(login_code_for(dr_martin))
    page.get_by_role("button", name=CODE_BUTTON).click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:9/callback"))
    params = parse_qs(urlsplit(arrived[-1]).query)
    assert params["state"] == ["etat-123"]
    assert params["code"][0]
    assert not errors, errors
    context.close()

"""A third-party app, played with stock clients: Authlib's OAuth 2.0 client (its requests
integration, as the sample partner app uses: Authlib's httpx one is deprecated) for the pairing,
the refresh and the calls; a browser-like httpx client posts the portal's real login and consent
forms (issue 11 « What it must show »)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.core import mail

from mes.access.models import PrivacySettings
from mes.catalogue.models import Service
from mes.catalogue.testing import TEST_REDIRECT_URI
from mes.conftest import PASSWORD
from mes.identity.models import Citizen

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def last_code() -> str:
    found = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert found
    return found.group(1)


@dataclass
class App:
    """The app's side: its OAuth client and the PKCE verifier of the current request."""

    oauth: OAuth2Session
    base: str
    verifier: str = ""
    state: str = ""

    def authorize_url(self, **extra: Any) -> str:
        self.verifier = generate_token(48)
        url, self.state = self.oauth.create_authorization_url(
            f"{self.base}/o/authorize/", code_verifier=self.verifier, **extra
        )
        return str(url)

    def fetch_token(self, callback: str) -> dict[str, Any]:
        return dict(
            self.oauth.fetch_token(
                f"{self.base}/o/token/",
                authorization_response=callback,
                code_verifier=self.verifier,
            )
        )


def app_for(service: Service, base: str, scope: str) -> App:
    assert service.application is not None
    client = OAuth2Session(
        client_id=service.application.client_id,
        redirect_uri=TEST_REDIRECT_URI,
        scope=scope,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",  # a public client, like a phone app
        default_timeout=60,
    )
    return App(oauth=client, base=base)


def onboarded(citizen: Citizen) -> None:
    PrivacySettings.objects.filter(patient=citizen).update(onboarded_at="2026-01-01T00:00Z")


def log_in(
    browser: httpx.Client, base: str, start: httpx.Response, username: str
) -> httpx.Response:
    """From the redirect to the portal's login, through the password and the one-time code, back
    to where the login was asked from: the response there."""
    assert start.status_code == 302, start.text[:300]
    login_url = start.headers["Location"]
    assert login_url.startswith("/connexion/"), login_url
    page = browser.get(base + login_url)
    next_url = parse_qs(urlsplit(login_url).query)["next"][0]
    sent = browser.post(
        base + "/connexion/",
        data={
            "csrfmiddlewaretoken": csrf_of(page),
            "identifier": username,
            "password": PASSWORD,
            "channel": "email",
            "next": next_url,
        },
    )
    assert sent.status_code == 302 and sent.headers["Location"] == "/connexion/code/", sent.text[
        :500
    ]
    page = browser.get(base + "/connexion/code/")
    done = browser.post(
        base + "/connexion/code/",
        data={"csrfmiddlewaretoken": csrf_of(page), "code": last_code()},
    )
    assert done.status_code == 302, done.text[:500]
    assert done.headers["Location"] == next_url
    return browser.get(base + next_url)


def consent(
    browser: httpx.Client, base: str, page: httpx.Response, *, espace: Citizen, purposes: list[int]
) -> httpx.Response:
    """Post the consent form of `page` (the authorization URL's page), allowing."""
    assert page.status_code == 200, page.text[:500]
    url = str(page.url)
    return browser.post(
        url,
        data={
            "csrfmiddlewaretoken": csrf_of(page),
            "espace": str(espace.pk),
            "purposes": [str(p) for p in purposes],
            "decision": "allow",
        },
    )


def pair_through_pages(
    app: App,
    browser: httpx.Client,
    citizen_username: str,
    *,
    espace: Citizen,
    purposes: list[int],
) -> dict[str, Any]:
    """The whole pairing: authorization request, login, consent, code, tokens."""
    start = browser.get(app.authorize_url())
    page = log_in(browser, app.base, start, citizen_username)
    back = consent(browser, app.base, page, espace=espace, purposes=purposes)
    assert back.status_code == 302, back.text[:800]
    callback = back.headers["Location"]
    assert callback.startswith(TEST_REDIRECT_URI), callback
    return app.fetch_token(callback)

"""The sample app's pages (a tiny WSGI application: the app a citizen would have on their phone).

One citizen per running app, as on a phone: the pairing and its tokens are kept in one JSON file
of the app's state folder (never in the repository).
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from . import mes_api
from .agp import agp_pdf
from .readings import day_of_readings, summarise

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
# What the app asks for; Mon espace santé grants the subset the citizen consented to.
SCOPES = (
    "openid patient/Observation.c patient/Observation.rs "
    "patient/DocumentReference.c patient/DocumentReference.rs offline_access"
)
DEVICE_SERIAL = "GP-0001"
TIMEOUT = 30  # seconds, for every call to Mon espace santé


@dataclass(frozen=True)
class Config:
    mes_url: str  # e.g. http://127.0.0.1:8000
    fhir_base: str  # the apps' FHIR API
    client_id: str
    editor_oid: str
    public_url: str  # this app's own address
    state_dir: Path

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/retour-mes"


class Store:
    """The app's memory: the pending authorisation requests and the pairing's tokens."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"pending": {}, "token": None, "log": []}
        data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def save(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(self.path)


def _page(title: str, body: str) -> bytes:
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} — Glycémie Plus</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #f6f8fb; }}
 header {{ background: #0b5d7a; color: #fff; padding: 1rem; }}
 main {{ max-width: 40rem; margin: 0 auto; padding: 1rem; }}
 .card {{ background: #fff; border-radius: .5rem; padding: 1rem; margin: 1rem 0;
          box-shadow: 0 1px 3px rgba(0,0,0,.15); }}
 button, .button {{ background: #0b5d7a; color: #fff; border: 0; border-radius: .3rem;
          padding: .7rem 1rem; font-size: 1rem; text-decoration: none; display: inline-block; }}
 .error {{ color: #a4000f; }}
</style></head>
<body><header><strong>Glycémie Plus</strong> — votre carnet de glycémie connecté</header>
<main><h1>{html.escape(title)}</h1>{body}</main></body></html>""".encode()


class PartnerApp:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = Store(config.state_dir / "glycemie-plus.json")

    # --- OAuth (Authlib's client) --------------------------------------------------------
    def _client(self, token: dict[str, Any] | None = None) -> OAuth2Session:
        def remember(token: dict[str, Any], refresh_token: str | None = None, **_: Any) -> None:
            data = self.store.load()
            data["token"] = token
            self.store.save(data)

        return OAuth2Session(
            client_id=self.config.client_id,
            redirect_uri=self.config.redirect_uri,
            scope=SCOPES,
            code_challenge_method="S256",
            token_endpoint=f"{self.config.mes_url}/o/token/",
            # A public client, like a phone app: PKCE instead of a secret.
            token_endpoint_auth_method="none",  # noqa: S106
            token=token,
            update_token=remember,
        )

    # --- WSGI ----------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], tuple[int, bytes, str]]] = {
            ("GET", "/"): self.home,
            ("POST", "/synchroniser"): self.start_pairing,
            ("GET", "/retour-mes"): self.pairing_return,
            ("POST", "/envoyer"): self.send_day,
            ("POST", "/oublier"): self.forget,
            ("GET", "/rapport.pdf"): self.report,
        }
        handler = routes.get((method, path))
        if handler is None:
            status, body, content_type = 404, _page("Page introuvable", ""), "text/html"
        else:
            status, body, content_type = handler(environ)
        headers = [("Content-Type", f"{content_type}; charset=utf-8")]
        if status == HTTPStatus.SEE_OTHER:
            headers.append(("Location", body.decode()))
            body = b""
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    def home(self, environ: dict[str, Any]) -> tuple[int, bytes, str]:
        data = self.store.load()
        token = data.get("token")
        log = "".join(f"<li>{html.escape(line)}</li>" for line in data.get("log", [])[-12:])
        if token:
            body = f"""<div class="card"><p>✅ Synchronisé avec <strong>Mon espace santé</strong>
 (droits accordés : <code>{html.escape(token.get("scope", ""))}</code>).</p>
 <form method="post" action="/envoyer"><button>Envoyer ma journée d'hier à Mon espace
 santé</button></form>
 <p><a href="/rapport.pdf">Voir le rapport de la journée (PDF)</a></p>
 <form method="post" action="/oublier"><button>Oublier cette synchronisation</button></form>
 </div>"""
        else:
            body = """<div class="card"><p>Retrouvez vos glycémies dans <strong>Mon espace
 santé</strong> : Glycémie Plus y ajoute chaque jour vos mesures et le rapport de votre capteur,
 avec votre accord.</p>
 <form method="post" action="/synchroniser"><button>Synchroniser avec Mon espace santé</button>
 </form></div>"""
        if log:
            body += f'<div class="card"><h2>Journal</h2><ul>{log}</ul></div>'
        return 200, _page("Mon carnet de glycémie", body), "text/html"

    def start_pairing(self, environ: dict[str, Any]) -> tuple[int, bytes, str]:
        verifier = secrets.token_urlsafe(64)
        url, state = self._client().create_authorization_url(
            f"{self.config.mes_url}/o/authorize/", code_verifier=verifier
        )
        data = self.store.load()
        data["pending"] = {state: verifier}  # one pending request at a time, like a phone
        self.store.save(data)
        return HTTPStatus.SEE_OTHER, url.encode(), "text/plain"

    def pairing_return(self, environ: dict[str, Any]) -> tuple[int, bytes, str]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        data = self.store.load()
        verifier = data.get("pending", {}).pop(query.get("state", ""), None)
        if query.get("error"):
            message = (
                "Vous n'avez pas autorisé la synchronisation."
                if query["error"] == "access_denied"
                else f"Mon espace santé a refusé la synchronisation ({query['error']})."
            )
            return 400, _page("Synchronisation", f'<p class="error">{message}</p>'), "text/html"
        if verifier is None:
            return (
                400,
                _page("Synchronisation", '<p class="error">Demande inconnue ou expirée.</p>'),
                "text/html",
            )
        url = f"{self.config.redirect_uri}?{environ.get('QUERY_STRING', '')}"
        try:
            token = self._client().fetch_token(
                f"{self.config.mes_url}/o/token/",
                authorization_response=url,
                code_verifier=verifier,
                timeout=TIMEOUT,
            )
        except OAuthError as exc:
            return 400, _page("Synchronisation", f'<p class="error">{exc}</p>'), "text/html"
        data["token"] = dict(token)
        data.setdefault("log", []).append("Synchronisation établie avec Mon espace santé.")
        self.store.save(data)
        return HTTPStatus.SEE_OTHER, b"/", "text/plain"

    def _day(self) -> date:
        return date.today() - timedelta(days=1)

    def report(self, environ: dict[str, Any]) -> tuple[int, bytes, str]:
        day = self._day()
        return 200, agp_pdf(day, day_of_readings(day), patient_name="Vous"), "application/pdf"

    def send_day(self, environ: dict[str, Any]) -> tuple[int, bytes, str]:
        data = self.store.load()
        token = data.get("token")
        if not token:
            return HTTPStatus.SEE_OTHER, b"/", "text/plain"
        lines = push_day(self._client(token), self.config, token, self._day())
        data = self.store.load()  # the client may have refreshed the token meanwhile
        data.setdefault("log", []).extend(lines)
        if any("401" in line for line in lines):
            data["token"] = None  # unpaired on the espace's side: pair again
        self.store.save(data)
        return HTTPStatus.SEE_OTHER, b"/", "text/plain"

    def forget(self, environ: dict[str, Any]) -> tuple[int, bytes, str]:
        data = self.store.load()
        data["token"] = None
        data.setdefault("log", []).append("Synchronisation oubliée par l'application.")
        self.store.save(data)
        return HTTPStatus.SEE_OTHER, b"/", "text/plain"


def push_day(client: OAuth2Session, config: Config, token: dict[str, Any], day: date) -> list[str]:
    """Send the day's readings then its report; what happened, in French, line by line."""
    patient = str(token.get("patient", ""))
    readings = day_of_readings(day)
    headers = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}
    sent, failures = 0, []
    for reading in readings:
        bundle = mes_api.glucose_bundle(
            reading, patient=patient, editor_oid=config.editor_oid, serial=DEVICE_SERIAL
        )
        response = client.post(config.fhir_base, json=bundle, headers=headers, timeout=TIMEOUT)
        if response.status_code == HTTPStatus.OK:
            sent += 1
        else:
            failures.append(
                f"Mesure de {reading.at:%H:%M} refusée : HTTP {response.status_code}"
                f"{_why(response)}"
            )
            if response.status_code == HTTPStatus.UNAUTHORIZED:
                break
    lines = [f"{sent} mesures du {day:%d/%m/%Y} envoyées.", *failures[:3]]
    if sent:
        s = summarise(readings)
        pdf = agp_pdf(day, readings, patient_name="Rapport Glycémie Plus")
        document = mes_api.agp_document(pdf, patient=patient, day=day)
        response = client.post(
            f"{config.fhir_base}/DocumentReference", json=document, headers=headers, timeout=TIMEOUT
        )
        if response.status_code == HTTPStatus.CREATED:
            lines.append(f"Rapport du jour déposé (temps dans la cible {s.in_range * 100:.0f} %).")
        else:
            lines.append(f"Rapport refusé : HTTP {response.status_code}{_why(response)}")
    return lines


def _why(response: Any) -> str:
    """The first reason an OperationOutcome gives, to show the person what went wrong."""
    try:
        issues = response.json().get("issue") or []
    except ValueError:
        return ""
    texts = [
        str(i.get("diagnostics")) for i in issues if isinstance(i, dict) and i.get("diagnostics")
    ]
    return f" ({texts[0]})" if texts else ""

"""The real mix of a working day, for locust (issue 16 §8); run it with `python -m bench load`,
which starts the stack, prepares the people and reads the figures (bench/locust_run.py).

- citizens (logged-in portal sessions) read their documents, one document, their profile;
- professionals' software (OAuth2 client-credentials token) searches a patient's documents
  (ITI-67) and deposits a PDF (ITI-65) through the FHIR API;
- professionals' mail arrives at the MSSanté gateway (SMTP, a PDF attached), timed like the
  rest and counted in the same statistics;
- apps (the demo's partner app « Glycémie Plus », paired with the account holders, a bearer
  token each) push glucose readings through the apps' FHIR API (PCH-01, `POST
  /fhir/services/`) and read them back.

Each user class reports its own figures besides locust's per-request ones: every request is
tagged with its class (`context`), and the response times are written per class to the JSON
file named by BENCH_LOAD_CLASSES when the run stops.

Every request carries X-Forwarded-Proto: https, as the TLS-terminating proxy would, so the
production security settings stay on. BENCH_LOAD_CONFIG names the JSON file the runner wrote
(sessions, documents, the API client, the gateway's port); BENCH_LOAD_RATE, when set, paces
each user to that many tasks per second (the 70 % run), else users go as fast as answered.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import smtplib
import sys
import time
import uuid
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from locust import HttpUser, User, between, constant_throughput, events, task

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))
from deposit_document import oid, parse, provide_bundle  # noqa: E402

from partner_app.mes_api import glucose_bundle  # noqa: E402
from partner_app.readings import Reading  # noqa: E402

CONFIG: dict[str, Any] = json.loads(Path(os.environ["BENCH_LOAD_CONFIG"]).read_text())
RATE = float(os.environ.get("BENCH_LOAD_RATE", "0"))
PROXY = {"X-Forwarded-Proto": "https"}
NIR = "urn:oid:1.2.250.1.213.1.4.8"
SCOPES = "user/DocumentReference.write user/DocumentReference.read"


_times: dict[str, list[float]] = {}
_errors: dict[str, int] = {}
_started = [time.monotonic()]


@events.test_start.add_listener
def _start(**_: Any) -> None:
    _started[0] = time.monotonic()


@events.request.add_listener
def _record(response_time: float, exception: Any, context: dict[str, Any], **_: Any) -> None:
    kind = context.get("classe", "autre")
    _times.setdefault(kind, []).append(response_time)
    if exception:
        _errors[kind] = _errors.get(kind, 0) + 1


@events.test_stop.add_listener
def _write(**_: Any) -> None:
    path = os.environ.get("BENCH_LOAD_CLASSES")
    if not path:
        return
    seconds = max(time.monotonic() - _started[0], 1e-9)

    def pct(values: list[float], q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 1)

    out = {}
    for kind, values in sorted(_times.items()):
        values.sort()
        out[kind] = {
            "requests": len(values),
            "errors": _errors.get(kind, 0),
            "per_second": round(len(values) / seconds, 1),
            "p50_ms": pct(values, 0.50),
            "p95_ms": pct(values, 0.95),
            "p99_ms": pct(values, 0.99),
        }
    Path(path).write_text(json.dumps(out))


def _pace() -> Any:
    return constant_throughput(RATE) if RATE else between(0, 0)


def _pdf(n: int) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.drawString(72, 720, f"Compte rendu de consultation n° {n} — {uuid.uuid4().hex}")
    c.save()
    return out.getvalue()


PDFS = [_pdf(n) for n in range(50)]  # built once, before any user starts
_sessions = itertools.cycle(CONFIG["sessions"])


class Citizen(HttpUser):
    """A person reading their espace: the document list, a document, the medical profile."""

    weight = 6
    wait_time = _pace()

    def context(self) -> dict[str, str]:
        return {"classe": "citoyens (portail)"}

    def on_start(self) -> None:
        me = next(_sessions)
        self.document_ids: list[str] = me["documents"]
        self.client.headers.update({**PROXY, "Cookie": f"{CONFIG['cookie']}={me['session']}"})

    @task(3)
    def documents(self) -> None:
        self.client.get("/documents/", name="portail : mes documents")

    @task(2)
    def document(self) -> None:
        if self.document_ids:
            pk = random.choice(self.document_ids)  # noqa: S311 - a load pattern, not a secret
            self.client.get(f"/documents/{pk}/", name="portail : un document")

    @task(1)
    def profile(self) -> None:
        self.client.get("/profil-medical/", name="portail : profil médical")


class Professional(HttpUser):
    """A practice's software: ITI-67 searches, some ITI-65 deposits."""

    weight = 3
    wait_time = _pace()

    def context(self) -> dict[str, str]:
        return {"classe": "professionnels (API FHIR)"}

    def on_start(self) -> None:
        answer = self.client.post(
            "/o/token/",
            data={"grant_type": "client_credentials", "scope": SCOPES},
            auth=(CONFIG["client_id"], CONFIG["client_secret"]),
            headers=PROXY,
            name="OAuth2 : jeton",
        )
        self.token = answer.json()["access_token"]
        self.client.headers.update(
            {
                **PROXY,
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/fhir+json",
                "X-Mes-Mode-Acces": "normal",
                "X-Mes-Professionnel": CONFIG["rpps"],
            }
        )

    @task(3)
    def search(self) -> None:
        ins = random.choice(CONFIG["patients"])  # noqa: S311
        self.client.get(
            "/fhir/DocumentReference",
            params={"patient.identifier": f"{NIR}|{ins}", "status": "current", "_count": "20"},
            name="ITI-67 : recherche",
        )

    @task(1)
    def deposit(self) -> None:
        content = random.choice(PDFS)  # noqa: S311
        args = parse(
            [
                "--token",
                self.token,
                "--ins",
                random.choice(CONFIG["patients"]),  # noqa: S311
                "--file",
                "-",
                "--title",
                "Compte rendu de consultation",
                "--unique-id",
                oid(),
            ]
        )
        bundle = provide_bundle(args, content, "application/pdf")
        self.client.post(
            "/fhir/",
            data=json.dumps(bundle),
            headers={"Content-Type": "application/fhir+json"},
            name="ITI-65 : dépôt",
        )


class Mail(User):
    """A professional's mail client: one message with a PDF per task, over SMTP."""

    weight = 1
    wait_time = _pace()

    def on_start(self) -> None:
        self.smtp = smtplib.SMTP("127.0.0.1", CONFIG["smtp_port"], timeout=60)

    def on_stop(self) -> None:
        self.smtp.close()

    @task
    def send(self) -> None:
        msg = EmailMessage()
        msg["From"] = CONFIG["sender"]
        msg["To"] = f"{random.choice(CONFIG['patients'])}@{CONFIG['patient_domain']}"  # noqa: S311
        msg["Subject"] = "Compte rendu"
        msg["Message-ID"] = f"<load-{uuid.uuid4().hex}@medecin.mssante.fr>"
        msg.set_content("Bonjour,\nVoici le compte rendu.\n")
        pdf = random.choice(PDFS)  # noqa: S311
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="cr.pdf")
        payload = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
        started = time.perf_counter()
        error: Exception | None = None
        try:
            self.smtp.sendmail(CONFIG["sender"], [msg["To"]], payload)
        except (smtplib.SMTPException, OSError) as exc:
            error = exc
            self.smtp = smtplib.SMTP("127.0.0.1", CONFIG["smtp_port"], timeout=60)
        self.environment.events.request.fire(
            request_type="SMTP",
            name="MSSanté : courrier reçu",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=len(payload),
            exception=error,
            context={"classe": "courrier (passerelle MSSanté)"},
        )


_apps = itertools.cycle(CONFIG["apps"])
PARIS = ZoneInfo("Europe/Paris")


class App(HttpUser):
    """A paired app pushing its user's glucose readings (PCH-01) and reading them back."""

    weight = 2
    wait_time = _pace()

    def context(self) -> dict[str, str]:
        return {"classe": "applications (API des services)"}

    def on_start(self) -> None:
        me = next(_apps)
        self.patient: str = me["patient"]
        self.serial = f"LOAD-{uuid.uuid4().hex[:12]}"
        self.client.headers.update(
            {
                **PROXY,
                "Authorization": f"Bearer {me['token']}",
                "Accept": "application/fhir+json",
            }
        )

    @task(4)
    def push(self) -> None:
        reading = Reading(at=datetime.now(PARIS), mg_dl=random.randint(70, 180))  # noqa: S311
        bundle = glucose_bundle(
            reading, patient=self.patient, editor_oid=CONFIG["editor_oid"], serial=self.serial
        )
        self.client.post(
            "/fhir/services/",
            data=json.dumps(bundle),
            headers={"Content-Type": "application/fhir+json"},
            name="apps : mesure (PCH-01)",
        )

    @task(1)
    def read(self) -> None:
        self.client.get(
            "/fhir/services/Observation",
            params={"code": "2339-0"},
            name="apps : mesures lues",
        )

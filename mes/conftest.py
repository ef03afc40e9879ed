"""The named cast every test tells its story with (DESIGN.md §7).

camille: the patient; louis: her son (she represents him); dr_martin: her médecin traitant;
dr_durand: a doctor she never saw; ide_bernard: a nurse she authorised; podo_petit: a
pédicure-podologue she authorised; pharmacie_centre: a pharmacy; regulateur_samu: a SAMU doctor;
assurance_maladie: the insurer; bob: another patient.

Also the `live_server` every live-server test shares (pytest-django's, made to stop cleanly).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from pytest_django.live_server_helper import LiveServer
from reportlab.pdfgen import canvas

from mes.access.actors import Actor, ActorKind, citizen_actor, professional_actor
from mes.access.models import PrivacySettings, ProfessionalAccess
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen, Organisation, Professional, User
from mes.lib.ins import with_key

PASSWORD = "Motdepasse-solide-2026!"


def make_pdf(text: str = "Compte rendu de consultation") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def make_citizen(
    username: str | None,
    *,
    first13: str,
    first_name: str,
    birth_name: str,
    birth_date: date,
    sex: str,
    email: str = "",
) -> Citizen:
    user = None
    if username:
        user = User.objects.create_user(username=username, password=PASSWORD, email=email)
    citizen = Citizen.objects.create(
        user=user,
        ins=with_key(first13),
        birth_name=birth_name,
        first_names=first_name,
        first_name=first_name,
        birth_date=birth_date,
        sex=sex,
        birth_place_insee=first13[5:10],
        email=email,
    )
    PrivacySettings.objects.create(patient=citizen)
    return citizen


def make_professional(
    rpps: str,
    first_name: str,
    last_name: str,
    profession: str,
    specialty: str = "",
    organisation: Organisation | None = None,
) -> Professional:
    user = User.objects.create_user(username=rpps, password=PASSWORD, kind=User.Kind.PROFESSIONAL)
    return Professional.objects.create(
        user=user,
        rpps=rpps,
        first_name=first_name,
        last_name=last_name,
        profession=profession,
        specialty=specialty,
        organisation=organisation,
    )


def authorise(patient: Citizen, professional: Professional, **extra: Any) -> ProfessionalAccess:
    return ProfessionalAccess.objects.create(
        patient=patient,
        professional=professional,
        status=ProfessionalAccess.Status.AUTHORISED,
        **extra,
    )


@pytest.fixture
def camille(db: Any) -> Citizen:
    return make_citizen(
        "camille",
        first13="2850575056012",
        first_name="Camille",
        birth_name="Lefèvre",
        birth_date=date(1985, 5, 14),
        sex="F",
        email="camille@example.org",
    )


@pytest.fixture
def louis(camille: Citizen) -> Citizen:
    child = make_citizen(
        None,
        first13="1150375056034",
        first_name="Louis",
        birth_name="Lefèvre",
        birth_date=date(2015, 3, 2),
        sex="M",
    )
    LegalRepresentation.objects.create(
        representative=camille, represented=child, role=LegalRepresentation.Role.MOTHER
    )
    return child


@pytest.fixture
def pierre(db: Any) -> Citizen:
    """Louis's father, with his own activated espace, not (yet) his legal representative: the
    other parent a « Partage du profil » names (portal.md §6)."""
    return make_citizen(
        "pierre",
        first13="1830675056078",
        first_name="Pierre",
        birth_name="Lefèvre",
        birth_date=date(1983, 6, 2),
        sex="M",
        email="pierre@example.org",
    )


@pytest.fixture
def bob(db: Any) -> Citizen:
    return make_citizen(
        "bob",
        first13="1700169123045",
        first_name="Bob",
        birth_name="Moreau",
        birth_date=date(1970, 1, 20),
        sex="M",
        email="bob@example.org",
    )


@pytest.fixture
def cabinet(db: Any) -> Organisation:
    return Organisation.objects.create(
        finess="750000001", name="Cabinet médical République", kind=Organisation.Kind.PRACTICE
    )


@pytest.fixture
def dr_martin(camille: Citizen, cabinet: Organisation) -> Professional:
    pro = make_professional("10000000001", "Anne", "Martin", "10", "SM54", cabinet)
    # Camille's médecin traitant, as declared to the Assurance Maladie.
    authorise(camille, pro, is_treating_physician=True, treating_source="insurer")
    return pro


@pytest.fixture
def dr_durand(db: Any) -> Professional:
    return make_professional("10000000002", "Paul", "Durand", "10", "SM04")


@pytest.fixture
def ide_bernard(camille: Citizen) -> Professional:
    pro = make_professional("10000000003", "Julie", "Bernard", "60")
    authorise(camille, pro)
    return pro


@pytest.fixture
def podo_petit(camille: Citizen) -> Professional:
    pro = make_professional("10000000004", "Marc", "Petit", "80")
    authorise(camille, pro)
    return pro


@pytest.fixture
def pharmacie_centre(db: Any) -> Organisation:
    return Organisation.objects.create(
        finess="750000002", name="Pharmacie du Centre", kind=Organisation.Kind.PHARMACY
    )


@pytest.fixture
def samu(db: Any) -> Organisation:
    return Organisation.objects.create(
        finess="750000003", name="SAMU de Paris", kind=Organisation.Kind.SAMU
    )


@pytest.fixture
def regulateur_samu(samu: Organisation) -> Professional:
    return make_professional("10000000005", "Hélène", "Roux", "10", "SM53", samu)


@pytest.fixture
def camille_actor(camille: Citizen) -> Actor:
    return citizen_actor(camille)


@pytest.fixture
def assurance_maladie() -> Actor:
    return Actor(kind=ActorKind.INSURER, display_name="Assurance Maladie", national_id="CNAM")


def pro(professional: Professional, **kwargs: Any) -> Actor:
    return professional_actor(professional, **kwargs)


# --- The live server --------------------------------------------------------------------------


class _ClosingWSGIServer(ThreadedWSGIServer):
    """Django's threaded test server, which also ends, when it closes, the connections its
    clients keep alive (HTTP/1.1: requests' and httpx's pools, Chromium).

    Django's server leaves such a connection's thread (a daemon) waiting for the next request.
    When the client let go of its socket only after the server had stopped and given the test
    database's connection back to the main thread, that thread closed a connection it no longer
    shared: "DatabaseWrapper objects created in a thread can only be used in that same thread",
    printed as a thread warning at the end of a run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._open[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._open.pop(request, None)

    def server_close(self) -> None:
        super().server_close()
        with self._lock:
            still_open = list(self._open.items())
        for sock, _ in still_open:
            # The waiting thread reads the end and finishes (OSError: the client closed it).
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in still_open:
            thread.join(timeout=10)


class _ClosingLiveServerThread(LiveServerThread):
    server_class = _ClosingWSGIServer


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """pytest-django's `live_server`, whose stop ends the connections clients kept alive and
    waits for their threads before the test database's connection stops being shared
    (_ClosingWSGIServer)."""
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    stock = server.thread
    server.thread = _ClosingLiveServerThread(
        stock.host,
        stock.static_handler,
        connections_override=stock.connections_override,
        port=stock.port,
    )
    server.thread.daemon = True
    server.start()
    yield server
    server.stop()

"""The Web PS cast: the professionals of mes/conftest.py logged in, and Camille's documents.

dr_martin (her médecin traitant) wrote a consultation report and a CR d'accouchement;
ide_bernard (a nurse she authorised) wrote a care plan she masked from the other professionals;
podo_petit (a pédicure-podologue) may not read the CR d'accouchement (matrix).
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import pytest
from django.test import Client

from mes.access.actions import emergency_access_open
from mes.access.actors import AccessMode
from mes.access.models import BreakGlassSession, ProfessionalAccess
from mes.audit.models import Trace
from mes.conftest import make_pdf, pro
from mes.identity.models import Professional
from mes.pro.access import EMERGENCY_SESSION_KEY
from mes.records import actions
from mes.records.models import Document


def login_as(client: Client, professional: Professional) -> Client:
    assert professional.user is not None
    client.force_login(professional.user)
    return client


@pytest.fixture
def as_martin(client: Client, dr_martin: Professional) -> Client:
    return login_as(client, dr_martin)


@pytest.fixture
def as_durand(client: Client, dr_durand: Professional) -> Client:
    return login_as(client, dr_durand)


@pytest.fixture
def as_bernard(client: Client, ide_bernard: Professional) -> Client:
    return login_as(client, ide_bernard)


@pytest.fixture
def as_podo(client: Client, podo_petit: Professional) -> Client:
    return login_as(client, podo_petit)


@pytest.fixture
def as_regulateur(client: Client, regulateur_samu: Professional) -> Client:
    return login_as(client, regulateur_samu)


@pytest.fixture
def as_camille(client: Client, camille: Any) -> Client:
    client.force_login(camille.user)
    return client


def deposit(author: Professional, patient: Any, **kwargs: Any) -> Document:
    args: dict[str, Any] = {
        "title": "Compte rendu de consultation",
        "type_code": "11488-4",
        "service_date": date(2026, 1, 10),
        "content": make_pdf(),
    }
    args.update(kwargs)
    return actions.document_deposit(actor=pro(author), patient_id=patient.pk, **args)


@pytest.fixture
def consultation(camille: Any, dr_martin: Professional) -> Document:
    return deposit(dr_martin, camille)


@pytest.fixture
def accouchement(camille: Any, dr_martin: Professional) -> Document:
    return deposit(
        dr_martin,
        camille,
        title="Compte rendu d'accouchement",
        type_code="15508-5",
        service_date=date(2025, 6, 2),
    )


@pytest.fixture
def plan_de_soins(camille: Any, ide_bernard: Professional) -> Document:
    """A nurse's document masked from the other professionals."""
    return deposit(
        ide_bernard,
        camille,
        title="Plan de soins infirmiers",
        type_code="18776-5",
        masked=True,
        service_date=date(2026, 2, 1),
    )


def open_emergency(
    client: Client,
    professional: Professional,
    patient: Any,
    mode: AccessMode = AccessMode.BREAK_GLASS,
    justification: str = "Patiente inconsciente aux urgences",
) -> BreakGlassSession:
    """An emergency access opened by the domain and chosen in this browser session."""
    session = emergency_access_open(
        actor=pro(professional, mode=mode, justification=justification), patient_id=patient.pk
    )
    store = client.session
    store[EMERGENCY_SESSION_KEY] = {str(patient.pk): mode.value}
    store.save()
    return session


def block(patient: Any, professional: Professional) -> None:
    ProfessionalAccess.objects.update_or_create(
        patient=patient,
        professional=professional,
        defaults={"status": ProfessionalAccess.Status.BLOCKED},
    )


def traces(patient: Any, action: str, **filters: Any) -> list[Trace]:
    return list(
        Trace.objects.filter(patient_id=patient.pk, action=action, **filters).order_by("seq")
    )


def body(response: Any) -> str:
    """The page's HTML with entities decoded, so that French apostrophes compare plainly."""
    return html.unescape(response.content.decode())

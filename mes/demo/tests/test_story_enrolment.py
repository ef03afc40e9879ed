"""The demo's enrolment story: Inès can be activated from the portal with the code of her
notice in the outbox; Nadia's created, never activated espace can be closed with the code in
the outbox; a second load sends nothing new; the 3422 agent can log in."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from mes.demo.dataset import DEMO_PASSWORD
from mes.demo.story_enrolment import (
    INES_BIRTH,
    INES_INS,
    INES_SERIAL,
    NADIA_BIRTH,
    NADIA_INS,
    NADIA_SERIAL,
    load_enrolment_stories,
)
from mes.enrolment.models import Espace, EspaceState


def _code_sent_to(address: str) -> str:
    [body] = [m.body for m in mail.outbox if m.to == [address]]
    match = re.search(r"([A-Z0-9]{5}-[A-Z0-9]{5})", body)
    assert match
    return match.group(1)


def test_ines_is_activated_with_the_code_of_her_notice(client, db):
    assert load_enrolment_stories()["informations envoyées"] == 1
    assert load_enrolment_stories() == {}
    code = _code_sent_to("ines.garnier@example.org")
    response = client.post(
        reverse("portal:enrolment_activation"),
        {
            "code": code,
            "nir": INES_INS,
            "vitale_serial": INES_SERIAL,
            "birth_date": INES_BIRTH.isoformat(),
        },
    )
    assert response.status_code == 302
    client.post(
        reverse("portal:enrolment_credentials"),
        {
            "username": "ines.garnier",
            "password": "Printemps-2026!",
            "password2": "Printemps-2026!",
            "email": "ines.garnier@example.org",
            "channel": "email",
        },
    )
    otp = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    response = client.post(reverse("portal:enrolment_confirm"), {"code": otp})
    assert response.status_code == 302
    assert Espace.objects.get(citizen__ins=INES_INS).state == EspaceState.ACTIVE


def test_nadias_created_espace_is_closed_with_the_code_in_the_outbox(client, db):
    assert load_enrolment_stories()["profils créés jamais activés"] == 1
    assert load_enrolment_stories() == {}
    espace = Espace.objects.get(citizen__ins=NADIA_INS)
    assert espace.state == EspaceState.CREATED and espace.citizen.user_id is None
    assert [e.to_state for e in espace.events.order_by("at")] == [
        EspaceState.NOTIFIED,
        EspaceState.CREATED,
    ]
    response = client.post(
        reverse("portal:enrolment_closure_code"),
        {
            "code": _code_sent_to("nadia.roux@example.org"),
            "nir": NADIA_INS,
            "vitale_serial": NADIA_SERIAL,
            "birth_date": NADIA_BIRTH.isoformat(),
        },
    )
    assert response.url == reverse("portal:enrolment_closure_code_confirm")
    client.post(response.url, {"confirm": "on"})
    assert Espace.objects.get(citizen__ins=NADIA_INS).state == EspaceState.CLOSED
    assert load_enrolment_stories() == {}  # closed in the demo, she stays closed


def test_the_agent_of_the_demo_logs_in(client, db):
    load_enrolment_stories()
    response = client.post(
        reverse("backoffice:login"), {"identifier": "sophie.3422", "password": DEMO_PASSWORD}
    )
    assert response.url == reverse("backoffice:login_code")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    response = client.post(reverse("backoffice:login_code"), {"code": code})
    assert response.url == reverse("backoffice:search")

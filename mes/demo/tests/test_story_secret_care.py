"""The demo's minor with secret care, loaded after the dataset and the messaging directory,
twice: Chloé (16) reads both of her pédiatre's messages, her mother Nathalie only the ordinary
one — through the pages as through the policies; both log in with the demo's password and
`mes demo` prints their logins."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction
from mes.demo import dataset
from mes.demo.management.commands.demo import Command
from mes.demo.story_messaging import load_messaging_story
from mes.demo.story_secret_care import (
    HIDDEN_SUBJECT,
    MOTHER,
    ORDINARY_SUBJECT,
    TEENAGER,
    load_secret_care_story,
)
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen
from mes.messaging.policies import conversations_visible_to
from mes.portal.access import PROFILE_SESSION_KEY

TODAY = date(2026, 11, 24)


def _inbox(citizen: Citizen, profile: Citizen) -> str:
    """The messagerie of `profile` as `citizen` sees it, signed in with the demo password."""
    client = Client()
    assert client.login(username=citizen.user.username, password=dataset.DEMO_PASSWORD)
    session = client.session
    session[PROFILE_SESSION_KEY] = str(profile.pk)
    session.save()
    response = client.get(reverse("portal:messaging"))
    assert response.status_code == 200
    return response.content.decode()


def test_chloe_reads_her_secret_care_her_mother_never(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    dataset.load(TODAY)
    load_messaging_story()
    first = load_secret_care_story(TODAY)
    assert first == {"usagers (soins sous secret)": 2, "messages de la pédiatre de Chloé": 2}
    assert load_secret_care_story(TODAY) == {}
    chloe, mother = (Citizen.objects.get(ins=p.ins) for p in (TEENAGER, MOTHER))
    assert chloe.age_on(TODAY) == 16 and chloe.user is not None
    assert LegalRepresentation.objects.get(representative=mother).represented == chloe

    mine = conversations_visible_to(citizen_actor(chloe), chloe)
    assert sorted(c.subject for c in mine) == sorted([ORDINARY_SUBJECT, HIDDEN_SUBJECT])
    theirs = conversations_visible_to(citizen_actor(mother), chloe)
    assert [c.subject for c in theirs] == [ORDINARY_SUBJECT]
    received = Trace.objects.get(
        patient_id=chloe.pk, action=TraceAction.RECEIVE_MESSAGE, document_title=HIDDEN_SUBJECT
    )
    assert received.hidden_from_representatives

    own = _inbox(chloe, chloe)
    assert HIDDEN_SUBJECT in own and "Certificat d&#x27;aptitude au sport" in own
    parent = _inbox(mother, chloe)
    assert HIDDEN_SUBJECT not in parent and "Certificat d&#x27;aptitude au sport" in parent


def test_the_banner_prints_both_logins(db: Any) -> None:
    call_command("demo", "--load-only", stdout=io.StringIO())
    out = io.StringIO()
    Command(stdout=out, no_color=True)._banner(8000, 2525)
    text = out.getvalue()
    assert "  chloe        Chloé Girard, 16 ans" in text
    assert "  nathalie     Nathalie Girard" in text

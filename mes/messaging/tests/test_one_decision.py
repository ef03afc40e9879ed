# ruff: noqa: F811 — fixtures imported from other test modules, then requested by name
"""One access decision per read of the messagerie: what a read shows of a minor's secret care
(the list, the unread marks, a conversation's messages, its files, whether a parent may answer)
follows the standing its access was decided on, never a second decision — as the agenda's
reads (mes/agenda/tests/test_one_decision.py). A spy on `standing` (what every decision
computes, mes.access.decision) counts them; what is shown and traced is unchanged
(test_secret_care.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db.models import OuterRef
from django.urls import reverse

from mes.access import decision
from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction, TraceOutcome
from mes.conftest import pro
from mes.identity.models import Citizen, Professional
from mes.lib.errors import InvalidInput
from mes.messaging import actions
from mes.messaging.actions import Outgoing
from mes.messaging.models import Message
from mes.messaging.policies import conversations_visible_to, inbox_access, unread_filter

from .fixtures import mail, receive
from .test_secret_care import _as, box, lea, secret_message  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def decisions() -> Iterator[mock.MagicMock]:
    with mock.patch.object(decision, "standing", wraps=decision.standing) as spy:
        yield spy


@pytest.fixture
def both(lea: Citizen, box: Any) -> tuple[Message, Message]:
    """Léa's secret message (with its file) and an ordinary one, both unread."""
    return secret_message(lea), receive(lea, mail(subject="Certificat de sport"))


def _traces(patient: Citizen, action: TraceAction) -> list[tuple[str, str]]:
    return list(
        Trace.objects.filter(patient_id=patient.pk, action=action).values_list(
            "actor_id", "outcome"
        )
    )


def test_the_mother_lists_her_daughter_s_inbox_on_one_decision(
    lea: Citizen, camille: Citizen, both: tuple[Message, Message], decisions: mock.MagicMock
) -> None:
    """The inbox view's reads: the access, the list, the unread marks."""
    mother = citizen_actor(camille)
    reached = inbox_access(mother, lea.pk)
    listed = conversations_visible_to(mother, lea, sees_secret=reached.sees_secret_care)
    unread = Message.objects.filter(
        unread_filter(mother, lea, sees_secret=reached.sees_secret_care),
        conversation=OuterRef("pk"),
    )
    assert [c.subject for c in listed.filter(pk__in=unread.values("conversation"))] == [
        "Certificat de sport"
    ]
    assert decisions.call_count == 1
    assert _traces(lea, TraceAction.CONSULT_MESSAGING) == [(camille.ins, TraceOutcome.ALLOWED)]


def test_the_minor_opens_her_secret_conversation_on_one_decision(
    lea: Citizen, both: tuple[Message, Message], decisions: mock.MagicMock
) -> None:
    secret, _ = both
    reached = actions.conversation_open(
        actor=citizen_actor(lea), conversation_id=secret.conversation_id
    )
    assert reached.sees_secret_care
    assert decisions.call_count == 1
    secret.refresh_from_db()
    assert secret.read_at is not None  # opened by Léa: read
    assert _traces(lea, TraceAction.CONSULT_MESSAGE) == [(lea.ins, TraceOutcome.ALLOWED)]


def test_a_file_is_given_on_one_decision(
    lea: Citizen, both: tuple[Message, Message], decisions: mock.MagicMock
) -> None:
    secret, _ = both
    att = secret.attachments.get()
    _, data = actions.attachment_content(actor=citizen_actor(lea), attachment_id=att.pk)
    assert data.startswith(b"%PDF-")
    assert decisions.call_count == 1


def test_a_parent_s_refused_answer_is_decided_once(
    lea: Citizen, camille: Citizen, box: Any, decisions: mock.MagicMock
) -> None:
    """A conversation holding both (the label set on a stored message): the mother reaches it,
    and her answer is refused on the decision that let her in."""
    first = receive(lea, mail(subject="Bilan"))
    later = receive(lea, mail(subject="RE: Bilan", in_reply_to=first.message_id))
    Message.objects.filter(pk=later.pk).update(hidden_from_representatives=True)
    decisions.reset_mock()
    with pytest.raises(InvalidInput):
        actions.message_reply(
            actor=citizen_actor(camille),
            conversation_id=first.conversation_id,
            outgoing=Outgoing(body="?"),
        )
    assert decisions.call_count == 1


def test_the_professional_reads_without_a_dossier_decision(
    dr_martin: Professional, both: tuple[Message, Message], decisions: mock.MagicMock
) -> None:
    """The messaging's own rule (the mailboxes held), never the dossier's."""
    secret, _ = both
    actions.conversation_read(actor=pro(dr_martin), conversation_id=secret.conversation_id)
    assert decisions.call_count == 0


@pytest.mark.parametrize("whose", ["lea", "camille"])
def test_the_portal_pages_decide_the_messagerie_once(
    client: Any,
    lea: Citizen,
    camille: Citizen,
    both: tuple[Message, Message],
    whose: str,
) -> None:
    """Through the pages, the whole request: the inbox and a conversation, one decision each."""
    viewer = lea if whose == "lea" else camille
    _as(client, viewer, lea)
    ordinary = both[1]
    counts: dict[str, int] = {}
    for name, url in (
        ("inbox", reverse("portal:messaging")),
        ("conversation", reverse("portal:messaging_conversation", args=[ordinary.conversation_id])),
    ):
        with mock.patch.object(decision, "standing", wraps=decision.standing) as spy:
            assert client.get(url).status_code == 200
        counts[name] = spy.call_count
    assert counts == {"inbox": 1, "conversation": 1}

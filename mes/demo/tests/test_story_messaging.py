"""The demo's Messagerie, loaded after the dataset, twice: the médecin traitant's report, Louise's
reply with a photo, the report saved into her Documents, her prescription sent to her pharmacy;
every step in her Historique d'activité."""

from __future__ import annotations

from datetime import date
from typing import Any

from mes.audit.models import Trace, TraceAction
from mes.audit.trace import verify_all
from mes.demo import dataset
from mes.demo.story_messaging import load_messaging_story
from mes.identity.models import Citizen
from mes.messaging.models import Conversation, Mailbox, Message

TODAY = date(2026, 11, 24)


def test_louise_messagerie(db: Any, django_capture_on_commit_callbacks: Any) -> None:
    dataset.load(TODAY)
    first = load_messaging_story()
    assert first["conversations de la messagerie"] == 2
    assert load_messaging_story() == {"boîtes aux lettres MSSanté": 0}
    louise = Citizen.objects.get(ins=next(p for p in dataset.PEOPLE if p.key == "louise").ins)
    convs = Conversation.objects.filter(patient=louise)
    assert convs.count() == 2
    with_mt = convs.get(started_by_patient=False)
    assert with_mt.counterpart.professional.display_name == "Dr Bernard Léon"
    reply = with_mt.messages.get(direction=Message.Direction.FROM_PATIENT)
    assert reply.attachments.get().mime_type == "image/png"
    assert with_mt.messages.get(direction="in").attachments.get().saved_document is not None
    to_pharmacy = convs.get(started_by_patient=True)
    assert to_pharmacy.counterpart.is_pharmacy
    assert to_pharmacy.messages.get().attachments.get().document.class_code == "42"
    actions = set(Trace.objects.filter(patient_id=louise.pk).values_list("action", flat=True))
    assert {
        TraceAction.RECEIVE_MESSAGE,
        TraceAction.SEND_MESSAGE,
        TraceAction.DEPOSIT_DOC,
    } <= actions
    assert Mailbox.objects.filter(kind=Mailbox.Kind.APP).exists()
    assert list(verify_all()) == []

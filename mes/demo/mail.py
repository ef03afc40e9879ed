"""Demo delivery: e-mails and SMS are kept in the demo outbox and printed on the console."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from .models import OutboxMessage


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            for to in message.to:
                OutboxMessage.objects.create(
                    channel="email", to=to, subject=str(message.subject), body=str(message.body)
                )
                print(f"[démo] e-mail à {to} : {message.subject}\n{message.body}\n", flush=True)
        return len(email_messages)


def sms_backend(phone: str, text: str) -> None:
    OutboxMessage.objects.create(channel="sms", to=phone, body=text)
    print(f"[démo] SMS à {phone} : {text}", flush=True)

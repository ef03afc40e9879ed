"""The outbox drains whatever its size: a dispatch task sends one batch through one SMTP
connection and plans the next while rows are left; a message that fails stays pending for a
later run (three attempts), and the others of its batch still go out."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import override_settings

from mes.notifications.models import Category, Channel, Delivery
from mes.notifications.tasks import dispatch_deliveries


class CountingBackend(EmailBackend):
    """locmem, counting the connections opened and failing for one address."""

    opened: ClassVar[int] = 0
    refused: ClassVar[str] = "refuse@example.org"

    def open(self) -> bool:
        type(self).opened += 1
        return True

    def send_messages(self, messages: Any) -> int:
        if any(self.refused in m.to for m in messages):
            raise ConnectionResetError("le serveur a coupé la connexion")
        return super().send_messages(messages)


def pending(citizen, count: int, *, to: str = "camille@example.org") -> list[Delivery]:
    return Delivery.objects.bulk_create(
        Delivery(
            key=f"k{n}:{to}",
            recipient=citizen,
            channel=Channel.EMAIL,
            category=Category.APPOINTMENTS,
            destination=to,
            subject="Mon espace santé",
            body="Une nouvelle notification vous attend.",
        )
        for n in range(count)
    )


@override_settings(
    MES_DISPATCH_BATCH=3, EMAIL_BACKEND="mes.notifications.tests.test_dispatch.CountingBackend"
)
def test_the_outbox_drains_in_batches_one_connection_each(camille):
    pending(camille, 7)
    CountingBackend.opened = 0
    # The immediate backend of the tests runs each planned task at once: 3 + 3 + 1.
    dispatch_deliveries.enqueue()
    assert len(mail.outbox) == 7
    assert not Delivery.objects.filter(status=Delivery.Status.PENDING).exists()
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    assert all(d.sent_at for d in Delivery.objects.all())
    assert CountingBackend.opened == 3  # one connection per batch, not one per message


@override_settings(
    MES_DISPATCH_BATCH=10, EMAIL_BACKEND="mes.notifications.tests.test_dispatch.CountingBackend"
)
def test_a_message_that_fails_stays_pending_and_the_others_go_out(camille):
    pending(camille, 2)
    refused = pending(camille, 1, to=CountingBackend.refused)[0]
    dispatch_deliveries.enqueue()
    assert len(mail.outbox) == 2
    refused.refresh_from_db()
    assert (refused.status, refused.attempts) == (Delivery.Status.PENDING, 1)
    dispatch_deliveries.enqueue()
    dispatch_deliveries.enqueue()
    refused.refresh_from_db()
    assert (refused.status, refused.attempts) == (Delivery.Status.FAILED, 3)
    assert len(mail.outbox) == 2  # the sent ones were not sent again

"""The demo outbox: in demo mode every e-mail and SMS lands here (and on the console), so the
one-time codes of the demo users can be read on the demo outbox page."""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):
    channel = models.CharField(max_length=8)  # "email" or "sms"
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]

"""Support-desk agents (the 3422 line): a login of kind OPERATOR with a role."""

from __future__ import annotations

from django.db import models

from mes.identity.models import User


class SupportAgent(models.Model):
    class Role(models.TextChoices):
        ADVISER = "adviser", "Conseiller"
        SUPERVISOR = "supervisor", "Superviseur"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="support_agent")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ADVISER)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "conseiller du 3422"

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username

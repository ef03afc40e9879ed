"""Support-desk agents (the 3422 line) and catalogue operators: a login of kind OPERATOR with a
role."""

from __future__ import annotations

from django.db import models

from mes.identity.models import User


class SupportAgent(models.Model):
    class Role(models.TextChoices):
        ADVISER = "adviser", "Conseiller"
        SUPERVISOR = "supervisor", "Superviseur"
        # Not a 3422 agent: manages the Catalogue de services at /guichet/catalogue/ and never
        # reaches the desk's profiles (mes.backoffice.access, mes.backoffice.catalogue.access).
        CATALOGUE = "catalogue", "Opérateur du catalogue de services"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="support_agent")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ADVISER)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "conseiller du 3422"

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username

"""The support desk's inbox (portal.md §10, « Nous contacter »).

A SupportRequest is what a citizen sends from « Nous contacter »: one request per profile
concerned (their own, or a person they represent), a reason from a fixed list, a message, and
whether the desk's agents may look at that profile's data and history to answer. The agents'
UI (threads, replies, REPONSE_SUPPORT notification) is built on top of this model later; keep
it small: what the citizen sent, when, and where the request stands.

Requests are kept one year (« Cette conversation sera conservée pendant un an. »):
`purge_after` is set at creation from settings.MES_SUPPORT_RETENTION_DAYS.
"""

from __future__ import annotations

from django.db import models

from mes.identity.models import Citizen

# The support desk's agents (issue 14) live in their own module.
from .models_desk import SupportAgent

__all__ = ["SupportAgent", "SupportRequest"]


class SupportRequest(models.Model):
    class Reason(models.TextChoices):
        """« Motif de la demande » (the real list is served by the back end; ours, [GAP])."""

        LOGIN = "CONNEXION", "Je n'arrive pas à me connecter"
        IDENTITY = "IDENTITE", "Une information de mon identité est incorrecte"
        DOCUMENT = "DOCUMENT", "Un document de santé"
        MEDICAL_PROFILE = "PROFIL_MEDICAL", "Mon profil médical"
        PROFESSIONAL_ACCESS = "ACCES_PS", "L'accès des professionnels de santé"
        CHILD = "PROFIL_ENFANT", "Le profil d'un enfant ou d'une personne représentée"
        CLOSURE = "CLOTURE", "Opposition ou clôture du profil"
        OTHER = "AUTRE", "Autre question"

    class Status(models.TextChoices):
        OPEN = "OUVERTE", "En attente de réponse"
        ANSWERED = "REPONDUE", "Répondue"
        CLOSED = "CLOSE", "Close"

    requester = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="support_requests_sent"
    )
    profile = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="support_requests")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    message = models.TextField()
    # « J'autorise les agents habilités à accéder aux données relatives à ce profil ainsi qu'à
    # l'historique des actions… »: without it, agents answer from the message alone.
    agents_may_access_profile = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    purge_after = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requester", "created_at"])]

    def __str__(self) -> str:
        return f"Demande n° {self.pk} ({self.get_reason_display()})"

    @property
    def reference(self) -> str:
        return f"MES-{self.pk:06d}"

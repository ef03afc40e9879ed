"""Proches aidants (portal.md §5.8, wave2.md §1.5): an aidé gives a proche aidant access to their
espace. An invitation (`CarerInvitation`) becomes, once accepted, a time-bounded delegation
(`CarerDelegation`) that either side may end.

Expiry is read from the dates, never from a sweeping job: an invitation past its date is expired
and a delegation past its end gives no access, whether or not anything ran since.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from mes.identity.models import Citizen


class InvitationQuerySet(models.QuerySet["CarerInvitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(status=CarerInvitation.Status.PENDING, expires_at__gt=timezone.now())


class CarerInvitation(models.Model):
    """« Je recherche mon proche aidant » → « Envoyer ma demande »: waits for the aidant's answer
    until `expires_at` (« Demande valable jusqu'au … »)."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "En attente de réponse"
        ACCEPTED = "ACCEPTED", "Acceptée"
        REFUSED = "REFUSED", "Refusée"
        EXPIRED = "EXPIRED", "Expirée"
        CANCELLED = "CANCELLED", "Annulée"

    aided = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="carer_invitations")
    carer = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="aided_invitations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["aided", "carer"],
                condition=Q(status="PENDING"),
                name="one_pending_carer_invitation_per_pair",
            )
        ]

    @property
    def effective_status(self) -> str:
        """The status as the people see it: a pending invitation past its date is expired."""
        if self.status == self.Status.PENDING and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.status

    @property
    def effective_status_label(self) -> str:
        return str(self.Status(self.effective_status).label)


class DelegationQuerySet(models.QuerySet["CarerDelegation"]):
    def active(self) -> DelegationQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, started_at__lte=now, ends_at__gt=now)


class CarerDelegation(models.Model):
    """« Accès complet validé · Depuis le … · Valide jusqu'au … »: `carer` acts for `aided`
    (portal.md §5.8) from `started_at` until `ends_at`, unless revoked before by either side."""

    class EndedBy(models.TextChoices):
        AIDED = "aided", "La personne aidée"
        CARER = "carer", "Le proche aidant"

    aided = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="carer_delegations")
    carer = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="aided_delegations")
    invitation = models.OneToOneField(
        CarerInvitation, on_delete=models.PROTECT, related_name="delegation"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=8, choices=EndedBy.choices, blank=True)
    # The « justificatif d'accès » saved in each espace's Documents.
    aided_proof_id = models.UUIDField(null=True, blank=True)
    carer_proof_id = models.UUIDField(null=True, blank=True)

    objects = DelegationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["carer", "aided"])]

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and self.started_at <= now < self.ends_at

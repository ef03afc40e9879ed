"""The espace's life. For now: who legally represents whom (parents of a child)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from mes.identity.models import Citizen


class RepresentationQuerySet(models.QuerySet["LegalRepresentation"]):
    def current(self) -> RepresentationQuerySet:
        now = timezone.now()
        return self.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now), started_at__lte=now)


class LegalRepresentation(models.Model):
    """`representative` manages the espace of `represented` (a minor, or a protected adult)."""

    class Role(models.TextChoices):
        MOTHER = "mother", "Mère"
        FATHER = "father", "Père"
        GUARDIAN = "guardian", "Tuteur légal"

    representative = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="represented_links"
    )
    represented = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="representative_links"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = RepresentationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["representative", "represented"], name="one_representation_per_pair"
            )
        ]


class ProfileShareRequest(models.Model):
    """A legal representative asks to share the management of a represented person's profile
    with another legal representative (« Partage du profil », portal.md §6): the second parent,
    or the guardian named by the juge des tutelles. It becomes a LegalRepresentation when the
    invited person accepts « en tant que représentant légal »."""

    represented = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="+")
    invitee = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="share_requests")
    role = models.CharField(max_length=16, choices=LegalRepresentation.Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # declined or cancelled

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["represented", "invitee"],
                condition=Q(accepted_at__isnull=True, closed_at__isnull=True),
                name="one_pending_share_per_invitee",
            )
        ]

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.closed_at is None

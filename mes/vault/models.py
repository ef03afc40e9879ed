"""Per-patient data keys, stored wrapped by the master key (DESIGN.md §5)."""

from __future__ import annotations

from django.db import models


class PatientKey(models.Model):
    # A plain UUID, not a foreign key: the key outlives nothing and is destroyed on purge.
    patient_id = models.UUIDField(primary_key=True)
    wrapped_key = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

"""Per-patient data keys, stored wrapped by the master key (DESIGN.md §5)."""

from __future__ import annotations

from django.db import models


class PatientKey(models.Model):
    # A plain UUID, not a foreign key: the key outlives nothing and is destroyed on purge.
    patient_id = models.UUIDField(primary_key=True)
    wrapped_key = models.BinaryField(null=True)
    # The fingerprint of the master key that wrapped it (mes.lib.secrets.fingerprint), so that a
    # rotation knows what is left to re-wrap; empty for keys wrapped before it was recorded.
    wrapped_with = models.CharField(max_length=16, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

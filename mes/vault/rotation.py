"""Master-key rotation (docs/deployment.md « Rotating the keys »).

The operator puts a new key first in MES_MASTER_KEY and keeps the old one after it; from then
on new data keys are wrapped by the new key and old ones still open. `rotate_master_key`
re-wraps, batch by batch, every data key not yet under the current key; once it reports none
left, the old key can leave the setting (and the vault's backups made before stay readable only
with it: keep it with them). The blobs are not touched: they are sealed by the per-patient data
keys, which do not change.

Safe to interrupt and to run twice or on two machines at once: each batch is one transaction
over rows locked with SKIP LOCKED (on PostgreSQL), and a row already under the current key is
not selected again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from .models import PatientKey
from .store import VaultError, _unwrap, _wrap, master_keys

BATCH = 500


@dataclass
class RotationReport:
    rewrapped: int = 0
    unreadable: list[str] = field(default_factory=list)  # patient ids under no known key

    @property
    def done(self) -> bool:
        return not self.unreadable


def left_to_rotate() -> int:
    """How many live data keys are not yet wrapped by the current master key."""
    return (
        PatientKey.objects.filter(destroyed_at__isnull=True, wrapped_key__isnull=False)
        .exclude(wrapped_with=master_keys().current_id)
        .count()
    )


def _batch(current_id: str, skip: set[str]) -> list[PatientKey]:
    rows = (
        PatientKey.objects.select_for_update(skip_locked=True)
        .filter(destroyed_at__isnull=True, wrapped_key__isnull=False)
        .exclude(wrapped_with=current_id)
        .exclude(patient_id__in=skip)
        .order_by("patient_id")
    )
    return list(rows[:BATCH])


def rotate_master_key() -> RotationReport:
    """Re-wrap every live data key under the current master key; report those no configured
    key opens (left as they are: a key missing from the setting, or a damaged row)."""
    keys = master_keys()
    report = RotationReport()
    unreadable: set[str] = set()
    while True:
        with transaction.atomic():
            rows = _batch(keys.current_id, unreadable)
            if not rows:
                break
            for row in rows:
                assert row.wrapped_key is not None
                try:
                    data_key = _unwrap(row.patient_id, bytes(row.wrapped_key), row.wrapped_with)
                except VaultError:
                    unreadable.add(str(row.patient_id))
                    continue
                row.wrapped_key = _wrap(row.patient_id, data_key)
                row.wrapped_with = keys.current_id
                row.save(update_fields=["wrapped_key", "wrapped_with"])
                report.rewrapped += 1
    report.unreadable = sorted(unreadable)
    return report

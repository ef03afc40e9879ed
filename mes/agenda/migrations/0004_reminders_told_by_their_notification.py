"""Reminders are told by their notification: the idempotency key moves from the ReminderSent
row to the notification it went with (notifications 0007), then ReminderSent goes.

The keys of the last month's reminders are carried over, so that an upgraded service does not
remind again what the catch-up windows still cover (a week of prevention openings, a week of
appointments, the late « Rappels », a campaign's slice handed out again): each row's
notification is the one written in the same transaction for the same person (same instant
within a few seconds, no key yet, its link naming the item, appointment or reminder). A row
closed without a notification (found stale) has nothing to carry: the next sweep asks the
engine again, which says the same."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

WINDOW = timedelta(seconds=5)


def carry_keys(apps, schema_editor):
    ReminderSent = apps.get_model("agenda", "ReminderSent")
    Notification = apps.get_model("notifications", "Notification")
    since = timezone.now() - timedelta(days=31)
    rows = ReminderSent.objects.filter(
        created_at__gte=since, processed_at__isnull=False, skipped=False
    ).order_by("pk")
    for row in rows.iterator(chunk_size=2000):
        at = row.processed_at
        candidates = Notification.objects.filter(
            profile_id=row.patient_id,
            key__isnull=True,
            created_at__gte=at - WINDOW,
            created_at__lte=at + WINDOW,
        )
        if row.kind == "prev":
            candidates = candidates.filter(url__endswith=f"/{row.item_key}/")
        elif row.kind == "rdv" and row.appointment_id:
            candidates = candidates.filter(url__contains=str(row.appointment_id))
        elif row.kind == "user" and row.user_reminder_id:
            candidates = candidates.filter(url__contains=str(row.user_reminder_id))
        elif row.kind == "camp":
            candidates = candidates.filter(code__startswith="RAPPEL_RDV_PREV")
        else:
            continue
        found = candidates.order_by("created_at", "pk").first()
        if found is not None:
            found.key = row.key
            found.save(update_fields=["key"])


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0003_reminder_indexes"),
        ("notifications", "0007_notification_key"),
    ]

    operations = [
        migrations.RunPython(carry_keys, migrations.RunPython.noop),
        migrations.DeleteModel(name="ReminderSent"),
    ]

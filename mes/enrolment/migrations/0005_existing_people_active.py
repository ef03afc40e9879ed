"""Everyone who exists before enrolment keeps the espace they had: active (issue 14)."""

from django.db import migrations
from django.utils import timezone

BATCH = 5000


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Citizen = apps.get_model("identity", "Citizen")
    Espace = apps.get_model("enrolment", "Espace")
    now = timezone.now()
    ids = Citizen.objects.filter(espace__isnull=True).values_list("pk", flat=True)
    chunk = []
    for pk in ids.iterator(chunk_size=BATCH):
        chunk.append(Espace(citizen_id=pk, state="active", state_changed_at=now, vitale_serial=""))
        if len(chunk) >= BATCH:
            Espace.objects.bulk_create(chunk, ignore_conflicts=True)
            chunk = []
    Espace.objects.bulk_create(chunk, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("enrolment", "0004_espace_lifecycle"), ("identity", "__first__")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

"""The trace gets a key (issue 13): rows carry the id of the key that sealed them, and the rows
written before are sealed now, chain by chain, under the current MES_AUDIT_KEY — but only the
chains whose unkeyed SHA-256 still verifies: a chain already broken keeps its unsealed rows, and
`mes audit verify` names them, instead of the migration laundering a tampered chain."""

from typing import Any

from django.db import migrations, models


def seal_existing_rows(apps: Any, schema_editor: Any) -> None:
    from mes.audit import keys
    from mes.audit.trace import GENESIS, legacy_row_hash, row_hash

    trace_model = apps.get_model("audit", "Trace")
    head_model = apps.get_model("audit", "ChainHead")
    legacy = trace_model.objects.filter(key_id="")
    if not legacy.exists():
        return
    key = keys.keyring().current
    chains = legacy.values_list("chain", flat=True).distinct().order_by("chain")
    for chain in list(chains):
        rows = list(trace_model.objects.filter(chain=chain).order_by("seq"))
        prev = GENESIS
        intact = True
        for expected, row in enumerate(rows, start=1):
            if (
                row.seq != expected
                or row.key_id
                or row.prev_hash != prev
                or legacy_row_hash(row, prev) != row.hash
            ):
                intact = False
                break
            prev = row.hash
        head = head_model.objects.filter(chain=chain).first()
        if not intact or head is None or (head.seq, head.hash) != (len(rows), prev):
            continue
        prev = GENESIS
        for row in rows:
            row.key_id = key.key_id
            row.prev_hash = prev
            row.hash = row_hash(row, prev, key)
            prev = row.hash
        trace_model.objects.bulk_update(rows, ["key_id", "prev_hash", "hash"], batch_size=500)
        head_model.objects.filter(chain=chain).update(hash=prev)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0008_shell_trace_actions"),
    ]

    operations = [
        migrations.AddField(
            model_name="trace",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(seal_existing_rows, migrations.RunPython.noop),
    ]

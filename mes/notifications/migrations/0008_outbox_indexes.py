"""The outbox pays only for the indexes something reads (docs/decisions.md, « Import:
indexes », the same rule): the delivery's key stays unique (the same index, now declared as a
UniqueConstraint of the same name) without the `_like` twin PostgreSQL got from unique=True
(no query searches a key by prefix); the letter batch's index holds only the letters that have
one, not every e-mail's and SMS's NULL.

The key's `_like` index is dropped alone: Django's AlterField + AddConstraint would drop and
rebuild the unique index of the whole outbox to end where it started.
"""

import django.db.models.deletion
from django.db import migrations, models

LIKE = "notifications_delivery_key_184a76b7_like"


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE}"')


def _restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE}" ON "notifications_delivery" '
            '("key" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0004_citizen_ins_without_like_index"),
        ("notifications", "0007_notification_key"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_drop, _restore)],
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="key",
                    field=models.CharField(max_length=250),
                ),
                migrations.AddConstraint(
                    model_name="delivery",
                    constraint=models.UniqueConstraint(
                        fields=("key",), name="notifications_delivery_key_key"
                    ),
                ),
            ],
        ),
        migrations.AlterField(
            model_name="delivery",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to="notifications.letterbatch",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("batch__isnull", False)),
                fields=["batch"],
                name="delivery_batch_idx",
            ),
        ),
    ]

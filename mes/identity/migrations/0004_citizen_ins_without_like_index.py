"""The citizen's INS stays unique (the same index, now declared as a UniqueConstraint of the
same name), without the `_like` twin PostgreSQL got from unique=True: no query searches an
INS by prefix, and every new citizen paid for it (docs/decisions.md, « Import: indexes »).

Only the `_like` index is dropped: Django's AlterField + AddConstraint would drop and rebuild
the unique index (68 million rows in production) to end where it started.
"""

from django.db import migrations, models

LIKE = "identity_citizen_ins_17fe775a_like"


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE}"')


def _restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{LIKE}" ON "identity_citizen" ("ins" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("identity", "0003_citizen_birth_date_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_drop, _restore)],
            state_operations=[
                migrations.AlterField(
                    model_name="citizen",
                    name="ins",
                    field=models.CharField(max_length=15, verbose_name="matricule INS"),
                ),
                migrations.AddConstraint(
                    model_name="citizen",
                    constraint=models.UniqueConstraint(
                        fields=("ins",), name="identity_citizen_ins_key"
                    ),
                ),
            ],
        )
    ]

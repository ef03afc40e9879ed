"""Indexes nothing reads, dropped (docs/decisions.md, « Import: indexes »): the espace's
`state` and its `_like` twin (the `(state, …)` indexes start with it), the legal
representation's `representative_id` (the unique (representative, represented) starts with
it); the espace's `attached_to_id` kept for the rows that have one only (the children).

Only the indexes change: Django's AlterField would also drop and re-add the foreign keys,
validating them again over the whole table (68 million rows under lock in production).
"""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = {
    "enrolment_espace_state_e2f7948f": ("enrolment_espace", "state"),
    "enrolment_espace_attached_to_id_4f115209": ("enrolment_espace", "attached_to_id"),
    "enrolment_legalrepresentation_representative_id_cee6caa3": (
        "enrolment_legalrepresentation",
        "representative_id",
    ),
}
STATE_LIKE = "enrolment_espace_state_e2f7948f_like"  # PostgreSQL only


def _drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name in DROPPED:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(f'DROP INDEX IF EXISTS "{STATE_LIKE}"')


def _restore(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name, (table, column) in DROPPED.items():
            cursor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{STATE_LIKE}" ON "enrolment_espace" '
                '("state" varchar_pattern_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [
        ("enrolment", "0006_account_session"),
        ("identity", "0003_citizen_birth_date_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_drop, _restore)],
            state_operations=[
                migrations.AlterField(
                    model_name="espace",
                    name="attached_to",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="attached_espaces",
                        to="identity.citizen",
                    ),
                ),
                migrations.AlterField(
                    model_name="espace",
                    name="state",
                    field=models.CharField(
                        choices=[
                            ("not_notified", "Non encore informé"),
                            ("notified", "Informé (délai d'opposition en cours)"),
                            ("opposed", "Opposé à la création"),
                            ("created", "Créé, non activé"),
                            ("active", "Activé"),
                            ("suspended", "Suspendu"),
                            ("closed", "Clôturé (archivé)"),
                            ("purged", "Supprimé"),
                        ],
                        max_length=16,
                    ),
                ),
                migrations.AlterField(
                    model_name="legalrepresentation",
                    name="representative",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="represented_links",
                        to="identity.citizen",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="espace",
            index=models.Index(
                condition=models.Q(("attached_to__isnull", False)),
                fields=["attached_to"],
                name="espace_attached_idx",
            ),
        ),
    ]

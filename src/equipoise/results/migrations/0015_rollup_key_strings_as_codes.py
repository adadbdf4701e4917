"""The rollup keys' grain, measure and motion become small integer codes (see ``TextCodeField``).

PostgreSQL's B-tree compared those text columns on every insert of a rollup row: with small
integers a first load's 1.6M rollup rows were added in 3.7-4.0 s instead of 5.0-5.4 s. The ORM
still reads and writes the text. On SQLite the tables are WITHOUT ROWID (migration 0011), which
Django's own table rebuild would lose, so both engines' sides are written here, and back.
"""

from django.db import migrations

import equipoise.core.fields

CODES = {
    "grain": ("D", "M", "O"),
    "measure": ("booked", "churned", "invoiced"),
    "motion": ("expansion", "new", "renewal"),
}
TEXT_TYPES = {"grain": "varchar(1)", "measure": "varchar(8)", "motion": "varchar(10)"}
ROLLUP_KEY = ("node_id", "grain", "measure", "period", "region_id", "product_line_id", "product_application_id", "motion", "currency")
TOTAL_KEY = ("node_id", "grain", "measure", "period", "motion", "currency")
# (table, key, columns in the order Django created them, their types)
TABLES = (
    (
        "results_rollup",
        ROLLUP_KEY,
        (
            ("grain", None), ("period", "date"), ("node_id", "bigint"), ("measure", None), ("region_id", "bigint"),
            ("product_line_id", "bigint"), ("product_application_id", "bigint"), ("motion", None), ("currency", "varchar(3)"),
            ("amount_minor", "bigint"), ("line_count", "bigint"),
        ),
    ),
    (
        "results_rolluptotal",
        TOTAL_KEY,
        (
            ("node_id", "bigint"), ("grain", None), ("measure", None), ("period", "date"), ("motion", None), ("currency", "varchar(3)"),
            ("amount_minor", "bigint"), ("line_count", "bigint"),
        ),
    ),
)  # fmt: skip


def _to_code(column):
    cases = " ".join(f"WHEN '{value}' THEN {code}" for code, value in enumerate(CODES[column]))
    return f'CASE "{column}" {cases} END'


def _to_text(column):
    cases = " ".join(f"WHEN {code} THEN '{value}'" for code, value in enumerate(CODES[column]))
    return f'CASE "{column}" {cases} END'


def _convert(schema_editor, *, to_codes):
    vendor = schema_editor.connection.vendor
    for table, key, columns in TABLES:
        if vendor == "sqlite":
            definitions = ", ".join(
                f'"{name}" {kind or ("smallint" if to_codes else TEXT_TYPES[name])} NOT NULL' for name, kind in columns
            )
            names = ", ".join(f'"{name}"' for name, _ in columns)
            values = ", ".join(
                (_to_code(name) if to_codes else _to_text(name)) if kind is None else f'"{name}"' for name, kind in columns
            )
            primary = ", ".join(f'"{name}"' for name in key)
            schema_editor.execute(f'CREATE TABLE "new__{table}" ({definitions}, PRIMARY KEY ({primary})) WITHOUT ROWID')
            schema_editor.execute(f'INSERT INTO "new__{table}" ({names}) SELECT {values} FROM "{table}"')
            schema_editor.execute(f'DROP TABLE "{table}"')
            schema_editor.execute(f'ALTER TABLE "new__{table}" RENAME TO "{table}"')
        else:
            changes = ", ".join(
                f'ALTER COLUMN "{name}" TYPE {"smallint" if to_codes else TEXT_TYPES[name]} USING '
                + (_to_code(name) if to_codes else _to_text(name))
                for name, kind in columns
                if kind is None
            )
            schema_editor.execute(f'ALTER TABLE "{table}" {changes}')


def forwards(apps, schema_editor):
    _convert(schema_editor, to_codes=True)


def backwards(apps, schema_editor):
    _convert(schema_editor, to_codes=False)


def _field(column):
    return equipoise.core.fields.TextCodeField(values=CODES[column])


class Migration(migrations.Migration):
    dependencies = [
        ("results", "0014_batch_problems_found"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(model_name=model, name=column, field=_field(column))
                for model in ("rollup", "rolluptotal")
                for column in ("grain", "measure", "motion")
            ],
        ),
    ]

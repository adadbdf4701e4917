"""PostgreSQL statistics on which rollup rows go together.

The company keeps daily rows by every dimension: half of all rollup rows have node 0, but few of
those have grain "M". Planned as independent columns, "node 0 and grain M" looks like a quarter
of the table and the planner scans all of it for a few thousand rows (470 ms at 10M lines instead
of a few). A most-common-values list over (node, grain, measure) gives it the real share.
SQLite's planner has no such statistics and takes the index regardless.
"""

from django.db import migrations

STATISTICS = (
    ("results_rollup_node_grain", "results_rollup"),
    ("results_rolluptotal_node_grain", "results_rolluptotal"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in STATISTICS:
        schema_editor.execute(f"CREATE STATISTICS IF NOT EXISTS {name} (mcv, dependencies) ON node_id, grain, measure FROM {table}")
        schema_editor.execute(f"ANALYZE {table}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("results", "0006_rollup_ids_without_autoincrement"),
    ]

    operations = [migrations.RunPython(create, drop)]

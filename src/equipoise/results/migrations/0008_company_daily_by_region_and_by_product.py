"""The company's daily rollups by region alone and by product alone, from its daily rollups by every
dimension: tracking reads them by day from this version on, and imports keep them from now on."""

from django.db import migrations

COLUMNS = "node_id, grain, measure, period, region_id, product_line_id, product_application_id, motion, currency, amount_minor, line_count"
BY_EVERY_DIMENSION = "node_id = 0 AND grain = 'D' AND region_id > 0 AND product_line_id > 0"


def add(apps, schema_editor):
    table = apps.get_model("results", "Rollup")._meta.db_table
    for kept, zeroed in (("region_id", "0, 0"), ("product_line_id, product_application_id", "0")):
        columns = f"{kept}, {zeroed}" if kept == "region_id" else f"{zeroed}, {kept}"
        schema_editor.execute(
            f"INSERT INTO {table} ({COLUMNS}) "
            f"SELECT 0, 'D', measure, period, {columns}, motion, currency, SUM(amount_minor), SUM(line_count) "
            f"FROM {table} WHERE {BY_EVERY_DIMENSION} GROUP BY measure, period, {kept}, motion, currency"
        )


def remove(apps, schema_editor):
    Rollup = apps.get_model("results", "Rollup")
    Rollup.objects.filter(node_id=0, grain="D", region_id=0).delete()
    Rollup.objects.filter(node_id=0, grain="D", product_line_id=0).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("results", "0007_rollup_statistics"),
    ]

    operations = [migrations.RunPython(add, remove)]

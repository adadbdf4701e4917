"""A person's own credits move from grain "M" (dimension columns 0) to grain "O", so that reading
them no longer scans a large manager's monthly rollups by dimension, which share the node."""

from django.db import migrations, models

GRAIN = models.CharField(choices=[("D", "Day"), ("M", "Month"), ("O", "Month, own credits")], max_length=1)


def own_credits_to_own_grain(apps, schema_editor):
    Rollup = apps.get_model("results", "Rollup")
    # Dimension columns 0 mark own credits: every line has a region, so no other row has region 0.
    Rollup.objects.filter(grain="M", region_id=0).exclude(node_id=0).update(grain="O")


def own_credits_to_month_grain(apps, schema_editor):
    Rollup = apps.get_model("results", "Rollup")
    Rollup.objects.filter(grain="O").update(grain="M")


class Migration(migrations.Migration):
    dependencies = [
        ("results", "0004_result_line_references_unconstrained"),
    ]

    operations = [
        migrations.AlterField(model_name="rollup", name="grain", field=GRAIN),
        migrations.AlterField(model_name="rolluptotal", name="grain", field=GRAIN),
        migrations.RunPython(own_credits_to_own_grain, own_credits_to_month_grain),
    ]

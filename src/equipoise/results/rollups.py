"""Recompute rollups from the result lines and compare them with the stored ones.

The stored rollups are maintained incrementally on ingest; this is the independent check (and
the repair after a reorganisation moves sellers between teams).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Sum

from equipoise.results.ingest import DAY, MONTH, RollupKey, ancestor_map
from equipoise.results.models import COMPANY_NODE, ResultLine, Rollup


@dataclass(frozen=True, slots=True)
class RollupDifference:
    key: RollupKey
    stored: tuple[int, int]
    expected: tuple[int, int]


def expected_rollups() -> dict[RollupKey, tuple[int, int]]:
    """What the rollups should hold, from every result line (grouped by seller, day and dimensions in SQL)."""
    ancestors = ancestor_map()
    expected: dict[RollupKey, list[int]] = defaultdict(lambda: [0, 0])
    rows = (
        ResultLine.objects.values(
            "seller_id", "measure", "occurred_on", "region_id", "product_line_id", "product_application_id", "motion", "currency"
        )
        .annotate(amount=Sum("amount_minor"), lines=Count("id"))
        .order_by()
    )
    for row in rows.iterator(chunk_size=20_000):
        day = row["occurred_on"]
        month = day.replace(day=1)
        measure, motion, currency = row["measure"], row["motion"], row["currency"]
        dimensions = (row["region_id"], row["product_line_id"], row["product_application_id"] or 0)
        keys: list[RollupKey] = [
            (row["seller_id"], MONTH, measure, month, 0, 0, 0, motion, currency),
            (COMPANY_NODE, DAY, measure, day, *dimensions, motion, currency),
        ]
        for node in (*ancestors.get(row["seller_id"], ()), COMPANY_NODE):
            keys.append((node, MONTH, measure, month, *dimensions, motion, currency))
        for key in keys:
            cell = expected[key]
            cell[0] += row["amount"]
            cell[1] += row["lines"]
    return {key: (amount, lines) for key, (amount, lines) in expected.items() if amount or lines}


def stored_rollups() -> dict[RollupKey, tuple[int, int]]:
    fields = ("node_id", "grain", "measure", "period", "region_id", "product_line_id", "product_application_id", "motion", "currency")
    stored: dict[RollupKey, tuple[int, int]] = {}
    for row in Rollup.objects.values_list(*fields, "amount_minor", "line_count").iterator(chunk_size=20_000):
        if row[9] or row[10]:
            stored[row[:9]] = (row[9], row[10])
    return stored


def rollups_compare() -> list[RollupDifference]:
    expected, stored = expected_rollups(), stored_rollups()
    differences = []
    for key in sorted(set(expected) | set(stored)):
        if expected.get(key, (0, 0)) != stored.get(key, (0, 0)):
            differences.append(RollupDifference(key=key, stored=stored.get(key, (0, 0)), expected=expected.get(key, (0, 0))))
    return differences


@transaction.atomic
def rollups_rebuild() -> list[RollupDifference]:
    """Replace every rollup with values recomputed from the lines; returns what differed."""
    expected = expected_rollups()
    stored = stored_rollups()
    differences = [
        RollupDifference(key=key, stored=stored.get(key, (0, 0)), expected=expected.get(key, (0, 0)))
        for key in sorted(set(expected) | set(stored))
        if expected.get(key, (0, 0)) != stored.get(key, (0, 0))
    ]
    if differences:
        Rollup.objects.all().delete()
        table = Rollup._meta.db_table
        columns = (
            "node_id, grain, measure, period, region_id, product_line_id, product_application_id, motion, currency, "
            "amount_minor, line_count"
        )
        rows = [(*key, amount, lines) for key, (amount, lines) in sorted(expected.items())]
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 5000):
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * 11)})", rows[start : start + 5000])
    return differences

"""Recompute rollups from the result lines and compare them with the stored ones.

The stored rollups (:class:`Rollup` and :class:`RollupTotal`) are maintained incrementally on
ingest; this is the independent check, and the repair after a reorganisation moves sellers
between teams.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection, models, transaction
from django.db.models import Count, Sum

from equipoise.results.ingest import DAY, MONTH, OWN_MONTH, ROLLUP_KEY_COLUMNS, TOTAL_KEY_COLUMNS, lock_rollups
from equipoise.results.models import COMPANY_NODE, ResultLine, Rollup, RollupTotal
from equipoise.results.rollup_nodes import RollupTree

Key = tuple[Any, ...]  # ("rollup", *Rollup key) or ("total", *RollupTotal key)
_TABLES: dict[str, tuple[type[models.Model], str]] = {"rollup": (Rollup, ROLLUP_KEY_COLUMNS), "total": (RollupTotal, TOTAL_KEY_COLUMNS)}


@dataclass(frozen=True, slots=True)
class RollupDifference:
    key: Key
    stored: tuple[int, int]
    expected: tuple[int, int]


def expected_rollups() -> dict[Key, tuple[int, int]]:
    """What both rollup tables should hold, from every result line (grouped by seller, day and
    dimensions in SQL), by the rule in :mod:`~equipoise.results.rollup_nodes`."""
    tree = RollupTree.load()
    expected: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
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
        seller, measure, motion, currency = row["seller_id"], row["measure"], row["motion"], row["currency"]
        dimensions = (row["region_id"], row["product_line_id"], row["product_application_id"] or 0)
        keys: list[Key] = [
            ("rollup", COMPANY_NODE, MONTH, measure, month, *dimensions, motion, currency),
            ("rollup", COMPANY_NODE, DAY, measure, day, *dimensions, motion, currency),
            ("rollup", COMPANY_NODE, DAY, measure, day, dimensions[0], 0, 0, motion, currency),  # by region alone
            ("rollup", COMPANY_NODE, DAY, measure, day, 0, *dimensions[1:], motion, currency),  # by product alone
            ("total", COMPANY_NODE, MONTH, measure, month, motion, currency),
            ("total", COMPANY_NODE, DAY, measure, day, motion, currency),
        ]
        keys.append(("rollup", seller, OWN_MONTH, measure, month, 0, 0, 0, motion, currency))  # own credits
        keys += [("total", node, MONTH, measure, month, motion, currency) for node in tree.managers.get(seller, ())]
        for node in tree.large.get(seller, ()):
            keys.append(("rollup", node, MONTH, measure, month, *dimensions, motion, currency))
            keys.append(("total", node, DAY, measure, day, motion, currency))
        for key in keys:
            cell = expected[key]
            cell[0] += row["amount"]
            cell[1] += row["lines"]
    return {key: (amount, lines) for key, (amount, lines) in expected.items() if amount or lines}


def stored_rollups() -> dict[Key, tuple[int, int]]:
    stored: dict[Key, tuple[int, int]] = {}
    for label, (model, key_columns) in _TABLES.items():
        fields = [column.strip() for column in key_columns.split(",")]
        for row in model.objects.values_list(*fields, "amount_minor", "line_count").iterator(chunk_size=20_000):  # type: ignore[attr-defined]
            amount, lines = row[-2], row[-1]
            if amount or lines:
                stored[(label, *row[:-2])] = (amount, lines)
    return stored


def _differences(expected: dict[Key, tuple[int, int]], stored: dict[Key, tuple[int, int]]) -> list[RollupDifference]:
    return [
        RollupDifference(key=key, stored=stored.get(key, (0, 0)), expected=expected.get(key, (0, 0)))
        for key in sorted(set(expected) | set(stored), key=repr)
        if expected.get(key, (0, 0)) != stored.get(key, (0, 0))
    ]


def rollups_compare() -> list[RollupDifference]:
    return _differences(expected_rollups(), stored_rollups())


@transaction.atomic
def rollups_rebuild() -> list[RollupDifference]:
    """Replace every rollup with values recomputed from the lines; returns what differed."""
    lock_rollups()  # no import adds to the rollups between the reads and the rewrite
    expected = expected_rollups()
    differences = _differences(expected, stored_rollups())
    if differences:
        for label, (model, key_columns) in _TABLES.items():
            model.objects.all().delete()  # type: ignore[attr-defined]
            # As the table stores them: grain, measure and motion as their codes (TextCodeField).
            fields = [cast("models.Field[Any, Any]", model._meta.get_field(name.strip())) for name in key_columns.split(",")]
            rows = [
                (*(field.get_prep_value(value) for field, value in zip(fields, key[1:], strict=True)), amount, lines)
                for key, (amount, lines) in expected.items()
                if key[0] == label
            ]
            width = key_columns.count(",") + 3
            sql = f"INSERT INTO {model._meta.db_table} ({key_columns}, amount_minor, line_count) VALUES ({', '.join(['%s'] * width)})"
            with connection.cursor() as cursor:
                for start in range(0, len(rows), 5000):
                    cursor.executemany(sql, rows[start : start + 5000])
    return differences

"""Data migrations move stored rows to their new meaning, and back."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("results", "0004_result_line_references_unconstrained")]
AFTER = [("results", "0005_rollup_own_credits_grain")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_own_credits_move_to_their_own_grain_and_back():
    apps = _migrate(BEFORE)
    Rollup = apps.get_model("results", "Rollup")
    month = date(2027, 1, 1)
    common = {"measure": "booked", "period": month, "motion": "new", "currency": "EUR", "amount_minor": 7, "line_count": 1}
    Rollup.objects.create(node_id=5, grain="M", region_id=0, product_line_id=0, product_application_id=0, **common)  # own credits
    Rollup.objects.create(node_id=5, grain="M", region_id=3, product_line_id=1, product_application_id=0, **common)  # below node 5
    Rollup.objects.create(node_id=0, grain="M", region_id=3, product_line_id=1, product_application_id=0, **common)  # the company
    Rollup.objects.create(node_id=0, grain="D", region_id=3, product_line_id=1, product_application_id=0, **common)
    try:
        apps = _migrate(AFTER)
        rows = sorted(apps.get_model("results", "Rollup").objects.values_list("node_id", "grain", "region_id"))
        assert rows == [(0, "D", 3), (0, "M", 3), (5, "M", 3), (5, "O", 0)]
        apps = _migrate(BEFORE)
        rows = sorted(apps.get_model("results", "Rollup").objects.values_list("node_id", "grain", "region_id"))
        assert rows == [(0, "D", 3), (0, "M", 3), (5, "M", 0), (5, "M", 3)]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())  # back to the latest for the tests that follow

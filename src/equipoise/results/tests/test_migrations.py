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


def test_company_days_by_region_and_by_product_are_built_from_the_days_by_every_dimension():
    apps = _migrate([("results", "0007_rollup_statistics")])
    Rollup = apps.get_model("results", "Rollup")
    day = date(2027, 1, 4)
    common = {"grain": "D", "measure": "booked", "period": day, "currency": "EUR", "line_count": 1}
    Rollup.objects.create(node_id=0, region_id=3, product_line_id=1, product_application_id=7, motion="new", amount_minor=5, **common)
    Rollup.objects.create(node_id=0, region_id=3, product_line_id=2, product_application_id=0, motion="new", amount_minor=6, **common)
    Rollup.objects.create(node_id=0, region_id=4, product_line_id=1, product_application_id=7, motion="new", amount_minor=7, **common)
    Rollup.objects.create(node_id=9, region_id=4, product_line_id=1, product_application_id=7, motion="new", amount_minor=8, **common)
    try:
        apps = _migrate([("results", "0008_company_daily_by_region_and_by_product")])
        rows = apps.get_model("results", "Rollup").objects.filter(node_id=0, grain="D")
        found = sorted(rows.values_list("region_id", "product_line_id", "product_application_id", "amount_minor", "line_count"))
        assert found == [
            (0, 1, 7, 12, 2),  # by product alone
            (0, 2, 0, 6, 1),
            (3, 0, 0, 11, 2),  # by region alone
            (3, 1, 7, 5, 1),
            (3, 2, 0, 6, 1),
            (4, 0, 0, 7, 1),
            (4, 1, 7, 7, 1),
        ]
        apps = _migrate([("results", "0007_rollup_statistics")])
        assert apps.get_model("results", "Rollup").objects.filter(node_id=0).count() == 3
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_rollup_pages_keep_room_for_updates_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("fillfactor is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname IN ('results_rollup', 'results_rolluptotal') ORDER BY 1")
        assert cursor.fetchall() == [("results_rollup", ["fillfactor=70"]), ("results_rolluptotal", ["fillfactor=70"])]


def test_lines_and_rollups_keep_no_autoincrement_counter_on_sqlite():
    """Written by the million, these tables are numbered one past the largest id instead."""
    if connection.vendor != "sqlite":
        pytest.skip("AUTOINCREMENT is SQLite's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
            "AND name IN ('results_resultline', 'results_rollup', 'results_rolluptotal')"
        )
        tables = dict(cursor.fetchall())
    assert sorted(tables) == ["results_resultline", "results_rollup", "results_rolluptotal"]
    assert not [name for name, sql in tables.items() if "AUTOINCREMENT" in sql.upper()]


def _rollup_storage():
    """How the two rollup tables are keyed, as the database describes them."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ('results_rollup', 'results_rolluptotal')")
            return {name: ("WITHOUT ROWID" in sql, '"id"' in sql) for name, sql in cursor.fetchall()}
        cursor.execute(
            "SELECT c.relname, i.indisprimary, array_length(i.indkey::int2[], 1), "
            "EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'id' AND NOT a.attisdropped) "
            "FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid WHERE c.relname IN ('results_rollup', 'results_rolluptotal') "
            "ORDER BY 1, 2"
        )
        return cursor.fetchall()


def test_rollup_keys_become_primary_keys_and_back_with_every_row():
    sums = {"amount_minor": 11, "line_count": 2}
    apps = _migrate([("results", "0010_result_line_ids_without_autoincrement")])
    try:
        old_rollup, old_total = apps.get_model("results", "Rollup"), apps.get_model("results", "RollupTotal")
        old_rollup.objects.create(
            node_id=0, grain="D", measure="booked", period=date(2027, 1, 5), region_id=3, product_line_id=1,
            product_application_id=7, motion="new", currency="EUR", **sums,
        )  # fmt: skip
        old_total.objects.create(node_id=4, grain="M", measure="booked", period=date(2027, 1, 1), motion="new", currency="EUR", **sums)
        before = _rollup_storage()
        apps = _migrate([("results", "0011_rollup_keys_as_primary_keys")])
        after = _rollup_storage()
        rollup, total = apps.get_model("results", "Rollup"), apps.get_model("results", "RollupTotal")
        assert list(rollup.objects.values_list("node_id", "region_id", "product_application_id", "amount_minor", "line_count")) == [
            (0, 3, 7, 11, 2)
        ]
        assert list(total.objects.values_list("node_id", "amount_minor", "line_count")) == [(4, 11, 2)]
        if connection.vendor == "sqlite":
            assert before == {"results_rollup": (False, True), "results_rolluptotal": (False, True)}
            assert after == {"results_rollup": (True, False), "results_rolluptotal": (True, False)}
        else:
            # Before: the id's primary key and the key's unique index; after: the key alone, no id.
            assert before == [
                ("results_rollup", False, 9, True),
                ("results_rollup", True, 1, True),
                ("results_rolluptotal", False, 6, True),
                ("results_rolluptotal", True, 1, True),
            ]
            assert after == [("results_rollup", True, 9, False), ("results_rolluptotal", True, 6, False)]
        apps = _migrate([("results", "0010_result_line_ids_without_autoincrement")])
        assert _rollup_storage() == before
        assert list(apps.get_model("results", "Rollup").objects.values_list("amount_minor", flat=True)) == [11]
        assert list(apps.get_model("results", "RollupTotal").objects.values_list("line_count", flat=True)) == [2]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_rollup_key_strings_become_codes_and_back_with_every_row():
    text_state = [("results", "0014_batch_problems_found")]
    apps = _migrate(text_state)
    try:
        old_rollup, old_total = apps.get_model("results", "Rollup"), apps.get_model("results", "RollupTotal")
        rows = [("D", "booked", "expansion"), ("M", "churned", "new"), ("O", "invoiced", "renewal")]
        for node, (grain, measure, motion) in enumerate(rows):
            key = {"node_id": node, "grain": grain, "measure": measure, "period": date(2027, 1, 1), "motion": motion, "currency": "EUR"}
            old_rollup.objects.create(**key, region_id=3, product_line_id=1, product_application_id=0, amount_minor=node + 1, line_count=1)
            old_total.objects.create(**key, amount_minor=node + 10, line_count=2)
        storage = _rollup_storage()
        apps = _migrate([("results", "0015_rollup_key_strings_as_codes")])
        assert _rollup_storage() == storage  # keyed as before: WITHOUT ROWID on SQLite, the same primary keys
        for model in ("rollup", "rolluptotal"):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT node_id, grain, measure, motion FROM results_{model} ORDER BY node_id")
                assert cursor.fetchall() == [(0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 2, 2)]
            found = apps.get_model("results", model).objects.order_by("node_id").values_list("grain", "measure", "motion")
            assert list(found) == rows
        assert sorted(apps.get_model("results", "RollupTotal").objects.values_list("amount_minor", flat=True)) == [10, 11, 12]
        apps = _migrate(text_state)
        assert _rollup_storage() == storage
        assert list(apps.get_model("results", "Rollup").objects.order_by("node_id").values_list("grain", "measure", "motion")) == rows
        assert list(apps.get_model("results", "Rollup").objects.order_by("node_id").values_list("amount_minor", flat=True)) == [1, 2, 3]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

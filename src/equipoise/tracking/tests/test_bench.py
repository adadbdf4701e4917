"""The random dissection queries the benchmark times: each is a valid table for a company-wide user."""

import random

from equipoise.tracking import bench
from equipoise.tracking.actuals import COMPANY, SELLER, TEAM


def test_random_dissection_queries_cover_every_scope_and_all_succeed(data):
    bench._cache.clear()  # ids differ from test to test
    rng = random.Random(7)

    tables = [bench.random_dissection_query(data.org.admin, rng) for _ in range(60)]

    assert {table.scope.kind for table in tables} == {COMPANY, TEAM, SELLER}
    assert any(table.scope.customer is not None for table in tables)
    assert {table.view.grain.value for table in tables} >= {"day", "week", "month", "quarter"}
    for table in tables:
        assert sum(row.total.actual_minor for row in table.rows) == table.totals.total.actual_minor
    bench._cache.clear()

"""Tracking fixtures: the shared org and plan, quotas, and a small, hand-checkable set of results.

Results (booked unless said otherwise), in EUR cents:

| line | seller(s)        | customer | region | motion    | day        | amount  |
|------|------------------|----------|--------|-----------|------------|---------|
| B1   | Sam              | Acme     | North  | new       | 2027-01-15 | 100,000 |
| B2   | Sara             | Acme     | North  | renewal   | 2027-01-20 |  50,000 |
| B3   | Olga             | Globex   | South  | new       | 2027-02-03 |  70,000 |
| B4   | Sam 60% Sara 40% | Globex   | North  | expansion | 2027-02-10 |  30,000 |
| B5   | Maria (manager)  | Acme     | North  | new       | 2027-01-05 |   5,000 |
| B6   | Olga             | Globex   | South  | new       | 2027-03-01 |  20,000 (no product application) |
| B7   | Sam              | Acme     | North  | new       | 2026-12-31 |   1,000 (before the plan) |
| I1   | Sam              | Acme     | North  | new       | 2027-01-31 |  80,000 invoiced |
| U1   | Sam              | Acme     | North  | new       | 2027-01-10 |   9,999 USD |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.db import transaction

from equipoise.api.tests.conftest import bearer as bearer  # fixtures, used by name
from equipoise.api.tests.conftest import call as call
from equipoise.results.ingest import Ingestor
from equipoise.results.tests.conftest import Catalog, line, make_batch
from equipoise.results.tests.conftest import catalog as catalog  # a fixture, used by name

AS_OF = date(2027, 3, 15)


@dataclass
class Data:
    org: Any
    catalog: Catalog
    plan: Any
    allocation: Any


# The standard data's "today": the plan year is a quarter old. Modules opt in with
# ``pytestmark = pytest.mark.usefixtures("on_15_march_2027")``.
@pytest.fixture
def on_15_march_2027(time_machine: Any) -> None:
    time_machine.move_to("2027-03-15 09:00")


def get_as(client: Any, user: Any, url: str, params: dict[str, Any] | None = None, **headers: Any) -> Any:
    """GET a page as ``user``."""
    client.force_login(user)
    return client.get(url, params or {}, **headers)


def ingest(org: Any, catalog: Catalog, *lines: Any, source: str = "test") -> None:
    with transaction.atomic():
        Ingestor(batch=make_batch(source)).ingest(list(lines))


def standard_lines(org: Any, catalog: Catalog) -> list[Any]:
    north, south = org.north.pk, org.south.pk
    acme, globex = catalog.acme.pk, catalog.globex.pk
    return [
        line(org, catalog, "B1"),
        line(org, catalog, "B2", occurred_on=date(2027, 1, 20), amount_minor=50_000, motion="renewal", credits=((org.sara.pk, 10_000),)),
        line(
            org, catalog, "B3", occurred_on=date(2027, 2, 3), amount_minor=70_000, customer_id=globex, region_id=south,
            credits=((org.olga.pk, 10_000),),
        ),
        line(
            org, catalog, "B4", occurred_on=date(2027, 2, 10), amount_minor=30_000, customer_id=globex, region_id=north,
            motion="expansion", credits=((org.sam.pk, 6_000), (org.sara.pk, 4_000)),
        ),
        line(org, catalog, "B5", occurred_on=date(2027, 1, 5), amount_minor=5_000, credits=((org.maria.pk, 10_000),)),
        line(
            org, catalog, "B6", occurred_on=date(2027, 3, 1), amount_minor=20_000, customer_id=globex, region_id=south,
            product_application_id=None, credits=((org.olga.pk, 10_000),),
        ),
        line(org, catalog, "B7", occurred_on=date(2026, 12, 31), amount_minor=1_000, customer_id=acme),
        line(org, catalog, "I1", kind="invoice", occurred_on=date(2027, 1, 31), amount_minor=80_000),
        line(org, catalog, "U1", occurred_on=date(2027, 1, 10), amount_minor=9_999, currency="USD"),
    ]  # fmt: skip


@pytest.fixture
def allocation(org: Any, approved_plan: Any) -> Any:
    from equipoise.quotas.services import allocation_lock, quota_allocate

    # Locked, as quotas are once sellers work to them: a seller does not see a draft allocation.
    allocation = quota_allocate(actor=org.executive, plan=approved_plan)
    return allocation_lock(actor=org.executive, allocation=allocation, reason="Quotas are final.")


@pytest.fixture(params=[0, 2, 1_000], ids=["subtrees-rolled-up", "subtrees-mixed", "subtrees-from-lines"])
def data(request: Any, settings: Any, org: Any, catalog: Catalog, approved_plan: Any, allocation: Any) -> Data:
    """Every test with results runs three times: with every manager's subtree large (read from
    rollups), with some (the VP's and Maria's two sellers, not Omar's one) and with none (read from
    lines; see equipoise.results.rollup_nodes). Figures must not differ."""
    settings.EQUIPOISE_LARGE_SUBTREE = request.param
    ingest(org, catalog, *standard_lines(org, catalog))
    return Data(org=org, catalog=catalog, plan=approved_plan, allocation=allocation)

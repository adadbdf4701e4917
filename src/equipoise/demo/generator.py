"""The whole demo company from a seed, as plain data: :func:`build_spec`."""

from __future__ import annotations

import random
from dataclasses import dataclass

from equipoise.demo.revenue import build_buckets, build_history
from equipoise.demo.spec import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    DEFAULT_SELLERS,
    BucketSpec,
    CustomerSpec,
    HistoryRow,
    Organisation,
    TerritorySpec,
    build_customers,
    build_organisation,
)


@dataclass(frozen=True)
class DemoSpec:
    seed: int
    org: Organisation
    customers: tuple[CustomerSpec, ...]
    territories: tuple[TerritorySpec, ...]  # the org's and the named accounts'
    history: tuple[HistoryRow, ...]
    buckets: tuple[BucketSpec, ...]
    top_down_total_minor: int
    bottom_up_total_minor: int


def build_spec(*, seed: int = DEFAULT_SEED, sellers: int = DEFAULT_SELLERS, customers: int = DEFAULT_CUSTOMERS) -> DemoSpec:
    """Generate the company. Same arguments, same company: one ``random.Random(seed)``, drawn in a fixed order."""
    if sellers < 1:
        raise ValueError("The demo needs at least one seller.")
    if customers < 0:
        raise ValueError("The number of customers cannot be negative.")
    rng = random.Random(seed)
    org = build_organisation(rng, sellers=sellers)
    customer_specs, named_territories = build_customers(rng, org, count=customers)
    territories = (*org.territories, *named_territories)
    history = build_history(rng, org, customer_specs, territories)
    buckets, top_down, bottom_up = build_buckets(rng, history)
    return DemoSpec(
        seed=seed,
        org=org,
        customers=tuple(customer_specs),
        territories=territories,
        history=tuple(history),
        buckets=tuple(buckets),
        top_down_total_minor=top_down,
        bottom_up_total_minor=bottom_up,
    )

"""The whole demo company from a seed and a reference date, as plain data: :func:`build_spec`."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from equipoise.demo.calibration import team_performance
from equipoise.demo.revenue import build_buckets
from equipoise.demo.sales import ContractSpec, ResultSpec, customer_seeds, customers_with_owners, simulate_sales
from equipoise.demo.spec import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SEED,
    DEFAULT_SELLERS,
    BucketSpec,
    CustomerSpec,
    Organisation,
    TerritorySpec,
    build_customers,
    build_organisation,
)
from equipoise.demo.timeline import DemoTimeline, demo_timeline


@dataclass(frozen=True)
class DemoSpec:
    seed: int
    timeline: DemoTimeline
    org: Organisation
    customers: tuple[CustomerSpec, ...]
    territories: tuple[TerritorySpec, ...]  # the org's and the named accounts'
    results: tuple[ResultSpec, ...]  # from the start of the history to as_of, in date order
    contracts: tuple[ContractSpec, ...]  # every renewal after the term it renews
    buckets: tuple[BucketSpec, ...]
    top_down_total_minor: int
    bottom_up_total_minor: int


def build_spec(*, as_of: date, seed: int = DEFAULT_SEED, sellers: int = DEFAULT_SELLERS, customers: int = DEFAULT_CUSTOMERS) -> DemoSpec:
    """Generate the company. Same arguments, same company: one ``random.Random(seed)``, drawn in a fixed order."""
    if sellers < 1:
        raise ValueError("The demo needs at least one seller.")
    if customers < 1:
        raise ValueError("The demo needs at least one customer.")
    timeline = demo_timeline(as_of)
    rng = random.Random(seed)
    org = build_organisation(rng, sellers=sellers, timeline=timeline)
    customer_specs, named_territories = build_customers(rng, org, count=customers, timeline=timeline)
    territories = (*org.territories, *named_territories)
    seeds = customer_seeds(rng, customer_specs)
    # Once with every team selling as before, to learn the plan; then again with each team's
    # performance in the plan's months (see calibration): the same history, a different present.
    neutral = simulate_sales(seeds=seeds, timeline=timeline, org=org, customers=customer_specs, territories=territories)
    named = frozenset(customer.code for customer in customer_specs if customer.is_named_account)
    buckets, top_down, bottom_up = build_buckets(rng, neutral.results, timeline=timeline, named_accounts=named)
    performance = team_performance(neutral, buckets=buckets, timeline=timeline, org=org)
    sales = simulate_sales(
        seeds=seeds, timeline=timeline, org=org, customers=customer_specs, territories=territories, performance=performance
    )
    return DemoSpec(
        seed=seed,
        timeline=timeline,
        org=org,
        customers=tuple(customers_with_owners(customer_specs, sales.owners)),
        territories=territories,
        results=sales.results,
        contracts=sales.contracts,
        buckets=tuple(buckets),
        top_down_total_minor=top_down,
        bottom_up_total_minor=bottom_up,
    )

"""The plan's buckets and targets, learned from the last twelve months of booked results.

Booked means bookings and renewals (the measure the plan is compared with); invoices, credit
notes and churn lines describe the same revenue another way and are left out. Only integer
arithmetic touches amounts.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from equipoise.core.errors import ApplicationError
from equipoise.core.money import allocate_minor
from equipoise.demo import catalog
from equipoise.demo.sales import BOOKING, RENEWAL, ResultSpec
from equipoise.demo.spec import BucketSpec, region_of_country
from equipoise.demo.timeline import DemoTimeline
from equipoise.planning import domain as planning

BP = 10_000
# Horizon growth over the last twelve months, per bucket kind, before the plan total is imposed.
MOTION_GROWTH_BP = {"new": 13_000, "renewal": 10_200, "expansion": 12_500, "named": 13_500}
NAMED_ACCOUNT_BUCKETS = 4
BOOKED_KINDS = frozenset({BOOKING, RENEWAL})
BucketKey = tuple[str, str | None, str | None, str | None]  # motion, region, product line, customer


def usual_year() -> list[Decimal]:
    """The catalog's seasonality as twelve weights averaging one."""
    return [Decimal(weight_bp) / BP for weight_bp in catalog.SEASONALITY_BP]


def seasonality_weights(monthly_totals: Mapping[date, int]) -> list[Decimal]:
    """Seasonality learned from monthly bookings, as the planning app learns it; the usual year
    when the history does not cover every calendar month."""
    try:
        return planning.learn_seasonality(monthly_totals)
    except ApplicationError:
        return usual_year()


_REGION_OF_COUNTRY = {code: region.code for code, region in region_of_country().items()}
_LINE_OF_APPLICATION = {app.code: line.code for line in catalog.PRODUCT_LINES for app in line.applications}


def bucket_key(line: ResultSpec, *, named_buckets: Sequence[str] | frozenset[str]) -> BucketKey:
    """The bucket a booked line falls in: (motion, region, product line, named customer)."""
    region = _REGION_OF_COUNTRY[line.country_code]
    if line.motion == "new":
        return ("new", region, _LINE_OF_APPLICATION[line.application_code], None)
    if line.motion == "renewal":
        return ("renewal", region, None, None)
    if line.customer_code in named_buckets:
        return ("expansion", None, None, line.customer_code)
    return ("expansion", region, None, None)


def build_buckets(
    rng: random.Random, results: Sequence[ResultSpec], *, timeline: DemoTimeline, named_accounts: frozenset[str]
) -> tuple[list[BucketSpec], int, int]:
    """The plan's buckets with top-down and bottom-up horizon targets, and the two plan totals.

    Buckets: new business per region × product line, renewal per region, expansion per region
    (without the named accounts that get their own bucket), and expansion of the largest named
    accounts. The top-down total is the last twelve months × 2 years × 115%, in whole thousands of
    euros, split over buckets by their last twelve months and a motion's growth; bottom-up is
    6–9% lower in total, more or less so per bucket. Both split by largest remainder, so the
    buckets sum exactly to their plan's total.
    """
    first, end = timeline.months_before_plan(12), timeline.plan_start
    recent = [row for row in results if row.kind in BOOKED_KINDS and first <= row.occurred_on < end]
    named_expansion: dict[str, int] = {}
    for row in recent:
        if row.customer_code in named_accounts and row.motion == "expansion":
            named_expansion[row.customer_code] = named_expansion.get(row.customer_code, 0) + row.amount_minor
    ranked = sorted(named_expansion, key=lambda code: (-named_expansion[code], code))
    named_buckets = sorted(ranked[:NAMED_ACCOUNT_BUCKETS])
    last_twelve: dict[BucketKey, int] = {}
    for row in recent:
        key = bucket_key(row, named_buckets=named_buckets)
        last_twelve[key] = last_twelve.get(key, 0) + row.amount_minor
    ordered: list[BucketKey] = []
    for motion in ("new", "renewal", "expansion"):
        for region_info in catalog.REGIONS:
            lines = [line.code for line in catalog.PRODUCT_LINES] if motion == "new" else [None]
            ordered.extend((motion, region_info.code, line, None) for line in lines)
    ordered.extend(("expansion", None, None, code) for code in named_buckets)
    ordered = [key for key in ordered if last_twelve.get(key, 0) > 0]
    history_total = sum(last_twelve.values())
    unit = catalog.TARGET_UNIT_MINOR
    total_units = (history_total * 2 * catalog.PLAN_UPLIFT_BP + BP * unit // 2) // (BP * unit)
    weights = []
    for key in ordered:
        motion, customer = key[0], key[3]
        growth = MOTION_GROWTH_BP["named" if customer else motion] + rng.randint(-500, 500)
        weights.append(last_twelve[key] * growth)
    top_down_units = allocate_minor(total_units, weights)
    bottom_up_total_units = total_units * rng.randint(9_100, 9_400) // BP
    bottom_up_units = allocate_minor(bottom_up_total_units, [units * rng.randint(8_700, 10_700) for units in top_down_units])
    buckets = [
        BucketSpec(
            motion=motion,
            region_code=region,
            product_line_code=line,
            customer_code=customer,
            top_down_minor=top_down * unit,
            bottom_up_minor=bottom_up * unit,
        )
        for (motion, region, line, customer), top_down, bottom_up in zip(ordered, top_down_units, bottom_up_units, strict=True)
    ]
    return buckets, total_units * unit, bottom_up_total_units * unit

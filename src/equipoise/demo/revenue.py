"""The demo's revenue: 24 months of history per seller, and the plan targets derived from it.

History is plausible rather than real: a recurring base that renews every month (mildly
seasonal), expansion on top of it, and lumpy new business; all of it growing about 1% a month,
with quarter ends up, an August dip and a Q4 peak. New sellers ramp up in their first months.
Only integer arithmetic touches amounts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from equipoise.core.money import allocate_minor
from equipoise.core.periods import add_months, month_end, month_start
from equipoise.demo import catalog
from equipoise.demo.spec import (
    BucketSpec,
    CustomerSpec,
    HistoryRow,
    Organisation,
    TerritorySpec,
    history_months,
    region_of_country,
    territories_by_seller,
)

BP = 10_000
# A new seller books nothing in their first two months, then ramps up.
HISTORY_RAMP_BP = (0, 0, 2500, 5000, 7500)
# Horizon growth over the last twelve months, per bucket kind, before the plan total is imposed.
MOTION_GROWTH_BP = {"new": 13_000, "renewal": 10_200, "expansion": 12_500, "named": 13_500}
NAMED_ACCOUNT_BUCKETS = 4
BucketKey = tuple[str, str | None, str | None, str | None]  # motion, region, product line, customer


def _growth_bp(offset: int) -> int:
    """About +1% a month, compounded, as basis points of the first month."""
    return int((Decimal(BP) * Decimal("1.01") ** offset).quantize(Decimal(1)))


def _whole_euros(amount_minor: int) -> int:
    return (amount_minor + 50) // 100 * 100


def _pick_weighted(rng: random.Random, options: Sequence[catalog.ApplicationInfo], count: int) -> list[catalog.ApplicationInfo]:
    remaining = list(options)
    picked = []
    for _ in range(min(count, len(remaining))):
        choice = rng.choices(remaining, weights=[option.weight for option in remaining])[0]
        remaining.remove(choice)
        picked.append(choice)
    return sorted(picked, key=lambda app: app.code)


def _country_in_month(territories: Sequence[TerritorySpec], month: date) -> str | None:
    """The country territory overlapping ``month`` that started last (a mover's new country)."""
    found: tuple[date, str] | None = None
    for territory in territories:
        if territory.region_code is None or territory.starts_on > month_end(month):
            continue
        if territory.ends_on is not None and territory.ends_on < month:
            continue
        if found is None or territory.starts_on >= found[0]:
            found = (territory.starts_on, territory.region_code)
    return found[1] if found else None


def build_history(
    rng: random.Random, org: Organisation, customers: Sequence[CustomerSpec], territories: Sequence[TerritorySpec]
) -> list[HistoryRow]:
    """Monthly revenue per seller × country × application × motion, plus named accounts' own rows."""
    applications = [app for line in catalog.PRODUCT_LINES for app in line.applications]
    months = history_months()
    coverage = territories_by_seller(territories)
    named_by_owner: dict[str, list[CustomerSpec]] = {}
    for customer in customers:
        if customer.is_named_account:
            named_by_owner.setdefault(customer.owner_key, []).append(customer)
    named_since = {t.customer_code: month_start(t.starts_on) for t in territories if t.customer_code}
    rows: list[HistoryRow] = []
    for person in org.people:
        if not person.carries_quota or person.hire_date is None:
            continue
        base_minor = rng.randint(40_000, 85_000) * 100
        apps = _pick_weighted(rng, applications, rng.randint(5, 7))
        app_base = allocate_minor(base_minor, [app.weight * rng.randint(70, 130) for app in apps])
        accounts = [
            (customer, _pick_weighted(rng, applications, 2), rng.randint(20_000, 60_000) * 100)
            for customer in named_by_owner.get(person.key, [])
        ]
        first_month = month_start(person.hire_date)
        last_month = month_start(person.left_on) if person.left_on else months[-1]
        for offset, month in enumerate(months):
            if month < first_month or month > last_month:
                continue
            country = _country_in_month(coverage.get(person.key, []), month)
            if country is None:
                continue
            tenure = (month.year - first_month.year) * 12 + month.month - first_month.month
            ramp = HISTORY_RAMP_BP[tenure] if tenure < len(HISTORY_RAMP_BP) else BP
            if not ramp:
                continue
            growth = _growth_bp(offset) * ramp // BP
            season = catalog.SEASONALITY_BP[month.month - 1]
            renewal_season = (BP + season) // 2
            for app, recurring in zip(apps, app_base, strict=True):
                renewal = recurring * growth * renewal_season * rng.randint(9_500, 10_500) // BP**3
                rows.append(HistoryRow(month, person.key, country, app.code, None, "renewal", _whole_euros(renewal)))
                if rng.randint(1, 100) <= 80:
                    expansion = recurring * 1_800 * growth * season * rng.randint(5_000, 15_000) // BP**4
                    if expansion >= 100:
                        rows.append(HistoryRow(month, person.key, country, app.code, None, "expansion", _whole_euros(expansion)))
                if rng.randint(1, BP) <= 3_000 * season // BP:
                    size_bp = rng.randint(4_000, 16_000) * (4 if rng.randint(1, 100) <= 5 else 1)
                    new = recurring * size_bp * growth // BP**2
                    rows.append(HistoryRow(month, person.key, country, app.code, None, "new", _whole_euros(new)))
            for customer, account_apps, account_base in accounts:
                if month < named_since.get(customer.code, first_month):
                    continue
                for app in account_apps:
                    renewal = account_base * growth * renewal_season * rng.randint(9_700, 10_300) // BP**3
                    rows.append(
                        HistoryRow(month, person.key, customer.country_code, app.code, customer.code, "renewal", _whole_euros(renewal))
                    )
                    if rng.randint(1, 100) <= 85:
                        expansion = account_base * 2_500 * growth * season * rng.randint(4_000, 16_000) // BP**4
                        rows.append(
                            HistoryRow(
                                month, person.key, customer.country_code, app.code, customer.code, "expansion", _whole_euros(expansion)
                            )
                        )
    return [row for row in rows if row.amount_minor > 0]


def build_buckets(rng: random.Random, history: Sequence[HistoryRow]) -> tuple[list[BucketSpec], int, int]:
    """The plan's buckets with top-down and bottom-up horizon targets, and the two plan totals.

    Buckets: new business per region × product line, renewal per region, expansion per region
    (without the named accounts that get their own bucket), and expansion of the largest named
    accounts. The top-down total is the last twelve months × 2 years × 115%, in whole thousands of
    euros, split over buckets by their last twelve months and a motion's growth; bottom-up is
    6–9% lower in total, more or less so per bucket. Both split by largest remainder, so the
    buckets sum exactly to their plan's total.
    """
    regions = region_of_country()
    line_of = {app.code: line.code for line in catalog.PRODUCT_LINES for app in line.applications}
    recent = [row for row in history if row.month >= add_months(catalog.PLAN_START, -12)]
    named_expansion: dict[str, int] = {}
    for row in recent:
        if row.customer_code and row.motion == "expansion":
            named_expansion[row.customer_code] = named_expansion.get(row.customer_code, 0) + row.amount_minor
    ranked = sorted(named_expansion, key=lambda code: (-named_expansion[code], code))
    named_buckets = sorted(ranked[:NAMED_ACCOUNT_BUCKETS])
    last_twelve: dict[BucketKey, int] = {}
    for row in recent:
        key: BucketKey
        region = regions[row.country_code].code
        if row.motion == "new":
            key = ("new", region, line_of[row.application_code], None)
        elif row.motion == "renewal":
            key = ("renewal", region, None, None)
        elif row.customer_code in named_buckets:
            key = ("expansion", None, None, row.customer_code)
        else:
            key = ("expansion", region, None, None)
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

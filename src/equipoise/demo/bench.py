"""The allocation benchmark: a large org, an approved 24-month plan, one timed ``quota_allocate``.

Everything is built inside one transaction in the configured database and rolled back at the
end, so the database is left exactly as it was (demo data included) whatever happens. Only the
call to :func:`equipoise.quotas.services.quota_allocate` is timed. The result is then checked
independently of the allocation code: SQL sums of the stored quota rows per manager, bucket and
month against :func:`equipoise.quotas.domain.cushioned_months` of the manager's own row, and the
root's rows against the plan's months.

Because nothing is committed, the timing leaves out writing the commit itself (on SQLite, the
WAL frames of a few hundred thousand rows); on PostgreSQL the deferred foreign-key checks that
would run at COMMIT are made immediate so that the allocation pays for them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from time import perf_counter
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Sum

from equipoise.core.access import Role
from equipoise.core.money import allocate_minor
from equipoise.core.periods import add_months, month_range
from equipoise.demo import catalog
from equipoise.org.models import Customer, Person, ProductLine, Region, Territory
from equipoise.planning.models import PlanKind, PlanMonth, PlanVersion
from equipoise.planning.services import bucket_add, plan_approve, plan_create
from equipoise.quotas.domain import cushioned_months
from equipoise.quotas.models import AllocationMethod, Quota, QuotaAllocation
from equipoise.quotas.services import quota_allocate
from equipoise.results.ingest import Ingestor, LineInput
from equipoise.results.models import BatchChannel, BatchStatus, ImportBatch

MOTIONS = ("new", "renewal", "expansion")
# A fixed plan start: the benchmark's figures do not depend on the day it runs.
PLAN_START = date(2027, 1, 1)
COUNTRIES_PER_REGION = 3
_BATCH = 5_000

Status = Callable[[str], None]


@dataclass
class BenchSetup:
    actor: Any
    root: Person
    plan: PlanVersion
    people: int
    history_rows: int


@dataclass
class Reconciliation:
    quota_rows: int
    cells_checked: int
    errors: list[str]

    @property
    def reconciled(self) -> bool:
        return not self.errors and self.quota_rows > 0


def run_allocation_bench(
    *,
    sellers: int,
    buckets: int,
    seed: int,
    method: str = AllocationMethod.HISTORY,
    history_months: int = 12,
    status: Status | None = None,
) -> dict[str, Any]:
    """Build, allocate (timed), check, roll back. Returns the figures for the JSON line."""
    say = status or (lambda message: None)
    started = perf_counter()
    with transaction.atomic():
        say(f"Building a {sellers:,}-seller org, territories, history and an approved plan with {buckets} buckets")
        setup = build_bench_org(
            sellers=sellers, buckets=buckets, seed=seed, with_history=method == AllocationMethod.HISTORY, history_months=history_months
        )
        if connection.vendor == "postgresql":
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: PostgreSQL checks them at
            # COMMIT, which a rolled-back benchmark never reaches. Checking immediately from here on
            # charges the allocation for its own checks (the build's pending ones fire now, untimed).
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        build_seconds = perf_counter() - started
        say("Allocating quotas (timed)")
        allocate_started = perf_counter()
        allocation = quota_allocate(
            actor=setup.actor,
            plan=setup.plan,
            method=method,
            cushion_bp_by_level=catalog.CUSHION_BP_BY_LEVEL,
            ramp_bp=catalog.RAMP_BP,
            root=setup.root,
            reason="benchmark",
        )
        seconds = perf_counter() - allocate_started
        say("Checking reconciliation from the stored rows")
        check_started = perf_counter()
        check = check_reconciliation(allocation)
        check_seconds = perf_counter() - check_started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django expects, should a caller's transaction go on
        say("Rolling back: the database is left as it was")
        transaction.set_rollback(True)
    return {
        "bench": "allocate",
        "sellers": sellers,
        "buckets": buckets,
        "months": setup.plan.horizon_months,
        "method": method,
        "people": setup.people,
        "history_rows": setup.history_rows,
        "quota_rows": check.quota_rows,
        "seconds": round(seconds, 3),
        "reconciled": check.reconciled,
        "errors": len(check.errors),
        "first_error": check.errors[0] if check.errors else None,
        "cells_checked": check.cells_checked,
        "build_seconds": round(build_seconds, 3),
        "check_seconds": round(check_seconds, 3),
        "database": connection.vendor,
        "seed": seed,
    }


def _free_prefix() -> str:
    prefix, number = "BENCH", 1
    while (
        Region.objects.filter(code__startswith=f"{prefix}-").exists()
        or ProductLine.objects.filter(code=f"{prefix}-PL").exists()
        or get_user_model().objects.filter(username=f"{prefix.lower()}-actor").exists()
    ):
        number += 1
        prefix = f"BENCH{number}"
    return prefix


def build_bench_org(*, sellers: int, buckets: int, seed: int, with_history: bool = True, history_months: int = 12) -> BenchSetup:
    """Regions × motions buckets (3 countries a region), teams of eight sellers under managers,
    a director per region above them when there are more than eight teams, and the VP on top.
    About one seller in sixteen is hired around the plan start, so ramp is exercised."""
    if sellers < 1:
        raise ValueError("The benchmark needs at least one seller.")
    if buckets < 1:
        raise ValueError("The benchmark needs at least one bucket.")
    rng = random.Random(seed)
    prefix = _free_prefix()
    region_count = -(-buckets // len(MOTIONS))
    regions = Region.objects.bulk_create([Region(code=f"{prefix}-R{i + 1}", name=f"Bench region {i + 1}") for i in range(region_count)])
    countries = Region.objects.bulk_create(
        [
            Region(code=f"{region.code}-C{j + 1}", name=f"{region.name} country {j + 1}", parent=region)
            for region in regions
            for j in range(COUNTRIES_PER_REGION)
        ]
    )
    product_line = ProductLine.objects.create(code=f"{prefix}-PL", name="Bench product line")
    actor = get_user_model().objects.create(username=f"{prefix.lower()}-actor", is_superuser=True, is_staff=False)

    team_count = -(-sellers // catalog.SELLERS_PER_TEAM)
    people: list[Person] = []

    def create_level(rows: list[Person]) -> list[Person]:
        created = Person.objects.bulk_create(rows, batch_size=_BATCH)
        for person in created:
            parent = person.manager
            person.path = f"{parent.path if parent else '/'}{person.pk}/"
            person.depth = parent.depth + 1 if parent else 0
        people.extend(created)
        return created

    old_hand = date(2018, 1, 1)
    (root,) = create_level([Person(full_name="Bench VP", role=Role.EXECUTIVE, team_name="Bench sales", hire_date=old_hand)])
    directors: list[Person] = []
    if team_count > catalog.MAX_TEAMS_WITHOUT_DIRECTORS:
        directors = create_level(
            [
                Person(full_name=f"Bench director {i + 1}", role=Role.MANAGER, manager=root, team_name=region.name)
                for i, region in enumerate(regions)
            ]
        )
    managers = create_level(
        [
            Person(
                full_name=f"Bench manager {t + 1}",
                role=Role.MANAGER,
                manager=directors[t % region_count] if directors else root,
                team_name=f"Bench team {t + 1}",
                hire_date=old_hand,
            )
            for t in range(team_count)
        ]
    )
    team_sizes = allocate_minor(sellers, [1] * team_count)
    seller_rows: list[Person] = []
    seller_country: list[Region] = []
    for t, (manager, size) in enumerate(zip(managers, team_sizes, strict=True)):
        region_index = t % region_count
        for s in range(size):
            recent = rng.randint(1, 16) == 1
            hire = (
                add_months(PLAN_START, rng.randint(-2, 8)).replace(day=rng.randint(1, 28))
                if recent
                else date(rng.randint(2012, 2024), rng.randint(1, 12), rng.randint(1, 28))
            )
            seller_rows.append(
                Person(
                    full_name=f"Bench seller {len(seller_rows) + 1}",
                    role=Role.SELLER,
                    manager=manager,
                    carries_quota=True,
                    hire_date=hire,
                )
            )
            seller_country.append(countries[region_index * COUNTRIES_PER_REGION + s % COUNTRIES_PER_REGION])
    bench_sellers = create_level(seller_rows)
    with connection.cursor() as cursor:  # bulk_update's CASE statements cost seconds at this size
        cursor.executemany(
            f"UPDATE {Person._meta.db_table} SET path = %s, depth = %s WHERE id = %s", [(p.path, p.depth, p.pk) for p in people]
        )

    Territory.objects.bulk_create(
        [
            Territory(
                seller=seller,
                region=country,
                starts_on=min(seller.hire_date or old_hand, old_hand),
                potential_minor=rng.randint(500, 5_000) * 100_000,
            )
            for seller, country in zip(bench_sellers, seller_country, strict=True)
        ],
        batch_size=_BATCH,
    )
    history_rows = 0
    if with_history:
        history_rows = _write_history(prefix, bench_sellers, seller_country, product_line, rng, history_months=history_months)

    plan = _approved_plan(actor=actor, regions=regions, buckets=buckets, sellers=sellers, rng=rng)
    return BenchSetup(actor=actor, root=root, plan=plan, people=len(people), history_rows=history_rows)


def _write_history(
    prefix: str, sellers: list[Person], countries: list[Region], product_line: ProductLine, rng: random.Random, *, history_months: int
) -> int:
    """A booked line per established seller, month and motion, each for a customer of the seller's
    own, ingested as one import batch (rollups included) like any other results."""
    first = add_months(PLAN_START, -history_months)
    months = month_range(first, history_months)
    established = [
        (seller, country) for seller, country in zip(sellers, countries, strict=True) if not (seller.hire_date and seller.hire_date > first)
    ]
    customers = Customer.objects.bulk_create(
        [
            Customer(code=f"{prefix}-C{seller.pk}", name=f"Bench customer {seller.pk}", home_region=country, owner=seller)
            for seller, country in established
        ],
        batch_size=_BATCH,
    )
    batch = ImportBatch.objects.create(channel=BatchChannel.API, source=prefix.lower(), status=BatchStatus.COMMITTED)
    ingestor = Ingestor(batch=batch, defer_rollups=True)
    lines: list[LineInput] = []
    for (seller, country), customer in zip(established, customers, strict=True):
        # Recent hires have no history: allocation weights them at the bucket's average.
        size = rng.randint(20, 120)
        for motion in MOTIONS:
            for month in months:
                lines.append(
                    LineInput(
                        row=len(lines) + 1,
                        source=batch.source,
                        external_id=str(len(lines) + 1),
                        kind="renewal" if motion == "renewal" else "booking",
                        occurred_on=month.replace(day=15),
                        currency=catalog.CURRENCY,
                        amount_minor=size * rng.randint(500, 1_500) * 100,
                        customer_id=customer.pk,
                        region_id=country.pk,
                        product_line_id=product_line.pk,
                        product_application_id=None,
                        motion=motion,
                        credits=((seller.pk, 10_000),),
                    )
                )
    for start in range(0, len(lines), 50_000):
        ingestor.ingest(lines[start : start + 50_000])
    ingestor.finish(rows_read=len(lines), rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=perf_counter())
    return len(lines)


def _approved_plan(*, actor: Any, regions: list[Region], buckets: int, sellers: int, rng: random.Random) -> PlanVersion:
    combinations = [(region, motion) for region in regions for motion in MOTIONS][:buckets]
    # About 1.5M EUR per seller over the horizon, in whole thousands per bucket.
    targets = [rng.randint(600, 1_400) * max(sellers // len(regions), 1) * catalog.TARGET_UNIT_MINOR for _ in combinations]
    plan = plan_create(
        actor=actor,
        name=f"Benchmark plan, {sellers:,} sellers",
        kind=PlanKind.SCENARIO,
        start_month=PLAN_START,
        horizon_months=catalog.PLAN_HORIZON_MONTHS,
        total_target_minor=sum(targets),
        growth_bp_per_month=catalog.PLAN_GROWTH_BP_PER_MONTH,
    )
    for (region, motion), target in zip(combinations, targets, strict=True):
        bucket_add(actor=actor, plan=plan, region=region, motion=motion, target_minor=target, reason="benchmark")
    return plan_approve(actor=actor, plan=plan, reason="benchmark")


def check_reconciliation(allocation: QuotaAllocation) -> Reconciliation:
    """Recompute every level from the stored rows: children's SQL sum per (manager, bucket, month)
    must equal the manager's row plus that level's cushion, and the root's rows the plan's months."""
    plan = allocation.plan
    root = allocation.root
    months = month_range(plan.start_month, plan.horizon_months)
    index = {month: position for position, month in enumerate(months)}
    rows = Quota.objects.filter(allocation=allocation)
    quota_rows = rows.count()
    children: dict[tuple[int | None, int], list[int]] = defaultdict(lambda: [0] * len(months))
    for manager_id, bucket_id, month, total in (
        rows.exclude(person_id=root.pk)
        .values("person__manager_id", "bucket_id", "month")
        .annotate(total=Sum("amount_minor"))
        .values_list("person__manager_id", "bucket_id", "month", "total")
    ):
        children[(manager_id, bucket_id)][index[month]] = total
    parents = dict(Person.objects.filter(path__startswith=root.path, reports__isnull=False).distinct().values_list("pk", "depth"))
    own: dict[tuple[int | None, int], list[int]] = defaultdict(lambda: [0] * len(months))
    for holder_id, bucket_id, month, amount in rows.filter(person_id__in=list(parents)).values_list(
        "person_id", "bucket_id", "month", "amount_minor"
    ):
        own[(holder_id, bucket_id)][index[month]] = amount
    errors: list[str] = []
    for bucket_id, month, amount in PlanMonth.objects.filter(plan=plan).values_list("bucket_id", "month", "amount_minor"):
        held = own[(root.pk, bucket_id)][index[month]]
        if held != amount:
            errors.append(f"root, bucket {bucket_id}, {month:%Y-%m}: holds {held}, the plan says {amount}")
    cushions = allocation.cushion_bp_by_level
    cells = 0
    for parent_id, bucket_id in sorted(set(children) | set(own), key=lambda key: (key[0] or 0, key[1])):
        if parent_id is None or parent_id not in parents:
            errors.append(f"person {parent_id} is no manager in this tree but has reports with quota in bucket {bucket_id}")
            continue
        person_id: int = parent_id  # narrowed: a manager in this tree
        level = parents[person_id] - root.depth
        expected = cushioned_months(own[(person_id, bucket_id)], cushions[level] if level < len(cushions) else 0, plan.currency)
        actual = children[(person_id, bucket_id)]
        cells += len(months)
        for month, want, got in zip(months, expected, actual, strict=True):
            if want != got:
                errors.append(f"person {person_id}, bucket {bucket_id}, {month:%Y-%m}: reports sum to {got}, expected {want}")
    return Reconciliation(quota_rows=quota_rows, cells_checked=cells, errors=errors)

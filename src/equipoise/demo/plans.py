"""The demo's plans, quotas and commits, written through the planning and quotas services.

Acting as the VP, so they carry the same checks and audit trail as any other plan. The plans
learn from the result lines already loaded: seasonality from the company's booked months (through
:mod:`equipoise.planning.history`), quotas from each seller's booked history in a bucket.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from typing import Any

from django.db.models import Sum

from equipoise.core.access import Role
from equipoise.core.audit import bulk_create_audited, stamp
from equipoise.core.errors import ApplicationError
from equipoise.demo import catalog
from equipoise.demo.generator import DemoSpec
from equipoise.demo.revenue import usual_year
from equipoise.org.models import Customer, Person, ProductLine, Region
from equipoise.planning import history as revenue_history
from equipoise.planning.models import PlanKind, PlanVersion, SeasonalityKind
from equipoise.planning.services import bucket_add, plan_approve, plan_create, seasonality_create
from equipoise.quotas.models import AllocationMethod, Commit, Quota, QuotaAllocation
from equipoise.quotas.services import allocation_lock, quota_allocate

REASON = "demo company loaded"


def write_plans(
    spec: DemoSpec,
    *,
    actor: Any,
    regions: dict[str, Region],
    lines_by_code: dict[str, ProductLine],
    customers: dict[str, Customer],
) -> PlanVersion:
    """The learned seasonality, and the approved top-down and bottom-up plans; returns the top-down one."""
    timeline = spec.timeline
    try:
        seasonality = seasonality_create(
            actor=actor,
            name=f"Learned from {timeline.history_start:%b %Y}–{timeline.history_end:%b %Y} bookings",
            kind=SeasonalityKind.LEARNED,
            history=revenue_history.monthly_totals(start=timeline.history_start, end=timeline.history_end),
        )
    except ApplicationError:
        # A company too small to book something in every calendar month: the usual year instead.
        seasonality = seasonality_create(actor=actor, name="The usual year", kind=SeasonalityKind.MANUAL, weights=usual_year())
    approved: dict[str, PlanVersion] = {}
    label = timeline.plan_label()
    # Bottom-up first, so the top-down plan (the one quotas come from) heads the newest-first plan list.
    for kind, total, name, notes in (
        (
            PlanKind.BOTTOM_UP,
            spec.bottom_up_total_minor,
            f"{label} sales commit (bottom-up)",
            "What the regional teams commit to, bucket by bucket: the gap to the top-down plan is what we must close.",
        ),
        (
            PlanKind.TOP_DOWN,
            spec.top_down_total_minor,
            f"{label} plan (top-down)",
            "The CFO's ask: the last twelve months' bookings × 2 years × 115%, by bucket from each bucket's history and growth.",
        ),
    ):
        plan = plan_create(
            actor=actor,
            name=name,
            kind=kind,
            start_month=timeline.plan_start,
            horizon_months=catalog.PLAN_HORIZON_MONTHS,
            currency=catalog.CURRENCY,
            total_target_minor=total,
            seasonality=seasonality,
            growth_bp_per_month=catalog.PLAN_GROWTH_BP_PER_MONTH,
            notes=notes,
            **catalog.OBJECTIVES_BP,
        )
        for bucket in spec.buckets:
            bucket_add(
                actor=actor,
                plan=plan,
                region=regions[bucket.region_code] if bucket.region_code else None,
                product_line=lines_by_code[bucket.product_line_code] if bucket.product_line_code else None,
                customer=customers[bucket.customer_code] if bucket.customer_code else None,
                motion=bucket.motion,
                target_minor=bucket.top_down_minor if kind == PlanKind.TOP_DOWN else bucket.bottom_up_minor,
                reason=REASON,
            )
        approved[kind] = plan_approve(actor=actor, plan=plan, reason="Approved for the demo company.")
    return approved[PlanKind.TOP_DOWN]


def write_quotas(spec: DemoSpec, *, actor: Any, plan: PlanVersion, root: Person) -> QuotaAllocation:
    allocation = quota_allocate(
        actor=actor,
        plan=plan,
        method=AllocationMethod.HISTORY,
        cushion_bp_by_level=catalog.CUSHION_BP_BY_LEVEL,
        ramp_bp=catalog.RAMP_BP,
        root=root,
        reason="Allocated by each seller's share of their territory's booked history; 5% cushion at each level below the VP's "
        "direct reports; new sellers ramp 25/50/75%.",
    )
    return allocation_lock(actor=actor, allocation=allocation, reason=f"Quotas for {spec.timeline.plan_label()} locked with the plan.")


def write_commits(spec: DemoSpec, *, allocation: QuotaAllocation, people: dict[str, Person]) -> None:
    """Commits per motion for the plan so far and the next months: sellers near their quota (mostly a
    little below), managers their team's commits with their own judgement on top. Entered by each person."""
    rng = random.Random(spec.seed + 1)  # its own stream: commits never shift the rest of the company
    months = spec.timeline.commit_months
    quota: dict[tuple[int, date, str], int] = defaultdict(int)
    for person_id, month, motion, total in (
        Quota.objects.filter(allocation=allocation, month__in=months)
        .values("person_id", "month", "bucket__motion")
        .annotate(total=Sum("amount_minor"))
        .values_list("person_id", "month", "bucket__motion", "total")
    ):
        quota[(person_id, month, motion)] += total
    by_pk = {person.pk: person for person in people.values()}
    motions = ("new", "renewal", "expansion")
    commits: dict[tuple[int, date, str], int] = {}
    sellers = [p for p in people.values() if p.carries_quota and p.is_active]
    for seller in sorted(sellers, key=lambda p: p.path):
        for motion in motions:
            low, high = {"new": (7_800, 10_600), "renewal": (9_300, 10_100), "expansion": (8_200, 10_400)}[motion]
            for month in months:
                amount = quota[(seller.pk, month, motion)]
                if amount:
                    commits[(seller.pk, month, motion)] = _round_hundreds(amount * rng.randint(low, high) // 10_000)
    reports_of: dict[int, list[int]] = defaultdict(list)
    for person in sorted(by_pk.values(), key=lambda p: p.path):
        if person.manager_id is not None:
            reports_of[person.manager_id].append(person.pk)
    managers = [p for p in people.values() if p.role == Role.MANAGER and p.is_active]
    for manager in sorted(managers, key=lambda p: (-p.depth, p.path)):  # deepest first: directors see their managers' numbers
        reports = reports_of[manager.pk]
        for motion in motions:
            for month in months:
                below = sum(commits.get((report, month, motion), 0) for report in reports)
                if below:
                    commits[(manager.pk, month, motion)] = _round_hundreds(below * rng.randint(9_700, 10_200) // 10_000)
    rows = [
        stamp(
            Commit(
                person=by_pk[person_id],
                month=month,
                motion=motion,
                currency=catalog.CURRENCY,
                amount_minor=amount,
                note="Demo commit",
                entered_by=by_pk[person_id].user,
            ),
            actor=by_pk[person_id].user,
            reason="commit entered",
        )
        for (person_id, month, motion), amount in commits.items()
    ]
    bulk_create_audited(Commit, rows, actor=people["vp"].user, reason="commit entered")


def _round_hundreds(amount_minor: int) -> int:
    """Commits are round numbers: whole hundreds of euros."""
    return (amount_minor + 5_000) // 10_000 * 10_000

"""Reads of plans for an acting user. Plans are company-level: executives, finance and admins see them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet

from equipoise.core.errors import NotFound
from equipoise.core.periods import month_range
from equipoise.org.models import Motion
from equipoise.org.selectors import company_get, user_sees_company
from equipoise.planning import domain
from equipoise.planning.models import PlanBucket, PlanKind, PlanMonth, PlanState, PlanVersion


def plans_visible(user: Any) -> QuerySet[PlanVersion]:
    if not user_sees_company(user):
        return PlanVersion.objects.none()
    return PlanVersion.objects.select_related("seasonality", "created_by", "approved_by")


def access_plan_by_id(user: Any, plan_id: int) -> PlanVersion:
    plan = plans_visible(user).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound("That plan", field="plan")
    return plan


def access_bucket_by_id(user: Any, bucket_id: int) -> PlanBucket:
    bucket = PlanBucket.objects.filter(pk=bucket_id, plan__in=plans_visible(user)).select_related("plan").first()
    if bucket is None:
        raise NotFound("That bucket", field="bucket")
    return bucket


def approved_plan(kind: str = PlanKind.TOP_DOWN) -> PlanVersion | None:
    return PlanVersion.objects.filter(kind=kind, state=PlanState.APPROVED).first()


def plan_buckets(plan: PlanVersion) -> QuerySet[PlanBucket]:
    return plan.buckets.select_related("region", "product_line", "product_application", "customer")


@dataclass
class GridRow:
    bucket: PlanBucket
    months: list[int]
    year_totals: list[int]
    total: int


@dataclass
class PlanGrid:
    plan: PlanVersion
    months: list[date]
    years: list[tuple[str, list[date]]]
    rows: list[GridRow]
    month_totals: list[int]
    year_totals: list[int]
    total: int
    reconciliation: domain.Reconciliation
    motion_totals: dict[str, list[int]] = field(default_factory=dict)


def plan_grid(plan: PlanVersion) -> PlanGrid:
    """Buckets × months with fiscal-year subtotals and totals, from two queries."""
    months = month_range(plan.start_month, plan.horizon_months)
    index = {month: position for position, month in enumerate(months)}
    years = domain.fiscal_year_columns(months, company_get().fiscal_year_start_month)
    amounts: dict[int, list[int]] = defaultdict(lambda: [0] * len(months))
    for bucket_id, month, amount in PlanMonth.objects.filter(plan=plan).values_list("bucket_id", "month", "amount_minor"):
        if month in index:
            amounts[bucket_id][index[month]] = amount
    rows = []
    month_totals = [0] * len(months)
    motion_totals: dict[str, list[int]] = {}
    for bucket in plan_buckets(plan):
        values = amounts[bucket.pk]
        year_values = _year_sums(values, years, index)
        rows.append(GridRow(bucket=bucket, months=values, year_totals=year_values, total=sum(values)))
        month_totals = [a + b for a, b in zip(month_totals, values, strict=True)]
        key = bucket.motion or "unassigned"
        previous = motion_totals.get(key, [0] * len(months))
        motion_totals[key] = [a + b for a, b in zip(previous, values, strict=True)]
    buckets_total = sum(row.bucket.target_minor for row in rows)
    shares = [row.bucket.target_share_bp for row in rows]
    reconciliation = domain.Reconciliation(
        total_target_minor=plan.total_target_minor,
        buckets_minor=buckets_total,
        months_minor=sum(month_totals),
        share_total_bp=sum(s or 0 for s in shares) if rows and all(s is not None for s in shares) else None,
    )
    return PlanGrid(
        plan=plan,
        months=months,
        years=years,
        rows=rows,
        month_totals=month_totals,
        year_totals=_year_sums(month_totals, years, index),
        total=sum(month_totals),
        reconciliation=reconciliation,
        motion_totals=motion_totals,
    )


def _year_sums(values: list[int], years: list[tuple[str, list[date]]], index: dict[date, int]) -> list[int]:
    return [sum(values[index[month]] for month in year_months) for _, year_months in years]


@dataclass
class GapRow:
    label: str
    top_down: int
    bottom_up: int

    @property
    def gap(self) -> int:
        """Bottom-up minus top-down: negative when sales commits less than the ask."""
        return self.bottom_up - self.top_down


def plan_gap_by_bucket(top_down: PlanVersion, bottom_up: PlanVersion) -> list[GapRow]:
    """Horizon totals per bucket (matched by dimensions) for two versions, buckets of either included."""
    top = {b.key: b for b in plan_buckets(top_down)}
    bottom = {b.key: b for b in plan_buckets(bottom_up)}
    rows = []
    for key in list(top) + [k for k in bottom if k not in top]:
        bucket = top.get(key) or bottom[key]
        rows.append(
            GapRow(
                label=bucket.label,
                top_down=top[key].target_minor if key in top else 0,
                bottom_up=bottom[key].target_minor if key in bottom else 0,
            )
        )
    return rows


def plan_gap_by_month(top_down: PlanVersion, bottom_up: PlanVersion) -> list[tuple[date, GapRow]]:
    """Monthly totals of the two versions over the top-down horizon."""
    months = month_range(top_down.start_month, top_down.horizon_months)
    totals: dict[tuple[int, date], int] = defaultdict(int)
    for plan_id, month, amount in PlanMonth.objects.filter(plan__in=[top_down, bottom_up]).values_list("plan_id", "month", "amount_minor"):
        totals[(plan_id, month)] += amount
    return [
        (month, GapRow(label=f"{month:%b %Y}", top_down=totals[(top_down.pk, month)], bottom_up=totals[(bottom_up.pk, month)]))
        for month in months
    ]


def plan_motion_totals(plan: PlanVersion) -> dict[str, list[int]]:
    """Monthly plan per motion, for the chart."""
    return plan_grid(plan).motion_totals


MOTION_LABELS = {**dict(Motion.choices), "unassigned": "All motions"}

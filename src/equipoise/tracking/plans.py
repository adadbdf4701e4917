"""Plan amounts for a tracking table, as :class:`~equipoise.tracking.domain.PlanFact` values.

The company's plan is the approved top-down plan's months; a team's or seller's is their quota
(a manager's quota is their team's). Each amount carries its bucket's dimensions, so that
:func:`~equipoise.tracking.domain.split_plan` can split it to rows where the bucket grain allows.
One query each, bounded by the buckets × months (× people) shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from equipoise.core.periods import month_start
from equipoise.planning.models import PlanMonth, PlanVersion
from equipoise.quotas.models import Quota, QuotaAllocation
from equipoise.tracking.domain import PlanFact

_BUCKET_FIELDS = (
    "bucket__region_id",
    "bucket__product_line_id",
    "bucket__product_application_id",
    "bucket__product_application__product_line_id",
    "bucket__customer_id",
    "bucket__motion",
)


def _fact(month: date, amount: int, dimensions: Sequence[Any], region_top: Mapping[int, int], person: int | None = None) -> PlanFact:
    region, product_line, application, application_line, customer, motion = dimensions
    return PlanFact(
        month=month,
        amount_minor=amount,
        region=region_top.get(region, region) if region is not None else None,
        product_line=product_line if product_line is not None else application_line,
        product_application=application,
        customer=customer,
        motion=motion or None,
        person=person,
    )


def company_plan_facts(plan: PlanVersion, *, start: date, end: date, region_top: Mapping[int, int]) -> list[PlanFact]:
    rows = PlanMonth.objects.filter(plan=plan, month__gte=month_start(start), month__lte=month_start(end)).values_list(
        "month", "amount_minor", *_BUCKET_FIELDS
    )
    return [_fact(month, amount, dimensions, region_top) for month, amount, *dimensions in rows]


def quota_facts(
    allocation: QuotaAllocation, *, person_ids: Sequence[int], start: date, end: date, region_top: Mapping[int, int]
) -> list[PlanFact]:
    if not person_ids:
        return []
    rows = Quota.objects.filter(
        allocation=allocation, person_id__in=list(person_ids), month__gte=month_start(start), month__lte=month_start(end)
    ).values_list("person_id", "month", "amount_minor", *_BUCKET_FIELDS)
    return [_fact(month, amount, dimensions, region_top, person) for person, month, amount, *dimensions in rows]

"""Past revenue, the input that seasonality and allocation learn from.

This is the one interface to history: today it reads :class:`RevenueHistory` rows (loaded by the
demo or an admin); the results app will serve the same figures from result lines.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Q, Sum

from equipoise.planning.models import PlanBucket, RevenueHistory


def bucket_filter(bucket: PlanBucket) -> Q:
    """The history rows that fall in a bucket; a country or region matches itself and its countries."""
    condition = Q()
    if bucket.region_id is not None:
        condition &= Q(region_id=bucket.region_id) | Q(region__parent_id=bucket.region_id)
    if bucket.product_application_id is not None:
        condition &= Q(product_application_id=bucket.product_application_id)
    elif bucket.product_line_id is not None:
        condition &= Q(product_line_id=bucket.product_line_id)
    if bucket.customer_id is not None:
        condition &= Q(customer_id=bucket.customer_id)
    if bucket.motion:
        condition &= Q(motion=bucket.motion)
    return condition


def monthly_totals(*, start: date | None = None, end: date | None = None, condition: Q | None = None) -> dict[date, int]:
    """Company revenue per month (minor units), optionally within a bucket's condition."""
    rows = RevenueHistory.objects.filter(condition or Q())
    if start is not None:
        rows = rows.filter(month__gte=start)
    if end is not None:
        rows = rows.filter(month__lte=end)
    return {row["month"]: row["total"] for row in rows.values("month").annotate(total=Sum("amount_minor")).order_by("month")}


def seller_monthly_averages(*, condition: Q) -> dict[int, tuple[int, int]]:
    """Per seller id within a condition: (average revenue per month with revenue, number of such months)."""
    per_month = (
        RevenueHistory.objects.filter(condition)
        .values("seller_id", "month")
        .annotate(total=Sum("amount_minor"))
        .values_list("seller_id", "total")
    )
    sums: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    for seller_id, total in per_month:
        if total and total > 0:
            sums[seller_id] += total
            counts[seller_id] += 1
    return {seller: (sums[seller] // counts[seller], counts[seller]) for seller in sums}

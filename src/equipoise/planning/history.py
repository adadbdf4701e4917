"""Past results, the input that seasonality and allocation learn from.

This is the one interface to history for planning and quotas. History is what was *booked*:
the result lines of measure ``booked`` (bookings and renewals; invoices, credit notes and churn
describe the same revenue another way and are left out), in the month of their ``occurred_on``,
credited to each seller by their share (a line split 60/40 counts 60% for one seller, 40% for
the other). Amounts are minor units, summed over currencies as they stand (the company reports
in one).

Where the figures come from, so that each query costs O(months) or one grouped scan:

- :func:`monthly_totals` for the whole company reads the company's monthly rollups (node 0,
  grain month, measure booked), kept exact on ingest;
- within a bucket's condition, and per seller, the result lines themselves, grouped by month
  (and seller) in SQL: one scan of the lines, returning a row per seller and month.

With no result lines there is no history, and allocation by history weighs sellers equally, as
it does any seller without history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db import connection
from django.db.models import BigIntegerField, CharField, DateField, ExpressionWrapper, F, Func, Q, QuerySet, Sum, Value
from django.db.models.functions import Substr, TruncMonth

from equipoise.core.periods import add_months, month_start
from equipoise.org.models import Region
from equipoise.planning.models import PlanBucket
from equipoise.results.models import COMPANY_NODE, Grain, Measure, ResultLine, Rollup

BOOKED = str(Measure.BOOKED.value)


def bucket_filter(bucket: PlanBucket) -> Q:
    """The result lines that fall in a bucket; a region matches itself and its countries."""
    condition = Q()
    if bucket.region_id is not None:
        # An id list, not a join: the line table is the large one.
        condition &= Q(region_id__in=Region.objects.filter(Q(pk=bucket.region_id) | Q(parent_id=bucket.region_id)).values("pk"))
    if bucket.product_application_id is not None:
        condition &= Q(product_application_id=bucket.product_application_id)
    elif bucket.product_line_id is not None:
        condition &= Q(product_line_id=bucket.product_line_id)
    if bucket.customer_id is not None:
        condition &= Q(customer_id=bucket.customer_id)
    if bucket.motion:
        condition &= Q(motion=bucket.motion)
    return condition


def _booked_lines(condition: Q, *, start: date | None, end: date | None) -> QuerySet[ResultLine]:
    """Booked lines within ``condition`` from month ``start`` to month ``end`` (both whole, inclusive)."""
    lines = ResultLine.objects.filter(measure=BOOKED).filter(condition)
    if start is not None:
        lines = lines.filter(occurred_on__gte=month_start(start))
    if end is not None:
        lines = lines.filter(occurred_on__lt=add_months(month_start(end), 1))
    return lines


def monthly_totals(*, start: date | None = None, end: date | None = None, condition: Q | None = None) -> dict[date, int]:
    """Company bookings per month (minor units), from month ``start`` to month ``end`` inclusive,
    optionally within a bucket's condition (see :func:`bucket_filter`)."""
    rows: Iterable[tuple[date, int]]
    if condition is None:
        rollups = Rollup.objects.filter(node_id=COMPANY_NODE, grain=Grain.MONTH, measure=BOOKED)
        if start is not None:
            rollups = rollups.filter(period__gte=month_start(start))
        if end is not None:
            rollups = rollups.filter(period__lte=month_start(end))
        rows = rollups.values("period").annotate(total=Sum("amount_minor")).order_by("period").values_list("period", "total")
    else:
        months = _booked_lines(condition, start=start, end=end).annotate(month=_month()).values("month").annotate(total=Sum("amount_minor"))
        rows = sorted((_as_month(month), total) for month, total in months.order_by().values_list("month", "total"))
    return {month: total for month, total in rows if total}


def seller_monthly_averages(*, condition: Q, start: date | None = None, end: date | None = None) -> dict[int, tuple[int, int]]:
    """Per seller id within a condition: (average bookings per month with bookings, number of such months).

    A month counts when the seller's credited bookings in it sum to more than zero. ``start`` and
    ``end`` (months, inclusive) bound the history; by default all of it.
    """
    # The seller id is grouped as an expression, not the bare column: SQLite would otherwise walk
    # the (seller, occurred_on) index to get the groups in order and fetch every line by id,
    # several times slower than one scan of the table; PostgreSQL plans the same either way.
    credited_seller = ExpressionWrapper(F("seller_id") + Value(0), output_field=BigIntegerField())
    per_month = (
        _booked_lines(condition, start=start, end=end)
        .annotate(credited_seller=credited_seller, month=_month())
        .values("credited_seller", "month")
        .annotate(total=Sum("amount_minor"))
        .order_by()
        .values_list("credited_seller", "total")
    )
    sums: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    for seller_id, total in per_month:
        if total > 0:
            sums[seller_id] += total
            counts[seller_id] += 1
    return {seller: (sums[seller] // counts[seller], counts[seller]) for seller in sums}


def _month() -> Func:
    """The month of ``occurred_on``, computed by the database itself. Django truncates dates on
    SQLite in a Python function called for every row; SQLite stores a date as ``YYYY-MM-DD``
    text, so its first seven characters are the month, with no call out of SQL."""
    if connection.vendor == "sqlite":
        return Substr("occurred_on", 1, 7, output_field=CharField())
    return TruncMonth("occurred_on", output_field=DateField())


def _as_month(value: date | str) -> date:
    if isinstance(value, str):
        return date(int(value[:4]), int(value[5:7]), 1)
    return month_start(value)

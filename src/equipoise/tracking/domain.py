"""Pure tracking calculations: periods at every grain, the plan spread to weeks and days, attainment,
pace and projection, and the plan split to rows by bucket dimensions. (What a table shows and where
a drill goes next: :mod:`equipoise.tracking.dissection`.)

Amounts are integer minor units of one currency; ratios are :class:`~decimal.Decimal` (1 = 100%).
Dates are business dates, ranges are inclusive at both ends. No ORM, no I/O.

Invariants (property-tested):

- a month's plan spread to its days sums exactly to the month, weekend days get nothing, each
  business day is within one minor unit of every other (largest remainder at the minor unit),
  and any run of business days is within one unit of its exact share;
- the plan of any range is the sum of its days' plans, so the plans of consecutive ranges (weeks
  of a month, days of a week, months of a quarter) sum exactly to the plan of their union, and a
  week that spans two months takes its share of each;
- each plan part (bucket or quota month) is spread on its own, so rows made of parts (regions,
  motions) sum exactly to the total of the same parts on every day. Quotas of a team and of its
  sellers are different parts: by week or day they agree within a unit per part (exactly by month).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from equipoise.core.errors import ApplicationError
from equipoise.core.money import Money
from equipoise.core.periods import (
    add_months,
    business_days,
    fiscal_year_of,
    iso_week_start,
    month_end,
    month_start,
    months_between,
)

ONE_DAY = timedelta(days=1)
# A table wider than this is unreadable and a sign the grain is too fine for the range.
MAX_PERIODS = 120


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    HORIZON = "horizon"

    @property
    def label(self) -> str:
        return GRAIN_LABELS[self]


GRAIN_LABELS = {
    Grain.DAY: "Day",
    Grain.WEEK: "ISO week",
    Grain.MONTH: "Month",
    Grain.QUARTER: "Fiscal quarter",
    Grain.YEAR: "Fiscal year",
    Grain.HORIZON: "Whole range",
}
# One level finer: what a period drills into.
FINER_GRAIN = {
    Grain.HORIZON: Grain.YEAR,
    Grain.YEAR: Grain.QUARTER,
    Grain.QUARTER: Grain.MONTH,
    Grain.MONTH: Grain.WEEK,
    Grain.WEEK: Grain.DAY,
}
# Grains whose periods are whole months: their ranges are widened to whole months.
MONTHLY_GRAINS = frozenset({Grain.MONTH, Grain.QUARTER, Grain.YEAR, Grain.HORIZON})


def parse_grain(text: str) -> Grain:
    try:
        return Grain(text)
    except ValueError as error:
        choices = ", ".join(grain.value for grain in Grain)
        raise ApplicationError(f"{text!r} is not a grain: use one of {choices}.", field="grain") from error


# --- periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """One column of a table: ``start`` to ``end`` inclusive, clipped to the range shown."""

    start: date
    end: date
    grain: Grain
    label: str
    partial: bool = False

    @property
    def key(self) -> str:
        return self.start.isoformat()

    @property
    def title(self) -> str:
        """The exact dates, for captions and screen readers."""
        if self.start == self.end:
            return f"{self.start:%a} {self.start.day} {self.start:%b %Y}"
        return f"{self.start.day} {self.start:%b %Y} – {self.end.day} {self.end:%b %Y}"


def align_range(grain: Grain, start: date, end: date) -> tuple[date, date]:
    """Monthly grains show whole months (widened at both ends); days and weeks show the exact range."""
    if grain in MONTHLY_GRAINS:
        return month_start(start), month_end(end)
    return start, end


def quarter_of(day: date, fiscal_year_start_month: int) -> tuple[date, date, int, str]:
    """The fiscal quarter containing ``day``: first day, last day, number (1–4) and fiscal-year label."""
    fiscal_year = fiscal_year_of(month_start(day), fiscal_year_start_month)
    number = months_between(fiscal_year.start, month_start(day)) // 3
    first = add_months(fiscal_year.start, number * 3)
    return first, month_end(add_months(first, 2)), number + 1, fiscal_year.label


def period_bounds(grain: Grain, day: date, fiscal_year_start_month: int) -> tuple[date, date]:
    """The whole period of ``grain`` containing ``day`` (horizon: not defined here, see :func:`periods`)."""
    if grain == Grain.DAY:
        return day, day
    if grain == Grain.WEEK:
        first = iso_week_start(day)
        return first, first + 6 * ONE_DAY
    if grain == Grain.MONTH:
        return month_start(day), month_end(day)
    if grain == Grain.QUARTER:
        first, last, _, _ = quarter_of(day, fiscal_year_start_month)
        return first, last
    if grain == Grain.YEAR:
        fiscal_year = fiscal_year_of(month_start(day), fiscal_year_start_month)
        return fiscal_year.start, month_end(fiscal_year.end)
    raise ValueError(f"{grain} has no fixed bounds")


def period_label(grain: Grain, first: date, last: date, fiscal_year_start_month: int) -> str:
    """The short name of the whole period ``first``–``last`` of ``grain`` ("W05 2027", "Q1 FY2027")."""
    if grain == Grain.DAY:
        return f"{first:%a} {first.day} {first:%b}"
    if grain == Grain.WEEK:
        iso_year, iso_week, _ = first.isocalendar()
        return f"W{iso_week:02d} {iso_year}"
    if grain == Grain.MONTH:
        return f"{first:%b %Y}"
    if grain == Grain.QUARTER:
        _, _, number, fiscal_label = quarter_of(first, fiscal_year_start_month)
        return f"Q{number} {fiscal_label}"
    if grain == Grain.YEAR:
        return fiscal_year_of(month_start(first), fiscal_year_start_month).label
    return range_label(first, last)


def day_label(day: date) -> str:
    """2027-01-05 → "5 Jan 2027", as dates read everywhere on the page."""
    return f"{day.day} {day:%b %Y}"


def range_label(start: date, end: date) -> str:
    if start == month_start(start) and end == month_end(end):
        if month_start(start) == month_start(end):
            return f"{start:%b %Y}"
        return f"{start:%b %Y} – {end:%b %Y}"
    return f"{day_label(start)} – {day_label(end)}"


def count_periods(grain: Grain, start: date, end: date, fiscal_year_start_month: int) -> int:
    if end < start:
        return 0
    if grain == Grain.HORIZON:
        return 1
    if grain == Grain.DAY:
        return (end - start).days + 1
    if grain == Grain.WEEK:
        return (iso_week_start(end) - iso_week_start(start)).days // 7 + 1
    if grain == Grain.MONTH:
        return months_between(start, end) + 1
    first, _ = period_bounds(grain, start, fiscal_year_start_month)
    last, _ = period_bounds(grain, end, fiscal_year_start_month)
    step = 3 if grain == Grain.QUARTER else 12
    return months_between(first, last) // step + 1


class RangeTooLong(ApplicationError):
    """More columns than fit a table; ``start`` and ``end`` are the range that was counted (the
    defaults' where the user gave no dates), for the form to show."""

    def __init__(self, message: str, *, start: date, end: date) -> None:
        super().__init__(message, field="grain")
        self.start = start
        self.end = end


def validate_range(grain: Grain, start: date, end: date, fiscal_year_start_month: int) -> None:
    if end < start:
        raise ApplicationError(f"The range ends ({day_label(end)}) before it starts ({day_label(start)}): swap the dates.", field="to")
    count = count_periods(grain, start, end, fiscal_year_start_month)
    if count > MAX_PERIODS:
        raise RangeTooLong(
            f"{range_label(start, end)} is {count} {grain.label.lower()} columns; at most {MAX_PERIODS} fit a table. "
            "Choose a coarser grain or a shorter range.",
            start=start,
            end=end,
        )


def periods(grain: Grain, start: date, end: date, fiscal_year_start_month: int) -> list[Period]:
    """The periods of ``grain`` covering ``start``–``end``, clipped to it, in order.

    They partition the range: consecutive, without gaps or overlaps. The horizon grain is one
    period, the whole range.
    """
    validate_range(grain, start, end, fiscal_year_start_month)
    if grain == Grain.HORIZON:
        return [Period(start=start, end=end, grain=grain, label=range_label(start, end))]
    result = []
    cursor = start
    while cursor <= end:
        first, last = period_bounds(grain, cursor, fiscal_year_start_month)
        clipped_first, clipped_last = max(first, start), min(last, end)
        partial = (clipped_first, clipped_last) != (first, last)
        result.append(
            Period(
                start=clipped_first,
                end=clipped_last,
                grain=grain,
                label=period_label(grain, first, last, fiscal_year_start_month),
                partial=partial,
            )
        )
        cursor = clipped_last + ONE_DAY
    return result


def fiscal_year_to_date(as_of: date, fiscal_year_start_month: int) -> tuple[date, date]:
    return fiscal_year_of(month_start(as_of), fiscal_year_start_month).start, as_of


def horizon_range(plan_start: date, horizon_months: int) -> tuple[date, date]:
    first = month_start(plan_start)
    return first, month_end(add_months(first, horizon_months - 1))


def horizon_to_date(plan_start: date, horizon_months: int, as_of: date) -> tuple[date, date]:
    """From the plan's first day to ``as_of`` (or the horizon's end, if that is earlier)."""
    first, last = horizon_range(plan_start, horizon_months)
    return first, max(first, min(as_of, last))


def default_range(
    as_of: date, fiscal_year_start_month: int, plan_start: date | None = None, horizon_months: int | None = None
) -> tuple[date, date]:
    """The current plan year to date (the fiscal year containing ``as_of``, from no earlier than the
    plan's start); the plan's whole horizon when ``as_of`` falls outside it; the fiscal year to date
    when there is no plan."""
    if plan_start is None or horizon_months is None:
        return fiscal_year_to_date(as_of, fiscal_year_start_month)
    first, last = horizon_range(plan_start, horizon_months)
    if not first <= as_of <= last:
        return first, last
    year_start, _ = fiscal_year_to_date(as_of, fiscal_year_start_month)
    return max(year_start, first), as_of


# --- the plan spread to weeks and days -------------------------------------------------------------


@lru_cache(maxsize=4096)
def daily_plan(month: date, amount_minor: int) -> tuple[int, ...]:
    """A month's plan per calendar day (index 0 is the 1st), spread over its Monday-to-Friday days
    by the largest remainder at the minor unit; weekend days get 0. Sums exactly to ``amount_minor``.

    Every business day carries the same weight, so every remainder ties: each day gets the amount
    ÷ business days rounded down, and the units left over go one each to days spread evenly
    through the month (day k of n gets one when ⌊amount·k/n⌋ steps up by more than the share),
    not all to the first days. So any run of business days is within one unit of its exact share,
    and a week's plan is fair whichever week it is.
    """
    first = month_start(month)
    length = month_end(first).day
    business = [offset for offset in range(length) if (first + offset * ONE_DAY).weekday() < 5]
    count = len(business)
    magnitude = abs(amount_minor)
    sign = -1 if amount_minor < 0 else 1
    parts = [0] * length
    for position, offset in enumerate(business, start=1):
        parts[offset] = sign * (magnitude * position // count - magnitude * (position - 1) // count)
    return tuple(parts)


# A month's plan: one amount, or the parts it is made of (one per bucket or quota), each spread over
# the month's days on its own so that any grouping of parts sums exactly to the whole.
MonthPlan = int | Sequence[int]
MonthlyPlan = Mapping[date, MonthPlan]


def _parts(amount: MonthPlan) -> Sequence[int]:
    return (amount,) if isinstance(amount, int) else amount


def month_total(amount: MonthPlan) -> int:
    return sum(_parts(amount))


def plan_between(monthly_plan: MonthlyPlan, start: date, end: date) -> int:
    """The plan for ``start``–``end`` inclusive from monthly plans keyed by month (first day):
    whole months count whole, a partial month its days' share (see :func:`daily_plan`).

    Each part of a month is spread on its own, so the plan of parts grouped into rows sums
    exactly to the plan of all the parts together, at every grain."""
    total = 0
    for month, amount in monthly_plan.items():
        first, last = month, month_end(month)
        if last < start or first > end:
            continue
        if start <= first and last <= end:
            total += month_total(amount)
            continue
        low, high = max(start, first).day - 1, min(end, last).day
        for part in _parts(amount):
            if part:
                total += sum(daily_plan(first, part)[low:high])
    return total


def weekly_plan(monthly_plan: MonthlyPlan, week_start: date) -> int:
    """The plan of the ISO week starting ``week_start``: its share of each month it touches."""
    return plan_between(monthly_plan, week_start, week_start + 6 * ONE_DAY)


def spread_plan(monthly_plan: MonthlyPlan, columns: Sequence[Period]) -> list[int]:
    return [plan_between(monthly_plan, column.start, column.end) for column in columns]


# --- attainment, pace, projection ------------------------------------------------------------------


def attainment(actual_minor: int, plan_minor: int | None) -> Decimal | None:
    """Actual ÷ plan (1 = 100%); None when there is no plan or it is zero."""
    if not plan_minor:
        return None
    return Decimal(actual_minor) / Decimal(plan_minor)


def elapsed_share(start: date, end: date, as_of: date) -> Decimal:
    """How much of ``start``–``end`` has passed by the end of ``as_of``, by business days (0 to 1).

    A period of weekend days only is measured in calendar days instead.
    """
    if as_of < start:
        return Decimal(0)
    if as_of >= end:
        return Decimal(1)
    total = business_days(start, end)
    if total == 0:
        return Decimal((as_of - start).days + 1) / Decimal((end - start).days + 1)
    return Decimal(business_days(start, as_of)) / Decimal(total)


def pace(actual_minor: int, plan_minor: int | None, start: date, end: date, as_of: date) -> Decimal | None:
    """Attainment ÷ elapsed share: 1 means on track to finish the period at plan. None before the
    period starts or without a plan."""
    ratio = attainment(actual_minor, plan_minor)
    share = elapsed_share(start, end, as_of)
    if ratio is None or share == 0:
        return None
    return ratio / share


def projection(actual_minor: int, plan_minor: int | None, start: date, end: date, as_of: date, currency: str) -> int | None:
    """The period's expected end figure at the current run rate: actual ÷ elapsed share, rounded to
    the minor unit by the one rounding rule; the plan when nothing has elapsed yet."""
    share = elapsed_share(start, end, as_of)
    if share == 0:
        return plan_minor
    if share == 1:
        return actual_minor
    return Money(Money.from_minor(actual_minor, currency).amount / share, currency).minor


@dataclass(frozen=True, slots=True)
class Figures:
    """Plan against actual for one cell: the derived figures computed once, here."""

    plan_minor: int | None
    actual_minor: int
    variance_minor: int | None
    attainment: Decimal | None
    pace: Decimal | None
    projection_minor: int | None

    @classmethod
    def of(cls, *, plan_minor: int | None, actual_minor: int, start: date, end: date, as_of: date, currency: str) -> Figures:
        return cls(
            plan_minor=plan_minor,
            actual_minor=actual_minor,
            variance_minor=None if plan_minor is None else actual_minor - plan_minor,
            attainment=attainment(actual_minor, plan_minor),
            pace=pace(actual_minor, plan_minor, start, end, as_of),
            projection_minor=projection(actual_minor, plan_minor, start, end, as_of, currency),
        )


# --- plan facts split to rows ----------------------------------------------------------------------

PLAN_DIMENSIONS = ("region", "product_line", "product_application", "customer", "motion")


@dataclass(frozen=True, slots=True)
class PlanFact:
    """One monthly plan amount with its bucket's dimensions (None: the bucket does not fix it) and,
    for quotas, whose it is. ``region`` is the top-level region."""

    month: date
    amount_minor: int
    region: int | None = None
    product_line: int | None = None
    product_application: int | None = None
    customer: int | None = None
    motion: str | None = None
    person: int | None = None

    def value(self, dimension: str) -> int | str | None:
        value: int | str | None = getattr(self, dimension)
        return value


@dataclass
class PlanSplit:
    """The plan of a scope under filters, per month, and per row of one dimension.

    ``total`` is None when some plan amount may or may not fall under the filters (a bucket that
    does not fix a filtered dimension). A row's plan is unknown when the plan does not split by
    the row dimension (see :meth:`row`).
    """

    total: dict[date, list[int]] | None
    rows: dict[object, dict[date, list[int]]] = field(default_factory=dict)
    rows_unknown: bool = False
    # Buckets without a customer are "all other customers": they leave only unnamed customers unknown.
    unnamed_customers_unknown: bool = False
    named_customers: frozenset[int] = frozenset()

    def row(self, key: object, dimension: str) -> dict[date, list[int]] | None:
        if self.rows_unknown:
            return None
        if dimension == "customer" and self.unnamed_customers_unknown and key not in self.named_customers:
            return None
        return self.rows.get(key, {})


def _matches(fact: PlanFact, filters: Mapping[str, object], named_customers: frozenset[int]) -> bool | None:
    """True: the fact falls under the filters; False: it does not; None: it may or may not."""
    unknown = False
    for dimension, wanted in filters.items():
        value = fact.value(dimension)
        if value is None:
            if dimension == "customer" and wanted in named_customers:
                return False  # a named customer's plan is its own bucket, never "all other customers"
            unknown = True
        elif value != wanted:
            return False
    return None if unknown else True


def split_plan(
    facts: Iterable[PlanFact], *, filters: Mapping[str, object], rows: str | None, row_facts: Iterable[PlanFact] | None = None
) -> PlanSplit:
    """Split plan facts under ``filters`` into the scope total and rows of dimension ``rows``.

    ``row_facts`` are the facts rows come from when they differ from the total's (the org tree:
    each report's own quotas); by default the same facts. Rows of the org tree (``"org"``) group by
    ``fact.person``. Zero amounts never make anything unknown.
    """
    facts = [fact for fact in facts if fact.amount_minor]
    row_source = facts if row_facts is None else [fact for fact in row_facts if fact.amount_minor]
    named = frozenset(fact.customer for fact in (*facts, *row_source) if fact.customer is not None)
    total: dict[date, list[int]] | None = {}
    for fact in facts:
        match = _matches(fact, filters, named)
        if match is None:
            total = None
            break
        if match and total is not None:
            total.setdefault(fact.month, []).append(fact.amount_minor)
    split = PlanSplit(total=total, named_customers=named)
    if rows is None:
        return split
    attribute = "person" if rows == "org" else rows
    for fact in row_source:
        match = _matches(fact, filters, named)
        if match is None:
            split.rows_unknown = True
            continue
        if not match:
            continue
        key = fact.value(attribute)
        if key is None:
            if rows == "customer":
                split.unnamed_customers_unknown = True
            else:
                split.rows_unknown = True
            continue
        split.rows.setdefault(key, {}).setdefault(fact.month, []).append(fact.amount_minor)
    return split

"""Retention maths: recurring revenue, GRR, NRR and logo churn over plain data (no ORM, no I/O).

Definitions (the user guide, ``docs/retention.md``, says the same in prose):

- **Annual recurring revenue (ARR)** of a contract in force on a day is its amount × 12 when
  billed monthly, its amount when billed annually (integer minor units, exact). A customer's ARR
  on a day is the sum over their contracts in force that day (in the scope asked for).
- **Renewal linkage.** A contract that is renewed (another contract ``renews`` it) stays in force
  until the day before its renewal starts, whatever its own end date: a renewal that starts the
  day after, or later (a renewal signed late), continues the customer without a gap, so they did
  not churn; a renewal that starts before the predecessor ends replaces it from its start, so
  the same revenue is never counted twice.
- **Period.** A month, a fiscal quarter or a fiscal year (fiscal years start in the company's
  ``fiscal_year_start_month``). Its *baseline* is the day before it starts; its *end* is its last
  day, or today for the period in progress (figures "to date").
- **Starting cohort.** The customers active at the baseline: with contracts, ARR > 0 there.
- **GRR** (gross revenue retention) = Σ min(end, start) ÷ Σ start over the cohort: downgrades
  and churn lower it, expansion cannot raise it, so 0 ≤ GRR ≤ 1.
- **NRR** (net revenue retention) = Σ end ÷ Σ start over the cohort: expansion counts. GRR ≤ NRR.
- **Logo churn** = cohort customers no longer active at the end ÷ cohort size, in [0, 1].
- **The customers behind the figures.** Each cohort customer is *churned* (not active at the
  end), *contracted* (less revenue, still active), *expanded* (more) or *retained* (the same);
  customers active at the end but not at the baseline are *new* (outside every ratio).
- **Activity-based retention**, used when the company has no contracts at all: a customer is
  active on a day when they made a purchase (a booking, renewal or invoice line with a positive
  amount) in that day's month or the ``lapse_after_months`` − 1 months before it, up to that day;
  their revenue on a day is their trailing-12-month revenue in the company's measure (bookings
  and renewals, or invoices less credit notes), up to that day, never below zero. The cohort is
  the customers active at the baseline; a customer who lapsed counts as churned with revenue 0.
  The two bases are never mixed in one figure: ARR and trailing revenue are different amounts.

Ratios are kept as exact integer numerator and denominator (:class:`Ratio`); their ``Decimal``
value is for display, and checks against objectives in basis points compare integers
(:mod:`.retention_objectives`).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from equipoise.core.periods import add_months, fiscal_year_of, month_end, month_start, months_between

ONE_DAY = timedelta(days=1)
MONTHLY = "monthly"
ANNUAL = "annual"
TRAILING_REVENUE_MONTHS = 12
# Below this, a sum of as many 64-bit integers as there are terms, each at most the largest, is exact.
_INT64_SAFE = 2**62
BASIS_POINTS = 10_000


class Basis(StrEnum):
    CONTRACTS = "contracts"
    ACTIVITY = "activity"


class RetentionGrain(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def label(self) -> str:
        return {"month": "Month", "quarter": "Fiscal quarter", "year": "Fiscal year"}[self.value]


class Category(StrEnum):
    CHURNED = "churned"
    CONTRACTED = "contracted"
    EXPANDED = "expanded"
    RETAINED = "retained"
    NEW = "new"

    @property
    def label(self) -> str:
        return {
            "churned": "Churned",
            "contracted": "Contracted (downgraded)",
            "expanded": "Expanded",
            "retained": "Retained (unchanged)",
            "new": "New (not in the cohort)",
        }[self.value]


# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionPeriod:
    """A whole month, fiscal quarter or fiscal year: ``start`` and ``end`` are its first and last days."""

    grain: RetentionGrain
    start: date
    end: date
    label: str

    @property
    def baseline(self) -> date:
        """The day before the period: where the starting cohort is taken."""
        return self.start - ONE_DAY

    @property
    def key(self) -> str:
        """The period's first month as ``YYYY-MM``: what the API's ``period`` parameter takes."""
        return f"{self.start:%Y-%m}"

    def end_as_of(self, today: date) -> date:
        """The period's end, or ``today`` while the period is in progress."""
        return min(self.end, today)


def _fiscal_quarter(month: date, fiscal_year_start_month: int) -> tuple[date, int, str]:
    fiscal_year = fiscal_year_of(month, fiscal_year_start_month)
    number = months_between(fiscal_year.start, month) // 3
    return add_months(fiscal_year.start, number * 3), number + 1, fiscal_year.label


def period_containing(grain: RetentionGrain, day: date, fiscal_year_start_month: int) -> RetentionPeriod:
    """The month, fiscal quarter or fiscal year that contains ``day``."""
    month = month_start(day)
    if grain == RetentionGrain.MONTH:
        return RetentionPeriod(grain, month, month_end(month), f"{month:%b %Y}")
    if grain == RetentionGrain.QUARTER:
        first, number, fiscal_label = _fiscal_quarter(month, fiscal_year_start_month)
        return RetentionPeriod(grain, first, month_end(add_months(first, 2)), f"Q{number} {fiscal_label}")
    fiscal_year = fiscal_year_of(month, fiscal_year_start_month)
    return RetentionPeriod(grain, fiscal_year.start, month_end(fiscal_year.end), fiscal_year.label)


def periods_ending_with(period: RetentionPeriod, count: int, fiscal_year_start_month: int) -> list[RetentionPeriod]:
    """``count`` consecutive periods of the same grain, oldest first, the last being ``period``."""
    periods = [period]
    while len(periods) < count:
        periods.append(period_containing(period.grain, periods[-1].baseline, fiscal_year_start_month))
    return periods[::-1]


# --- ratios --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ratio:
    """An exact ratio of two non-negative integers (the denominator positive)."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.denominator <= 0 or self.numerator < 0:
            raise ValueError("A ratio needs a non-negative numerator and a positive denominator.")

    @property
    def value(self) -> Decimal:
        """The ratio as a Decimal (1 = 100%), to Decimal's default 28 significant digits."""
        return Decimal(self.numerator) / Decimal(self.denominator)

    def quantized(self, places: int = 6) -> Decimal:
        """The ratio rounded half-to-even to ``places`` decimals (for display and the API)."""
        return self.value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)

    def percent_text(self, places: int = 1) -> str:
        return f"{(self.value * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)}%"

    def at_least_bp(self, basis_points: int) -> bool:
        """Exactly: ratio ≥ basis_points / 10,000."""
        return self.numerator * BASIS_POINTS >= basis_points * self.denominator

    def at_most_bp(self, basis_points: int) -> bool:
        """Exactly: ratio ≤ basis_points / 10,000."""
        return self.numerator * BASIS_POINTS <= basis_points * self.denominator


def ratio_or_none(numerator: int, denominator: int) -> Ratio | None:
    return Ratio(numerator, denominator) if denominator > 0 else None


# --- contracts -----------------------------------------------------------------------------------


def annual_recurring_minor(amount_minor: int, billing_period: str) -> int:
    """ARR of a contract: the amount per billing period × 12 (monthly) or × 1 (annual)."""
    if amount_minor < 0:
        raise ValueError("A contract amount is never negative.")
    if billing_period == MONTHLY:
        return amount_minor * 12
    if billing_period == ANNUAL:
        return amount_minor
    raise ValueError(f"{billing_period!r} is not a billing period: monthly or annual.")


@dataclass(frozen=True, slots=True)
class ContractTerm:
    """A contract as retention sees it. ``renewal_starts_on`` is the start of the contract that
    renews this one, if any (see the renewal linkage in the module docstring)."""

    contract_id: int
    customer_id: int
    starts_on: date
    ends_on: date
    billing_period: str
    amount_minor: int
    renewal_starts_on: date | None = None
    seller_id: int | None = None

    @property
    def arr_minor(self) -> int:
        return annual_recurring_minor(self.amount_minor, self.billing_period)

    @property
    def in_force_until(self) -> date:
        """The last day this contract counts: the day before its renewal starts, or its own end."""
        if self.renewal_starts_on is not None:
            return self.renewal_starts_on - ONE_DAY
        return self.ends_on

    def in_force_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.in_force_until


# A *position* on a day: the customers active that day and their revenue (ARR, or trailing revenue),
# {customer id: amount ≥ 0}. Retention compares the position at the baseline with the one at the end.
Position = dict[int, int]


def customer_arr(contracts: Iterable[ContractTerm], day: date) -> Position:
    """Each customer's ARR on ``day`` (customers without a contract in force are left out)."""
    return customer_arr_on_days(contracts, [day])[day]


def customer_arr_on_days(contracts: Iterable[ContractTerm], days: Iterable[date]) -> dict[date, Position]:
    """Each customer's ARR on each of ``days``, in one pass over the contracts (a trend shares its days).

    With contracts, active means ARR > 0."""
    ordered = sorted(set(days))
    totals: list[dict[int, int]] = [defaultdict(int) for _ in ordered]
    for contract in contracts:
        first = bisect.bisect_left(ordered, contract.starts_on)
        last = bisect.bisect_right(ordered, contract.in_force_until)
        if first >= last:
            continue
        arr = contract.arr_minor
        for index in range(first, last):
            totals[index][contract.customer_id] += arr
    return {day: {customer: amount for customer, amount in total.items() if amount > 0} for day, total in zip(ordered, totals, strict=True)}


@dataclass(frozen=True, slots=True)
class MonthActivity:
    """One customer's results in one month: revenue in the company's measure (signed, minor units)
    and how many purchases (booking, renewal or invoice lines with a positive amount)."""

    customer_id: int
    month: date
    revenue_minor: int
    purchases: int


def activity_positions_on_days(activity: Iterable[MonthActivity], days: Iterable[date], *, lapse_after_months: int) -> dict[date, Position]:
    """The customers active on each day — a purchase in that day's month or the ``lapse_after_months`` − 1
    before — with their trailing-12-month revenue (that month and the 11 before), never below 0.

    ``activity`` is per month and holds nothing dated after the latest day; every other day is a
    month's last day (baselines and period ends are), so months are all the precision needed.

    Summed as arrays, once per (customer, month) and then once per day: a company with 200,000
    customers has about 700,000 months of activity over two years, and a report asks for a dozen days
    for every row of its breakdown. Sums are exact: 64-bit integers where they cannot overflow,
    Python integers otherwise."""
    if lapse_after_months < 1:
        raise ValueError("A customer lapses after at least one month.")
    wanted = sorted(set(days))
    items = activity if isinstance(activity, Sequence) else list(activity)
    if not items:
        return {day: {} for day in wanted}
    count = len(items)
    customer_ids = np.fromiter((item.customer_id for item in items), dtype=np.int64, count=count)
    months = np.fromiter((item.month.year * 12 + item.month.month - 1 for item in items), dtype=np.int64, count=count)
    revenues = [item.revenue_minor for item in items]
    exact: npt.NDArray[Any] = np.array(revenues, dtype=np.int64 if max(map(abs, revenues)) * count < _INT64_SAFE else object)
    purchases = np.fromiter((item.purchases for item in items), dtype=np.int64, count=count)
    # One entry per (customer, month), as the activity would be if each were given once.
    customers, customer_codes = np.unique(customer_ids, return_inverse=True)
    first_month = int(months.min())
    span = int(months.max()) - first_month + 1
    pairs, pair_codes = np.unique(customer_codes * span + (months - first_month), return_inverse=True)
    pair_customer, pair_month = pairs // span, pairs % span + first_month
    pair_revenue = np.zeros(len(pairs), dtype=exact.dtype)
    np.add.at(pair_revenue, pair_codes, exact)
    pair_bought = np.zeros(len(pairs), dtype=np.int64)
    np.add.at(pair_bought, pair_codes, purchases)

    positions: dict[date, Position] = {}
    for day in wanted:
        last = day.year * 12 + day.month - 1
        bought = (pair_bought > 0) & (pair_month <= last) & (pair_month > last - lapse_after_months)
        active = np.unique(pair_customer[bought])
        counted = (pair_month <= last) & (pair_month > last - TRAILING_REVENUE_MONTHS)
        revenue = np.zeros(len(customers), dtype=exact.dtype)
        np.add.at(revenue, pair_customer[counted], pair_revenue[counted])
        positions[day] = {
            customer: max(amount, 0) for customer, amount in zip(customers[active].tolist(), revenue[active].tolist(), strict=True)
        }
    return positions


# --- balances ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerBalance:
    """One customer's revenue at the baseline and at the end, and whether they were active then.

    Invariants: amounts are ≥ 0; a customer not active at the end has ``end_minor`` 0.
    """

    customer_id: int
    start_minor: int
    end_minor: int
    active_at_start: bool
    active_at_end: bool

    @property
    def in_cohort(self) -> bool:
        return self.active_at_start

    @property
    def change_minor(self) -> int:
        return self.end_minor - self.start_minor

    @property
    def category(self) -> Category | None:
        if not self.active_at_start:
            return Category.NEW if self.active_at_end else None
        if not self.active_at_end:
            return Category.CHURNED
        if self.end_minor < self.start_minor:
            return Category.CONTRACTED
        if self.end_minor > self.start_minor:
            return Category.EXPANDED
        return Category.RETAINED


def balances_between(start: Position, end: Position) -> list[CustomerBalance]:
    """Each customer active at the baseline or the end, sorted by customer id."""
    return [
        CustomerBalance(customer, start.get(customer, 0), end.get(customer, 0), customer in start, customer in end)
        for customer in sorted(start.keys() | end.keys())
    ]


def contract_balances(contracts: Iterable[ContractTerm], baseline: date, end: date) -> list[CustomerBalance]:
    """Each customer's ARR at ``baseline`` and at ``end``, sorted by customer id; active means ARR > 0."""
    arr = customer_arr_on_days(contracts, [baseline, end])
    return balances_between(arr[baseline], arr[end])


def activity_balances(activity: Iterable[MonthActivity], baseline: date, end: date, *, lapse_after_months: int) -> list[CustomerBalance]:
    """Activity-based balances (see :func:`activity_positions_on_days`); a lapsed customer ends with 0."""
    positions = activity_positions_on_days(activity, [baseline, end], lapse_after_months=lapse_after_months)
    return balances_between(positions[baseline], positions[end])


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetentionFigures:
    """GRR, NRR and logo churn of a set of balances, with the counts and amounts behind them."""

    cohort_count: int
    churned_count: int
    contracted_count: int
    expanded_count: int
    retained_count: int
    new_count: int
    start_minor: int  # Σ start over the cohort: the denominator of GRR and NRR
    end_minor: int  # Σ end over the cohort: NRR's numerator
    kept_minor: int  # Σ min(end, start) over the cohort: GRR's numerator
    new_minor: int  # Σ end of new customers (outside the ratios)
    grr: Ratio | None
    nrr: Ratio | None
    logo_churn: Ratio | None

    @property
    def churned_minor(self) -> int:
        """Revenue lost with churned customers is part of ``start_minor − kept_minor``; this is all of it."""
        return self.start_minor - self.kept_minor

    @property
    def expansion_minor(self) -> int:
        return self.end_minor - self.kept_minor


def retention_figures(balances: Iterable[CustomerBalance]) -> RetentionFigures:
    """GRR = Σ min(end, start) ÷ Σ start, NRR = Σ end ÷ Σ start, logo churn = churned ÷ cohort.

    Invariants (tested as properties): 0 ≤ GRR ≤ 1; GRR ≤ NRR; 0 ≤ logo churn ≤ 1; the cohort is
    exactly the customers active at the baseline, and churned + contracted + expanded + retained
    = cohort. A ratio is None when its denominator is zero (no cohort, or a cohort without revenue).
    """
    counts = dict.fromkeys(Category, 0)
    start_minor = end_minor = kept_minor = new_minor = 0
    for balance in balances:
        if balance.start_minor < 0 or balance.end_minor < 0:
            raise ValueError("Retention amounts are never negative.")
        category = balance.category
        if category is None:
            continue
        counts[category] += 1
        if category == Category.NEW:
            new_minor += balance.end_minor
            continue
        end = balance.end_minor if balance.active_at_end else 0
        start_minor += balance.start_minor
        end_minor += end
        kept_minor += min(end, balance.start_minor)
    cohort = sum(count for category, count in counts.items() if category != Category.NEW)
    return RetentionFigures(
        cohort_count=cohort,
        churned_count=counts[Category.CHURNED],
        contracted_count=counts[Category.CONTRACTED],
        expanded_count=counts[Category.EXPANDED],
        retained_count=counts[Category.RETAINED],
        new_count=counts[Category.NEW],
        start_minor=start_minor,
        end_minor=end_minor,
        kept_minor=kept_minor,
        new_minor=new_minor,
        grr=ratio_or_none(kept_minor, start_minor),
        nrr=ratio_or_none(end_minor, start_minor),
        logo_churn=ratio_or_none(counts[Category.CHURNED], cohort),
    )


def figures_between(start: Position, end: Position) -> RetentionFigures:
    """The same figures as :func:`retention_figures` over :func:`balances_between`, without building the
    balances: a trend computes one per period for every customer."""
    churned = contracted = expanded = retained = 0
    start_minor = end_minor = kept_minor = 0
    for customer, start_amount in start.items():
        start_minor += start_amount
        end_amount = end.get(customer)
        if end_amount is None:
            churned += 1
            continue
        end_minor += end_amount
        kept_minor += min(start_amount, end_amount)
        if end_amount < start_amount:
            contracted += 1
        elif end_amount > start_amount:
            expanded += 1
        else:
            retained += 1
    new = [amount for customer, amount in end.items() if customer not in start]
    cohort = len(start)
    return RetentionFigures(
        cohort_count=cohort,
        churned_count=churned,
        contracted_count=contracted,
        expanded_count=expanded,
        retained_count=retained,
        new_count=len(new),
        start_minor=start_minor,
        end_minor=end_minor,
        kept_minor=kept_minor,
        new_minor=sum(new),
        grr=ratio_or_none(kept_minor, start_minor),
        nrr=ratio_or_none(end_minor, start_minor),
        logo_churn=ratio_or_none(churned, cohort),
    )


def sorted_for_review(balances: Sequence[CustomerBalance]) -> list[CustomerBalance]:
    """Largest movement (loss or gain) first, then largest starting revenue, then customer id."""
    return sorted(balances, key=lambda balance: (-abs(balance.change_minor), -balance.start_minor, balance.customer_id))

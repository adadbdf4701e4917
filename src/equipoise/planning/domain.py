"""Pure planning calculations: seasonality, phasing, share resolution, annual totals, gaps.

Amounts are integer minor units of one currency; weights are Decimals. No ORM, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from equipoise.core.errors import ApplicationError
from equipoise.core.money import Money, allocate_minor
from equipoise.core.periods import fiscal_year_of, month_range

MIN_HORIZON_MONTHS = 12
MAX_HORIZON_MONTHS = 36
FULL_SHARE_BP = 10_000
# The largest amount anyone may type, in minor units (a hundred trillion in a two-decimal currency).
# Far above any real plan, yet low enough that sums of thousands of such amounts stay within the
# 64-bit integers the database stores and adds: a typo with extra zeros is refused, not a crash.
MAX_AMOUNT_MINOR = 10**16
_WEIGHT_PLACES = Decimal("0.000001")


def flat_weights() -> list[Decimal]:
    return [Decimal(1)] * 12


def validate_horizon(horizon_months: int) -> int:
    if not MIN_HORIZON_MONTHS <= horizon_months <= MAX_HORIZON_MONTHS:
        raise ApplicationError(
            f"The horizon is {horizon_months} months; it must be from {MIN_HORIZON_MONTHS} to {MAX_HORIZON_MONTHS} months.",
            field="horizon_months",
        )
    return horizon_months


def validate_amount(amount_minor: int, *, currency: str, field: str, what: str) -> int:
    """Refuse a negative amount or one above :data:`MAX_AMOUNT_MINOR`, naming ``what`` it is.

    ``amount_minor`` is in minor units of ``currency``; the message shows the limit in major units.
    """
    if amount_minor < 0:
        raise ApplicationError(f"{what} cannot be negative.", field=field)
    if amount_minor > MAX_AMOUNT_MINOR:
        limit = Money.from_minor(MAX_AMOUNT_MINOR, currency).amount
        raise ApplicationError(f"{what} is too large: amounts go up to {currency} {limit:,}. Check for extra zeros.", field=field)
    return amount_minor


def validate_weights(raw_weights: Sequence[object]) -> list[Decimal]:
    """Twelve non-negative weights, not all zero, normalised to average 1 (4 decimals)."""
    if len(raw_weights) != 12:
        raise ApplicationError(
            f"A seasonality profile needs 12 monthly weights, January to December; got {len(raw_weights)}.", field="weights"
        )
    weights = []
    for index, raw in enumerate(raw_weights, start=1):
        try:
            weight = Decimal(str(raw).strip())
        except ArithmeticError as error:
            raise ApplicationError(f"Weight for month {index} ({raw!r}) is not a number.", field="weights") from error
        if not weight.is_finite() or weight < 0:
            raise ApplicationError(f"Weight for month {index} ({raw}) must be zero or more.", field="weights")
        weights.append(weight)
    total = sum(weights, Decimal(0))
    if total == 0:
        raise ApplicationError("At least one monthly weight must be above zero.", field="weights")
    return [(weight * 12 / total).quantize(Decimal("0.0001")) for weight in weights]


def learn_seasonality(monthly_amounts: Mapping[date, int]) -> list[Decimal]:
    """Weights per calendar month from a history of monthly amounts (at least 12 months).

    Each calendar month's weight is its average amount over the history divided by the average
    over all months, so a flat history gives all ones.
    """
    if len(monthly_amounts) < 12:
        raise ApplicationError(
            f"Learning seasonality needs at least 12 months of history; there are {len(monthly_amounts)}.", field="seasonality"
        )
    sums = [0] * 12
    counts = [0] * 12
    for month, amount in monthly_amounts.items():
        sums[month.month - 1] += amount
        counts[month.month - 1] += 1
    if 0 in counts:
        raise ApplicationError("The history must cover every calendar month at least once.", field="seasonality")
    averages = [Decimal(sums[index]) / counts[index] for index in range(12)]
    if sum(averages) <= 0:
        raise ApplicationError("The history has no revenue to learn seasonality from.", field="seasonality")
    return validate_weights([max(average, Decimal(0)) for average in averages])


def phase(
    *, total_minor: int, start_month: date, horizon_months: int, weights: Sequence[Decimal], growth_bp_per_month: int = 0
) -> list[int]:
    """Spread ``total_minor`` over ``horizon_months`` months from ``start_month``.

    Month i gets a share proportional to ``weights[calendar month] * (1 + growth)^i``. The parts
    are whole minor units that sum exactly to the total (largest remainder).
    """
    validate_horizon(horizon_months)
    if total_minor < 0:
        raise ApplicationError("A target cannot be negative.", field="target")
    if len(weights) != 12:
        raise ApplicationError("Phasing needs 12 monthly weights.", field="weights")
    if growth_bp_per_month <= -FULL_SHARE_BP:
        raise ApplicationError("The monthly growth trend must be above -100%.", field="growth_bp_per_month")
    growth = Decimal(FULL_SHARE_BP + growth_bp_per_month) / FULL_SHARE_BP
    factors = []
    for offset, month in enumerate(month_range(start_month, horizon_months)):
        factors.append((weights[month.month - 1] * growth**offset).quantize(_WEIGHT_PLACES))
    return allocate_minor(total_minor, factors)


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """A bucket's target as entered: an amount, or a share of the plan total in basis points."""

    amount_minor: int | None = None
    share_bp: int | None = None


def resolve_targets(total_minor: int, specs: Sequence[TargetSpec]) -> list[int]:
    """Each bucket's target in minor units. Shares of the total are split by largest remainder.

    The share buckets together get ``total × Σshares`` rounded by the one rule, then divided in
    proportion to their shares, so share buckets covering 100% reconcile exactly to the total.
    """
    share_total_bp = sum(spec.share_bp or 0 for spec in specs if spec.share_bp is not None)
    if share_total_bp > FULL_SHARE_BP:
        raise ApplicationError(f"Bucket shares add up to {share_total_bp / 100:.2f}%, more than 100%.", field="target_share")
    share_pool = allocate_minor(total_minor, [share_total_bp, FULL_SHARE_BP - share_total_bp])[0] if share_total_bp else 0
    share_indexes = [index for index, spec in enumerate(specs) if spec.share_bp is not None]
    share_parts = allocate_minor(share_pool, [specs[index].share_bp or 0 for index in share_indexes]) if share_indexes else []
    resolved = []
    parts_iter = iter(share_parts)
    for spec in specs:
        if spec.share_bp is not None:
            resolved.append(next(parts_iter))
        else:
            if spec.amount_minor is None or spec.amount_minor < 0:
                raise ApplicationError("A bucket target must be zero or more.", field="target")
            resolved.append(spec.amount_minor)
    return resolved


@dataclass(frozen=True, slots=True)
class Reconciliation:
    total_target_minor: int
    buckets_minor: int
    months_minor: int
    share_total_bp: int | None  # set when every bucket is a share

    @property
    def unassigned_minor(self) -> int:
        return self.total_target_minor - self.months_minor

    @property
    def is_reconciled(self) -> bool:
        shares_ok = self.share_total_bp is None or self.share_total_bp == FULL_SHARE_BP
        return shares_ok and self.buckets_minor == self.months_minor == self.total_target_minor


def annual_totals(month_amounts: Mapping[date, int], fiscal_year_start_month: int) -> dict[str, int]:
    """Sum monthly amounts per fiscal year label, in month order."""
    totals: dict[str, int] = {}
    for month in sorted(month_amounts):
        label = fiscal_year_of(month, fiscal_year_start_month).label
        totals[label] = totals.get(label, 0) + month_amounts[month]
    return totals


def fiscal_year_columns(months: Sequence[date], fiscal_year_start_month: int) -> list[tuple[str, list[date]]]:
    """Group consecutive plan months into fiscal years: [(label, [months…]), …]."""
    groups: list[tuple[str, list[date]]] = []
    for month in months:
        label = fiscal_year_of(month, fiscal_year_start_month).label
        if groups and groups[-1][0] == label:
            groups[-1][1].append(month)
        else:
            groups.append((label, [month]))
    return groups

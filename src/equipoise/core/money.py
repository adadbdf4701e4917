"""Money: exact amounts in a currency, and the one rounding rule.

Amounts are stored as integer minor units (cents) next to an ISO 4217 currency code and move
through the code as :class:`Money`, a value object over :class:`~decimal.Decimal`. Floats never
touch money. Rounding to the minor unit happens only in :func:`round_to_minor`, half-to-even
(banker's rounding), so repeated rounding does not drift in one direction.

Splitting an amount into parts uses the largest-remainder method at the minor unit, so the
parts always sum exactly to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from equipoise.core.errors import ApplicationError

# Minor-unit exponents for the currencies a sales organisation commonly reports in; any other
# valid-looking code defaults to 2 decimals (the ISO 4217 norm).
_MINOR_UNIT_EXPONENT = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JOD": 3}

ROUNDING = ROUND_HALF_EVEN


def minor_unit_exponent(currency: str) -> int:
    return _MINOR_UNIT_EXPONENT.get(currency, 2)


def validate_currency(currency: str) -> str:
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise ApplicationError(f"{currency!r} is not a currency code: use three capital letters such as EUR or USD.", field="currency")
    return currency


def round_to_minor(amount: Decimal, currency: str) -> int:
    """The one rounding rule: a Decimal amount in major units to whole minor units, half-to-even."""
    exponent = minor_unit_exponent(currency)
    return int((amount * (Decimal(10) ** exponent)).quantize(Decimal(1), rounding=ROUNDING))


def parse_amount(text: str | int | Decimal, currency: str, *, field: str = "amount") -> int:
    """Parse user input in major units ("1,234.50", 1234.5 as Decimal) into exact minor units.

    Refuses more decimals than the currency has, rather than rounding a typed amount silently.
    """
    raw = str(text).strip().replace(",", "").replace("_", "").replace(" ", "")
    try:
        value = Decimal(raw)
    except InvalidOperation as error:
        raise ApplicationError(f"{text!r} is not an amount: write digits such as 1250000 or 1,250,000.00.", field=field) from error
    if not value.is_finite():
        raise ApplicationError(f"{text!r} is not an amount.", field=field)
    exponent = minor_unit_exponent(currency)
    scaled = value * (Decimal(10) ** exponent)
    if scaled != scaled.to_integral_value():
        raise ApplicationError(f"{text!r} has more than {exponent} decimals, the most {currency} allows.", field=field)
    return int(scaled)


def allocate_minor(total_minor: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split ``total_minor`` in proportion to ``weights`` with the largest-remainder method.

    Invariants: the parts sum exactly to ``total_minor``; each part is within one minor unit of
    its exact share; parts of equal weight differ by at most one unit, ties going to the earlier
    position (deterministic). A negative total splits like its absolute value, negated. All-zero
    weights split equally. Weights must not be negative.
    """
    count = len(weights)
    if count == 0:
        if total_minor != 0:
            raise ApplicationError("There is nothing to split this amount over.")
        return []
    if any(weight < 0 for weight in weights):
        raise ApplicationError("Weights must not be negative.", field="weights")
    if total_minor < 0:
        return [-part for part in allocate_minor(-total_minor, weights)]
    int_weights = _integer_weights(weights)
    weight_sum = sum(int_weights)
    if weight_sum == 0:
        int_weights = [1] * count
        weight_sum = count
    parts = []
    remainders = []
    for index, weight in enumerate(int_weights):
        quotient, remainder = divmod(total_minor * weight, weight_sum)
        parts.append(quotient)
        remainders.append((-remainder, index))
    leftover = total_minor - sum(parts)
    if leftover:
        remainders.sort()
        for _, index in remainders[:leftover]:
            parts[index] += 1
    return parts


def _integer_weights(weights: Sequence[int | Decimal]) -> list[int]:
    if all(isinstance(weight, int) for weight in weights):
        return list(weights)  # type: ignore[arg-type]
    decimals = [Decimal(weight) for weight in weights]
    exponents = [d.as_tuple().exponent for d in decimals]
    places = max((-exponent for exponent in exponents if isinstance(exponent, int)), default=0)
    scale = Decimal(10) ** max(places, 0)
    return [int(d * scale) for d in decimals]


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in a currency. ``amount`` is in major units (euros, not cents)."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal, never a float.")

    @classmethod
    def from_minor(cls, amount_minor: int, currency: str) -> Money:
        return cls(Decimal(amount_minor).scaleb(-minor_unit_exponent(currency)), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @property
    def minor(self) -> int:
        return round_to_minor(self.amount, self.currency)

    def rounded(self) -> Money:
        return Money.from_minor(self.minor, self.currency)

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}.")
        if other.currency != self.currency:
            raise ApplicationError(f"Cannot combine {self.currency} with {other.currency} amounts.", field="currency")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("Multiply Money by an int or Decimal, never a float.")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def allocate(self, weights: Sequence[int | Decimal]) -> list[Money]:
        """Split into parts proportional to ``weights`` that sum exactly to this (rounded) amount."""
        return [Money.from_minor(part, self.currency) for part in allocate_minor(self.minor, weights)]

    def with_uplift_bp(self, basis_points: int) -> Money:
        """This amount increased by ``basis_points`` (500 = +5%), rounded to the minor unit."""
        return Money.from_minor(uplift_minor(self.minor, basis_points, self.currency), self.currency)

    def format(self) -> str:
        exponent = minor_unit_exponent(self.currency)
        return f"{self.currency} {self.amount:,.{exponent}f}"

    def __str__(self) -> str:
        return self.format()


def uplift_minor(amount_minor: int, basis_points: int, currency: str) -> int:
    """``amount_minor`` increased by ``basis_points`` / 10,000 (a cushion), by the one rounding rule."""
    exact = Decimal(amount_minor) * (Decimal(10_000) + basis_points) / Decimal(10_000)
    return round_to_minor(exact.scaleb(-minor_unit_exponent(currency)), currency)


def sum_money(values: Sequence[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for value in values:
        total = total + value
    return total

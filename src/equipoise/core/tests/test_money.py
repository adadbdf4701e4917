from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equipoise.core.errors import ApplicationError
from equipoise.core.money import Money, allocate_minor, parse_amount, round_to_minor, uplift_minor


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (10, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (0, [5, 3], [0, 0]),
        (7, [0, 0], [4, 3]),
        (1000, [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")], [500, 250, 250]),
        (5, [2, 0, 3], [2, 0, 3]),
    ],
)
def test_allocate_minor_table(total, weights, expected):
    assert allocate_minor(total, weights) == expected


def test_allocate_refuses_negative_weights_and_empty_targets():
    with pytest.raises(ApplicationError, match="negative"):
        allocate_minor(10, [1, -1])
    with pytest.raises(ApplicationError, match="nothing to split"):
        allocate_minor(10, [])


@given(
    total=st.integers(min_value=-(10**15), max_value=10**15),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=40),
)
def test_allocate_parts_sum_exactly_and_stay_within_one_unit_of_exact_share(total, weights):
    parts = allocate_minor(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights) or len(weights)
    effective = weights if sum(weights) else [1] * len(weights)
    for part, weight in zip(parts, effective, strict=True):
        exact = Decimal(total) * weight / weight_sum
        assert abs(Decimal(part) - exact) < 1


@given(
    total=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False), min_size=1, max_size=30),
)
def test_allocate_decimal_weights_reconcile(total, weights):
    assert sum(allocate_minor(total, weights)) == total


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["EUR", "USD", "JPY", "KWD"]))
def test_money_round_trips_through_minor_units(minor, currency):
    assert Money.from_minor(minor, currency).minor == minor


def test_rounding_is_half_to_even_at_the_minor_unit():
    assert round_to_minor(Decimal("0.005"), "EUR") == 0
    assert round_to_minor(Decimal("0.015"), "EUR") == 2
    assert round_to_minor(Decimal("2.5"), "JPY") == 2


def test_uplift_applies_basis_points_with_the_one_rounding_rule():
    assert uplift_minor(100_000, 1000, "EUR") == 110_000
    assert uplift_minor(5, 1000, "EUR") == 6  # 5.5 cents → 6 (half to even)
    assert uplift_minor(15, 1000, "EUR") == 16  # 16.5 → 16


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("1,250,000.50", "EUR", 125_000_050), ("12", "EUR", 1200), ("1 000", "JPY", 1000), ("-3.10", "EUR", -310)],
)
def test_parse_amount_accepts_plain_and_grouped_input(text, currency, minor):
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(("text", "reason"), [("12.345", "more than 2 decimals"), ("abc", "not an amount"), ("NaN", "not an amount")])
def test_parse_amount_names_the_problem(text, reason):
    with pytest.raises(ApplicationError, match=reason) as error:
        parse_amount(text, "EUR", field="total_target")
    assert error.value.field == "total_target"


def test_money_never_takes_floats_or_mixes_currencies():
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(Decimal(1), "EUR") * 1.5  # type: ignore[operator]
    with pytest.raises(ApplicationError, match="Cannot combine EUR with USD"):
        Money(Decimal(1), "EUR") + Money(Decimal(1), "USD")


def test_money_allocate_and_format():
    parts = Money(Decimal("100.00"), "EUR").allocate([1, 1, 1])
    assert [str(part) for part in parts] == ["EUR 33.34", "EUR 33.33", "EUR 33.33"]
    assert Money.from_minor(123456789, "EUR").format() == "EUR 1,234,567.89"

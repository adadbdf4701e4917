from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equipoise.core.errors import ApplicationError
from equipoise.planning import domain

weights_strategy = st.lists(st.decimals(min_value=0, max_value=50, places=3, allow_nan=False), min_size=12, max_size=12).filter(
    lambda ws: sum(ws) > 0
)


@given(
    total=st.integers(min_value=0, max_value=10**13),
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2080, 1, 1)),
    horizon=st.integers(min_value=12, max_value=36),
    raw_weights=weights_strategy,
    growth=st.integers(min_value=-500, max_value=500),
)
def test_phasing_reconciles_to_the_cent(total, start, horizon, raw_weights, growth):
    weights = domain.validate_weights(raw_weights)
    months = domain.phase(total_minor=total, start_month=start, horizon_months=horizon, weights=weights, growth_bp_per_month=growth)
    assert len(months) == horizon
    assert sum(months) == total
    assert all(amount >= 0 for amount in months)


def test_flat_phasing_splits_evenly_with_remainder_first():
    months = domain.phase(total_minor=2_400_005, start_month=date(2027, 1, 1), horizon_months=24, weights=domain.flat_weights())
    assert months[:6] == [100_001] * 5 + [100_000]
    assert sum(months) == 2_400_005


def test_seasonality_shapes_months_and_growth_raises_later_ones():
    weights = domain.validate_weights([1] * 11 + [2])  # December twice as big
    months = domain.phase(total_minor=1_300_000, start_month=date(2027, 1, 1), horizon_months=12, weights=weights)
    assert months[11] == 2 * months[0]
    grown = domain.phase(
        total_minor=1_200_000, start_month=date(2027, 1, 1), horizon_months=12, weights=domain.flat_weights(), growth_bp_per_month=100
    )
    assert grown == sorted(grown)
    assert grown[0] < grown[11]


@pytest.mark.parametrize("horizon", [11, 37, 0])
def test_horizon_outside_12_to_36_is_refused(horizon):
    with pytest.raises(ApplicationError, match="from 12 to 36") as error:
        domain.validate_horizon(horizon)
    assert error.value.field == "horizon_months"


def test_learned_seasonality_from_history():
    history = {date(2025, month, 1): 100 for month in range(1, 13)} | {date(2026, month, 1): 100 for month in range(1, 13)}
    history[date(2026, 12, 1)] = 300  # a December spike, averaged with a normal one
    weights = domain.learn_seasonality(history)
    assert weights[11] > weights[0]
    assert abs(sum(weights) - 12) <= Decimal("0.0012")  # normalised to average 1, to 4 places
    with pytest.raises(ApplicationError, match="at least 12 months"):
        domain.learn_seasonality({date(2026, 1, 1): 5})


def test_weights_need_twelve_non_negative_values():
    with pytest.raises(ApplicationError, match="12 monthly weights"):
        domain.validate_weights([1] * 11)
    with pytest.raises(ApplicationError, match="month 3"):
        domain.validate_weights([1, 1, -1] + [1] * 9)
    with pytest.raises(ApplicationError, match="above zero"):
        domain.validate_weights([0] * 12)


@given(total=st.integers(min_value=0, max_value=10**13), shares=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=20))
def test_share_targets_covering_100_percent_reconcile_exactly(total, shares):
    # Scale the random shares to exactly 10,000 bp with largest remainder.
    from equipoise.core.money import allocate_minor

    bp = [max(part, 0) for part in allocate_minor(10_000, shares)]
    specs = [domain.TargetSpec(share_bp=share) for share in bp]
    resolved = domain.resolve_targets(total, specs)
    assert sum(resolved) == total


def test_mixed_amount_and_share_targets():
    resolved = domain.resolve_targets(1_000_000, [domain.TargetSpec(amount_minor=400_000), domain.TargetSpec(share_bp=6000)])
    assert resolved == [400_000, 600_000]
    with pytest.raises(ApplicationError, match="more than 100%"):
        domain.resolve_targets(1_000, [domain.TargetSpec(share_bp=6000), domain.TargetSpec(share_bp=5000)])


def test_annual_totals_follow_the_fiscal_year():
    months = {date(2027, m, 1): 10 for m in range(1, 13)} | {date(2028, m, 1): 20 for m in range(1, 13)}
    assert domain.annual_totals(months, 1) == {"FY2027": 120, "FY2028": 240}
    assert domain.annual_totals(months, 4) == {"FY2027": 30, "FY2028": 90 + 60, "FY2029": 180}


@pytest.mark.parametrize(
    ("amount_minor", "currency", "message"),
    [
        (-1, "EUR", "A commit cannot be negative."),
        (10**16 + 1, "EUR", "A commit is too large: amounts go up to EUR 100,000,000,000,000.00. Check for extra zeros."),
        (10**16 + 1, "JPY", "A commit is too large: amounts go up to JPY 10,000,000,000,000,000. Check for extra zeros."),
    ],
)
def test_validate_amount_refuses_negative_and_too_large_amounts(amount_minor, currency, message):
    with pytest.raises(ApplicationError) as error:
        domain.validate_amount(amount_minor, currency=currency, field="amount", what="A commit")
    assert error.value.message == message
    assert error.value.field == "amount"


@pytest.mark.parametrize("amount_minor", [0, 1, 10**16])
def test_validate_amount_passes_amounts_within_the_limit(amount_minor):
    assert domain.validate_amount(amount_minor, currency="EUR", field="amount", what="A commit") == amount_minor

"""Retention maths: table-driven cases and properties (no database)."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equipoise.results.retention import (
    Category,
    ContractTerm,
    CustomerBalance,
    MonthActivity,
    Ratio,
    RetentionGrain,
    activity_balances,
    activity_positions_on_days,
    annual_recurring_minor,
    balances_between,
    contract_balances,
    customer_arr,
    customer_arr_on_days,
    figures_between,
    period_containing,
    periods_ending_with,
    retention_figures,
)

JAN = period_containing(RetentionGrain.MONTH, date(2027, 1, 1), 1)  # baseline 31 Dec 2026, end 31 Jan 2027


def contract(pk, customer, starts, ends, amount, billing="annual", renewal_starts=None):
    return ContractTerm(pk, customer, starts, ends, billing, amount, renewal_starts)


# --- periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grain", "day", "fiscal_start", "start", "end", "label"),
    [
        (RetentionGrain.MONTH, date(2027, 2, 14), 1, date(2027, 2, 1), date(2027, 2, 28), "Feb 2027"),
        (RetentionGrain.QUARTER, date(2027, 5, 3), 1, date(2027, 4, 1), date(2027, 6, 30), "Q2 FY2027"),
        (RetentionGrain.QUARTER, date(2027, 5, 3), 4, date(2027, 4, 1), date(2027, 6, 30), "Q1 FY2028"),
        (RetentionGrain.QUARTER, date(2027, 1, 15), 11, date(2026, 11, 1), date(2027, 1, 31), "Q1 FY2027"),
        (RetentionGrain.YEAR, date(2027, 5, 3), 1, date(2027, 1, 1), date(2027, 12, 31), "FY2027"),
        (RetentionGrain.YEAR, date(2027, 2, 3), 4, date(2026, 4, 1), date(2027, 3, 31), "FY2027"),
    ],
)
def test_periods_are_months_fiscal_quarters_and_fiscal_years(grain, day, fiscal_start, start, end, label):
    period = period_containing(grain, day, fiscal_start)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period.baseline == start - timedelta(days=1)


def test_the_trend_is_consecutive_periods_ending_with_the_chosen_one():
    chosen = period_containing(RetentionGrain.QUARTER, date(2027, 2, 1), 1)
    periods = periods_ending_with(chosen, 4, 1)
    assert [period.label for period in periods] == ["Q2 FY2026", "Q3 FY2026", "Q4 FY2026", "Q1 FY2027"]
    assert all(later.start == earlier.end + timedelta(days=1) for earlier, later in itertools.pairwise(periods))


def test_the_period_in_progress_ends_today():
    assert JAN.end_as_of(date(2027, 1, 10)) == date(2027, 1, 10)
    assert JAN.end_as_of(date(2027, 3, 1)) == date(2027, 1, 31)


# --- ARR -----------------------------------------------------------------------------------------


def test_arr_is_twelve_monthly_amounts_or_the_annual_amount():
    assert annual_recurring_minor(1_000, "monthly") == 12_000
    assert annual_recurring_minor(1_000, "annual") == 1_000
    with pytest.raises(ValueError):
        annual_recurring_minor(1_000, "weekly")


def test_customer_arr_sums_the_contracts_in_force_on_the_day():
    contracts = [
        contract(1, 10, date(2026, 1, 1), date(2026, 12, 31), 12_000),
        contract(2, 10, date(2026, 6, 1), date(2027, 5, 31), 500, "monthly"),
        contract(3, 20, date(2027, 1, 1), date(2027, 12, 31), 7_000),
    ]
    assert customer_arr(contracts, date(2026, 12, 31)) == {10: 18_000}
    assert customer_arr(contracts, date(2027, 1, 1)) == {10: 6_000, 20: 7_000}


# --- table-driven cases --------------------------------------------------------------------------

CASES = {
    # name: (contracts, expected category of customer 1 in Jan 2027, start ARR, end ARR)
    "churn: the contract ends in the period, no renewal": (
        [contract(1, 1, date(2026, 1, 1), date(2027, 1, 15), 12_000)],
        Category.CHURNED,
        12_000,
        0,
    ),
    "downgrade: renewed for less": (
        [
            contract(1, 1, date(2026, 1, 1), date(2026, 12, 31), 12_000, renewal_starts=date(2027, 1, 1)),
            contract(2, 1, date(2027, 1, 1), date(2027, 12, 31), 9_000),
        ],
        Category.CONTRACTED,
        12_000,
        9_000,
    ),
    "expansion: a second product line": (
        [contract(1, 1, date(2026, 1, 1), date(2027, 12, 31), 12_000), contract(2, 1, date(2027, 1, 10), date(2027, 12, 31), 3_000)],
        Category.EXPANDED,
        12_000,
        15_000,
    ),
    "renewal the next day across the boundary": (
        [
            contract(1, 1, date(2026, 1, 1), date(2026, 12, 31), 12_000, renewal_starts=date(2027, 1, 1)),
            contract(2, 1, date(2027, 1, 1), date(2027, 12, 31), 12_000),
        ],
        Category.RETAINED,
        12_000,
        12_000,
    ),
    "renewal signed late: the gap is bridged at both ends": (
        [
            contract(1, 1, date(2026, 1, 1), date(2026, 12, 15), 12_000, renewal_starts=date(2027, 2, 10)),
            contract(2, 1, date(2027, 2, 10), date(2028, 2, 9), 12_000),
        ],
        Category.RETAINED,
        12_000,
        12_000,
    ),
    "renewal starting before the old contract ends replaces it (no double count)": (
        [
            contract(1, 1, date(2026, 2, 1), date(2027, 1, 31), 12_000, renewal_starts=date(2027, 1, 15)),
            contract(2, 1, date(2027, 1, 15), date(2028, 1, 14), 13_000),
        ],
        Category.EXPANDED,
        12_000,
        13_000,
    ),
    "monthly billing counts twelve times": (
        [contract(1, 1, date(2026, 6, 1), date(2027, 5, 31), 1_000, "monthly")],
        Category.RETAINED,
        12_000,
        12_000,
    ),
    "monthly replaced by annual at the same ARR": (
        [
            contract(1, 1, date(2026, 1, 1), date(2026, 12, 31), 1_000, "monthly", renewal_starts=date(2027, 1, 1)),
            contract(2, 1, date(2027, 1, 1), date(2027, 12, 31), 12_000, "annual"),
        ],
        Category.RETAINED,
        12_000,
        12_000,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_contract_cases(name):
    contracts, category, start, end = CASES[name]
    [balance] = contract_balances(contracts, JAN.baseline, JAN.end)
    assert (balance.category, balance.start_minor, balance.end_minor) == (category, start, end)


def test_without_the_renewal_link_a_late_renewal_is_churn_then_a_new_customer():
    old = contract(1, 1, date(2026, 1, 1), date(2026, 12, 15), 12_000)
    new = contract(2, 1, date(2027, 2, 10), date(2028, 2, 9), 12_000)
    dec = period_containing(RetentionGrain.MONTH, date(2026, 12, 1), 1)
    assert [balance.category for balance in contract_balances([old, new], dec.baseline, dec.end)] == [Category.CHURNED]
    feb = period_containing(RetentionGrain.MONTH, date(2027, 2, 1), 1)
    assert [balance.category for balance in contract_balances([old, new], feb.baseline, feb.end)] == [Category.NEW]


def test_figures_of_a_mixed_cohort():
    balances = [
        CustomerBalance(1, 10_000, 0, True, False),  # churned
        CustomerBalance(2, 10_000, 6_000, True, True),  # contracted
        CustomerBalance(3, 10_000, 15_000, True, True),  # expanded
        CustomerBalance(4, 10_000, 10_000, True, True),  # retained
        CustomerBalance(5, 0, 8_000, False, True),  # new: outside the ratios
    ]
    figures = retention_figures(balances)
    assert (figures.cohort_count, figures.churned_count, figures.contracted_count, figures.expanded_count) == (4, 1, 1, 1)
    assert (figures.retained_count, figures.new_count, figures.new_minor) == (1, 1, 8_000)
    assert (figures.start_minor, figures.kept_minor, figures.end_minor) == (40_000, 26_000, 31_000)
    assert figures.grr == Ratio(26_000, 40_000) and figures.grr.value == Decimal("0.65")
    assert figures.nrr is not None and figures.nrr.value == Decimal("0.775")
    assert figures.logo_churn is not None and figures.logo_churn.value == Decimal("0.25")
    assert figures.churned_minor == 14_000 and figures.expansion_minor == 5_000


def test_no_cohort_means_no_ratio():
    figures = retention_figures([CustomerBalance(5, 0, 8_000, False, True)])
    assert (figures.grr, figures.nrr, figures.logo_churn) == (None, None, None)


def test_ratios_are_decimals_rounded_half_to_even_for_display():
    assert Ratio(1, 3).quantized(6) == Decimal("0.333333")
    assert Ratio(1, 8).quantized(2) == Decimal("0.12")
    assert Ratio(2, 3).percent_text() == "66.7%"


# --- activity-based ------------------------------------------------------------------------------


def buy(customer, month, amount, purchases=1):
    return MonthActivity(customer, month, amount, purchases)


@pytest.mark.parametrize(
    ("lapse", "last_purchase", "active_at_end"),
    [
        (12, date(2026, 2, 1), True),  # Feb 2026 is within the 12 months ending Jan 2027
        (12, date(2026, 1, 1), False),  # Jan 2026 is 13 months back: lapsed
        (3, date(2026, 11, 1), True),  # Nov, Dec, Jan
        (3, date(2026, 10, 1), False),
        (1, date(2026, 12, 1), False),  # one month: only the end's own month counts
    ],
)
def test_a_customer_lapses_after_n_months_without_a_purchase(lapse, last_purchase, active_at_end):
    [balance] = activity_balances([buy(1, last_purchase, 5_000)], JAN.baseline, JAN.end, lapse_after_months=lapse)
    assert balance.active_at_start is True
    assert balance.active_at_end is active_at_end
    assert balance.category == (Category.RETAINED if active_at_end else Category.CHURNED)
    assert balance.end_minor == (5_000 if active_at_end else 0)


def test_activity_revenue_is_the_trailing_twelve_months_never_negative():
    activity = [
        buy(1, date(2025, 12, 1), 99_000),  # 13 months before the baseline's month: outside
        buy(1, date(2026, 3, 1), 10_000),
        buy(1, date(2027, 1, 1), 4_000),
        buy(2, date(2026, 6, 1), 3_000),
        buy(2, date(2026, 7, 1), -5_000, purchases=0),  # a credit note larger than the sales
    ]
    balances = {balance.customer_id: balance for balance in activity_balances(activity, JAN.baseline, JAN.end, lapse_after_months=12)}
    assert (balances[1].start_minor, balances[1].end_minor, balances[1].category) == (10_000, 14_000, Category.EXPANDED)
    assert (balances[2].start_minor, balances[2].end_minor) == (0, 0)
    assert balances[2].active_at_end is True  # they did buy within the year: active, with no revenue left


def test_a_credit_note_is_not_a_purchase():
    activity = [buy(1, date(2026, 12, 1), -1_000, purchases=0)]
    assert activity_balances(activity, JAN.baseline, JAN.end, lapse_after_months=12) == []


def test_a_first_purchase_in_the_period_is_a_new_customer():
    [balance] = activity_balances([buy(1, date(2027, 1, 1), 2_000)], JAN.baseline, JAN.end, lapse_after_months=12)
    assert (balance.category, balance.end_minor) == (Category.NEW, 2_000)


# --- properties ----------------------------------------------------------------------------------

days = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def contract_sets(draw):
    terms = []
    for pk in range(draw(st.integers(0, 12))):
        starts = draw(days)
        ends = starts + timedelta(days=draw(st.integers(0, 800)))
        renewal = None
        if draw(st.booleans()):
            renewal = starts + timedelta(days=draw(st.integers(1, 900)))
        terms.append(
            contract(
                pk,
                draw(st.integers(1, 4)),
                starts,
                ends,
                draw(st.integers(0, 10**9)),
                draw(st.sampled_from(["monthly", "annual"])),
                renewal,
            )
        )
    return terms


def _check_invariants(balances):
    figures = retention_figures(balances)
    cohort = [balance for balance in balances if balance.active_at_start]
    assert figures.cohort_count == len(cohort)
    assert figures.churned_count + figures.contracted_count + figures.expanded_count + figures.retained_count == len(cohort)
    assert figures.churned_count == sum(1 for balance in cohort if not balance.active_at_end)
    assert figures.new_count == sum(1 for balance in balances if not balance.active_at_start and balance.active_at_end)
    assert figures.start_minor == sum(balance.start_minor for balance in cohort)
    if figures.grr is not None:
        assert figures.nrr is not None
        assert Decimal(0) <= figures.grr.value <= Decimal(1)
        assert figures.grr.numerator <= figures.nrr.numerator  # same denominator: GRR ≤ NRR exactly
        assert figures.grr.value <= figures.nrr.value
    if figures.logo_churn is not None:
        assert Decimal(0) <= figures.logo_churn.value <= Decimal(1)
    else:
        assert not cohort
    return figures


@settings(max_examples=300, deadline=None)
@given(contract_sets(), st.sampled_from(list(RetentionGrain)), days, st.integers(1, 12))
def test_contract_retention_is_bounded_and_ordered(terms, grain, day, fiscal_start):
    period = period_containing(grain, day, fiscal_start)
    balances = contract_balances(terms, period.baseline, period.end)
    _check_invariants(balances)
    start_arr = customer_arr(terms, period.baseline)
    assert {balance.customer_id for balance in balances if balance.in_cohort} == set(start_arr)  # cohort: ARR > 0 at the baseline
    assert all(balance.start_minor == start_arr.get(balance.customer_id, 0) for balance in balances)


PLAIN_REVENUES = st.integers(-(10**6), 10**7)


def activity_lists(*, last_month: date, revenues: st.SearchStrategy[int] = PLAIN_REVENUES) -> st.SearchStrategy:
    """Up to 40 months of activity of a few customers, from January 2024 to ``last_month``."""
    months = st.dates(min_value=date(2024, 1, 1), max_value=last_month).map(lambda day: day.replace(day=1))
    return st.lists(st.builds(MonthActivity, st.integers(1, 5), months, revenues, st.integers(0, 3)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    activity_lists(last_month=date(2027, 6, 30)),
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 6, 30)),
    st.integers(1, 24),
)
def test_activity_retention_is_bounded_and_ordered(activity, day, lapse):
    period = period_containing(RetentionGrain.MONTH, day, 1)
    kept = [item for item in activity if item.month <= period.end]
    balances = activity_balances(kept, period.baseline, period.end, lapse_after_months=lapse)
    _check_invariants(balances)
    assert all(balance.start_minor >= 0 and balance.end_minor >= 0 for balance in balances)
    assert all(balance.end_minor == 0 for balance in balances if not balance.active_at_end)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 10**9), st.booleans()), max_size=30))
def test_grr_never_exceeds_one_and_never_exceeds_nrr(pairs):
    balances = [CustomerBalance(index, start, end if active else 0, start > 0, active) for index, (start, end, active) in enumerate(pairs)]
    _check_invariants(balances)


def naive_arr(terms, day):
    totals = {}
    for term in terms:
        until = term.renewal_starts_on - timedelta(days=1) if term.renewal_starts_on else term.ends_on
        if term.starts_on <= day <= until:
            totals[term.customer_id] = totals.get(term.customer_id, 0) + term.amount_minor * (12 if term.billing_period == "monthly" else 1)
    return {customer: amount for customer, amount in totals.items() if amount > 0}


@settings(max_examples=200, deadline=None)
@given(contract_sets(), st.lists(days, min_size=1, max_size=6))
def test_arr_on_many_days_matches_day_by_day(terms, some_days):
    by_day = customer_arr_on_days(terms, some_days)
    assert by_day == {day: naive_arr(terms, day) for day in some_days}


@settings(max_examples=200, deadline=None)
@given(contract_sets(), days, days)
def test_figures_between_positions_equal_the_figures_of_the_balances(terms, baseline, end):
    arr = customer_arr_on_days(terms, [baseline, end])
    assert figures_between(arr[baseline], arr[end]) == retention_figures(balances_between(arr[baseline], arr[end]))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.builds(
            MonthActivity,
            st.integers(1, 4),
            st.sampled_from([date(2026, month, 1) for month in range(1, 13)]),
            st.integers(-1000, 10**5),
            st.integers(0, 2),
        ),
        max_size=30,
    ),
    st.integers(1, 14),
)
def test_activity_positions_are_the_active_customers_with_their_trailing_revenue(activity, lapse):
    day = date(2026, 12, 31)
    position = activity_positions_on_days(activity, [day], lapse_after_months=lapse)[day]
    for customer in {item.customer_id for item in activity}:
        mine = [item for item in activity if item.customer_id == customer]
        active = any(item.purchases > 0 and item.month.month > 12 - lapse for item in mine)
        assert (customer in position) is active
        if active:
            assert position[customer] == max(sum(item.revenue_minor for item in mine), 0)


def naive_activity_position(activity, day, lapse):
    """The definition, customer by customer: active with a purchase in the day's month or the
    ``lapse`` − 1 before; revenue over the day's month and the 11 before, never below 0."""
    last = day.year * 12 + day.month - 1
    position = {}
    for customer in {item.customer_id for item in activity}:
        mine = [(item.month.year * 12 + item.month.month - 1, item) for item in activity if item.customer_id == customer]
        bought = {}
        for month, item in mine:
            bought[month] = bought.get(month, 0) + item.purchases
        if any(last - lapse < month <= last and purchases > 0 for month, purchases in bought.items()):
            position[customer] = max(sum(item.revenue_minor for month, item in mine if last - 12 < month <= last), 0)
    return position


@settings(max_examples=200, deadline=None)
@given(
    activity_lists(last_month=date(2026, 12, 31), revenues=st.one_of(PLAIN_REVENUES, st.integers(-(2**70), 2**70))),
    st.lists(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 6, 30)), min_size=1, max_size=5),
    st.integers(1, 30),
)
def test_activity_positions_on_many_days_match_the_definition_day_by_day(activity, some_days, lapse):
    positions = activity_positions_on_days(activity, some_days, lapse_after_months=lapse)

    assert positions == {day: naive_activity_position(activity, day, lapse) for day in some_days}
    assert all(type(amount) is int for position in positions.values() for amount in position.values())


def test_activity_positions_take_a_generator_and_need_some_lapse():
    day = date(2026, 3, 31)
    activity = [MonthActivity(7, date(2026, 3, 1), 500, 1), MonthActivity(7, date(2026, 3, 1), -200, 0)]
    assert activity_positions_on_days(iter(activity), iter([day]), lapse_after_months=1) == {day: {7: 300}}
    assert activity_positions_on_days([], [day], lapse_after_months=1) == {day: {}}
    with pytest.raises(ValueError, match="at least one month"):
        activity_positions_on_days(activity, [day], lapse_after_months=0)

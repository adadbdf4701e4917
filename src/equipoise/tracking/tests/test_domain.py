"""Pure tracking calculations: periods, the plan spread to weeks and days, pace and projection,
plan splits and drills. Table-driven cases plus hypothesis properties."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equipoise.core.errors import ApplicationError
from equipoise.core.periods import add_months, month_end
from equipoise.tracking import domain
from equipoise.tracking.domain import Figures, Grain, PlanFact

months = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 1)).map(lambda day: day.replace(day=1))
amounts = st.integers(min_value=0, max_value=10**13)
signed_amounts = st.integers(min_value=-(10**13), max_value=10**13)


# --- the plan spread to days and weeks -------------------------------------------------------------


def test_daily_plan_spreads_a_month_over_its_business_days_and_the_leftover_units_evenly():
    # January 2027 has 21 business days; 1,000.00 / 21 = 47.619…: 21 × 47.61 leaves 0.19, so 19
    # business days get 47.62 and two get 47.61, spread through the month.
    days = domain.daily_plan(date(2027, 1, 1), 100_000)

    assert len(days) == 31
    assert sum(days) == 100_000
    assert days[1] == days[2] == 0  # Saturday 2 and Sunday 3 January
    business = [amount for offset, amount in enumerate(days) if date(2027, 1, 1 + offset).weekday() < 5]
    assert sorted(business) == [4_761] * 2 + [4_762] * 19
    assert [index for index, amount in enumerate(business) if amount == 4_761] == [0, 10]  # the 1st and the 11th


def test_a_small_amount_is_spread_through_the_month_not_on_its_first_days():
    days = domain.daily_plan(date(2027, 1, 1), 3)  # three cents over 21 business days

    assert [date(2027, 1, 1 + offset).day for offset, amount in enumerate(days) if amount] == [11, 20, 29]


@given(month=months, amount=signed_amounts, first=st.integers(min_value=0, max_value=22), length=st.integers(min_value=1, max_value=23))
def test_a_months_days_sum_exactly_to_the_month_and_any_run_of_days_is_within_a_unit_of_its_share(month, amount, first, length):
    days = domain.daily_plan(month, amount)

    assert sum(days) == amount
    business = []
    for offset, part in enumerate(days):
        if (month + timedelta(days=offset)).weekday() >= 5:
            assert part == 0
        else:
            business.append(part)
    assert max(business) - min(business) <= 1
    run = business[first : first + length]
    exact = Decimal(amount) * len(run) / len(business)
    assert abs(sum(run) - exact) < 1


@given(month=months, amount=amounts)
def test_a_months_weeks_sum_exactly_to_the_month(month, amount):
    weeks = domain.periods(Grain.WEEK, month, month_end(month), fiscal_year_start_month=1)

    assert sum(domain.spread_plan({month: amount}, weeks)) == amount


@given(month=months, amount=amounts, next_amount=amounts)
def test_a_week_spanning_two_months_takes_its_share_of_each(month, amount, next_amount):
    following = add_months(month, 1)
    last_week = domain.iso_week_start(month_end(month))
    plan = {month: amount, following: next_amount}

    week = domain.weekly_plan(plan, last_week)

    own_days = domain.daily_plan(month, amount)[last_week.day - 1 :] if last_week.month == month.month else ()
    tail = last_week + timedelta(days=6)
    next_days = domain.daily_plan(following, next_amount)[: tail.day] if tail.month == following.month else ()
    assert week == sum(own_days) + sum(next_days)


@given(
    start=months,
    plan_amounts=st.lists(amounts, min_size=1, max_size=14),
    cut=st.integers(min_value=0, max_value=400),
    cut2=st.integers(min_value=0, max_value=400),
)
@settings(max_examples=150)
def test_the_plans_of_consecutive_ranges_sum_to_the_plan_of_their_union(start, plan_amounts, cut, cut2):
    plan = {add_months(start, offset): amount for offset, amount in enumerate(plan_amounts)}
    end = month_end(add_months(start, len(plan_amounts) - 1))
    total_days = (end - start).days
    first_cut = start + timedelta(days=min(cut, total_days))
    second_cut = first_cut + timedelta(days=min(cut2, (end - first_cut).days))

    parts = (
        domain.plan_between(plan, start, first_cut)
        + domain.plan_between(plan, first_cut + timedelta(days=1), second_cut)
        + domain.plan_between(plan, second_cut + timedelta(days=1), end)
    )

    assert parts == domain.plan_between(plan, start, end) == sum(plan_amounts)
    assert domain.plan_between(plan, start, first_cut) <= domain.plan_between(plan, start, second_cut)  # monotone


@given(
    month=months,
    parts=st.lists(amounts, min_size=1, max_size=8),
    groups=st.lists(st.integers(min_value=0, max_value=3), min_size=8, max_size=8),
)
def test_rows_of_parts_sum_exactly_to_the_whole_on_every_day(month, parts, groups):
    """Buckets grouped into rows (regions, motions) spread day by day sum to the total of all buckets."""
    rows: dict[int, list[int]] = {}
    for part, group in zip(parts, groups, strict=False):
        rows.setdefault(group, []).append(part)
    for offset in range(month_end(month).day):
        day = month + timedelta(days=offset)
        by_rows = sum(domain.plan_between({month: row_parts}, day, day) for row_parts in rows.values())
        assert by_rows == domain.plan_between({month: parts}, day, day)


@given(
    grain=st.sampled_from(list(Grain)),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    length=st.integers(min_value=0, max_value=119),  # 120 days: the most columns a table takes
    fiscal_start=st.integers(min_value=1, max_value=12),
)
def test_periods_partition_the_range_at_every_grain(grain, start, length, fiscal_start):
    first, last = domain.align_range(grain, start, start + timedelta(days=length))
    columns = domain.periods(grain, first, last, fiscal_start)

    assert columns[0].start == first
    assert columns[-1].end == last
    for previous, following in itertools.pairwise(columns):
        assert following.start == previous.end + timedelta(days=1)
    assert all(column.start <= column.end for column in columns)
    assert len(columns) == domain.count_periods(grain, first, last, fiscal_start)


@pytest.mark.parametrize(
    ("grain", "start", "end", "labels"),
    [
        (Grain.DAY, date(2027, 1, 1), date(2027, 1, 3), ["Fri 1 Jan", "Sat 2 Jan", "Sun 3 Jan"]),
        (Grain.WEEK, date(2027, 1, 1), date(2027, 1, 17), ["W53 2026", "W01 2027", "W02 2027"]),
        (Grain.MONTH, date(2027, 1, 15), date(2027, 2, 3), ["Jan 2027", "Feb 2027"]),
        (Grain.QUARTER, date(2027, 3, 1), date(2027, 7, 31), ["Q4 FY2027", "Q1 FY2028", "Q2 FY2028"]),
        (Grain.YEAR, date(2027, 1, 1), date(2027, 12, 31), ["FY2027", "FY2028"]),
        (Grain.HORIZON, date(2027, 1, 1), date(2028, 12, 31), ["Jan 2027 – Dec 2028"]),
    ],
)
def test_period_labels_at_each_grain_with_an_april_fiscal_year(grain, start, end, labels):
    first, last = domain.align_range(grain, start, end)
    assert [column.label for column in domain.periods(grain, first, last, fiscal_year_start_month=4)] == labels


def test_a_week_clipped_by_the_range_is_marked_partial():
    columns = domain.periods(Grain.WEEK, date(2027, 1, 1), date(2027, 1, 31), fiscal_year_start_month=1)

    assert [(column.start.day, column.end.day, column.partial) for column in columns] == [
        (1, 3, True),
        (4, 10, False),
        (11, 17, False),
        (18, 24, False),
        (25, 31, False),
    ]


def test_too_many_columns_and_reversed_ranges_are_refused_with_the_way_out():
    with pytest.raises(ApplicationError, match="at most 120 fit a table") as too_many:
        domain.periods(Grain.DAY, date(2027, 1, 1), date(2027, 6, 30), fiscal_year_start_month=1)
    assert too_many.value.field == "grain"
    assert "181 day columns" in too_many.value.message and "2027" in too_many.value.message  # the range the defaults made
    with pytest.raises(ApplicationError, match="swap the dates") as reversed_range:
        domain.periods(Grain.MONTH, date(2027, 3, 1), date(2027, 1, 31), fiscal_year_start_month=1)
    assert reversed_range.value.field == "to"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2027, 3, 15), (date(2027, 1, 1), date(2027, 3, 15))),  # inside the horizon: plan year to date
        (date(2026, 11, 26), (date(2027, 1, 1), date(2028, 12, 31))),  # before it: the whole horizon
        (date(2029, 2, 1), (date(2027, 1, 1), date(2028, 12, 31))),  # after it: the whole horizon
    ],
)
def test_default_range(as_of, expected):
    assert domain.default_range(as_of, 1, date(2027, 1, 1), 24) == expected


def test_default_range_starts_no_earlier_than_the_plan_and_falls_back_to_the_fiscal_year():
    assert domain.default_range(date(2027, 5, 10), 4, date(2027, 6, 1), 24) == (date(2027, 6, 1), date(2029, 5, 31))
    assert domain.default_range(date(2027, 8, 10), 4, date(2027, 6, 1), 24) == (date(2027, 6, 1), date(2027, 8, 10))
    assert domain.default_range(date(2027, 5, 10), 4) == (date(2027, 4, 1), date(2027, 5, 10))


def test_year_and_horizon_to_date():
    assert domain.fiscal_year_to_date(date(2027, 2, 10), 4) == (date(2026, 4, 1), date(2027, 2, 10))
    assert domain.horizon_to_date(date(2027, 1, 1), 24, date(2027, 6, 30)) == (date(2027, 1, 1), date(2027, 6, 30))
    assert domain.horizon_to_date(date(2027, 1, 1), 24, date(2030, 1, 1)) == (date(2027, 1, 1), date(2028, 12, 31))
    assert domain.horizon_to_date(date(2027, 1, 1), 24, date(2026, 1, 1)) == (date(2027, 1, 1), date(2027, 1, 1))


# --- attainment, pace, projection ------------------------------------------------------------------

MARCH_2027 = (date(2027, 3, 1), date(2027, 3, 31))  # 23 business days


@pytest.mark.parametrize(
    ("actual", "plan", "as_of", "attainment", "pace", "projection"),
    [
        # before the period: nothing elapsed, pace unknown, projection is the plan
        (0, 230_000, date(2027, 2, 28), Decimal(0), None, 230_000),
        # after 10 of 23 business days with 100,000 of 230,000: exactly on pace
        (100_000, 230_000, date(2027, 3, 12), Decimal(100_000) / 230_000, Decimal(1), 230_000),
        # the weekend after does not move time on: still 10 of 23 days
        (100_000, 230_000, date(2027, 3, 14), Decimal(100_000) / 230_000, Decimal(1), 230_000),
        # half the plan after 10 days: ahead of pace, projected above plan (rounded half-even to the cent)
        (115_000, 230_000, date(2027, 3, 12), Decimal("0.5"), Decimal("1.15"), 264_500),
        # a period that is over: pace is attainment, projection is the actual
        (207_000, 230_000, date(2027, 4, 2), Decimal("0.9"), Decimal("0.9"), 207_000),
        # no plan: no attainment or pace, projection still from the run rate
        (50_000, 0, date(2027, 3, 12), None, None, 115_000),
        (50_000, None, date(2027, 3, 12), None, None, 115_000),
        # negative actual (credit notes): projected negative too
        (-10_000, 230_000, date(2027, 3, 12), Decimal(-10_000) / 230_000, Decimal(-10_000) / 230_000 / (Decimal(10) / 23), -23_000),
    ],
)
def test_attainment_pace_and_projection(actual, plan, as_of, attainment, pace, projection):
    start, end = MARCH_2027
    figures = Figures.of(plan_minor=plan, actual_minor=actual, start=start, end=end, as_of=as_of, currency="EUR")

    assert figures.attainment == attainment
    assert figures.pace == pace
    assert figures.projection_minor == projection
    assert figures.variance_minor == (None if plan is None else actual - plan)


def test_projection_rounds_half_even_at_the_minor_unit():
    # 1 cent after 2 of 23 days: 11.5 cents → 12 (half to even); 3 cents: 34.5 → 34.
    assert domain.projection(1, 100, date(2027, 3, 1), date(2027, 3, 31), date(2027, 3, 2), "EUR") == 12
    assert domain.projection(3, 100, date(2027, 3, 1), date(2027, 3, 31), date(2027, 3, 2), "EUR") == 34


def test_elapsed_share_of_a_weekend_only_period_counts_calendar_days():
    saturday, sunday = date(2027, 1, 2), date(2027, 1, 3)
    assert domain.elapsed_share(saturday, sunday, saturday) == Decimal("0.5")


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    length=st.integers(min_value=0, max_value=400),
    first=st.integers(min_value=-5, max_value=410),
    second=st.integers(min_value=-5, max_value=410),
)
def test_elapsed_share_is_bounded_and_monotone(start, length, first, second):
    end = start + timedelta(days=length)
    early, late = sorted((start + timedelta(days=first), start + timedelta(days=second)))

    early_share = domain.elapsed_share(start, end, early)
    late_share = domain.elapsed_share(start, end, late)

    assert Decimal(0) <= early_share <= late_share <= Decimal(1)


# --- plan split to rows ----------------------------------------------------------------------------

JAN, FEB = date(2027, 1, 1), date(2027, 2, 1)
NORTH, SOUTH, ACME, GLOBEX = 1, 2, 10, 11


def test_the_plan_splits_by_a_dimension_every_bucket_fixes():
    facts = [
        PlanFact(JAN, 100, region=NORTH, motion="new"),
        PlanFact(JAN, 50, region=NORTH, motion="renewal"),
        PlanFact(FEB, 70, region=SOUTH, motion="new"),
    ]

    by_region = domain.split_plan(facts, filters={}, rows="region")
    north_new = domain.split_plan(facts, filters={"region": NORTH}, rows="motion")

    assert by_region.total == {JAN: [100, 50], FEB: [70]}
    assert by_region.row(NORTH, "region") == {JAN: [100, 50]}
    assert by_region.row(SOUTH, "region") == {FEB: [70]}
    assert by_region.row(99, "region") == {}  # a region the plan gives nothing
    assert north_new.total == {JAN: [100, 50]}
    assert north_new.row("expansion", "motion") == {}


def test_rows_the_plan_does_not_split_are_unknown_and_so_is_a_filter_it_does_not_fix():
    facts = [PlanFact(JAN, 100, region=NORTH), PlanFact(JAN, 50, region=SOUTH)]

    by_product = domain.split_plan(facts, filters={}, rows="product_line")
    filtered = domain.split_plan(facts, filters={"motion": "new"}, rows="region")

    assert by_product.total == {JAN: [100, 50]}
    assert by_product.row(5, "product_line") is None
    assert filtered.total is None
    assert filtered.row(NORTH, "region") is None


def test_buckets_without_a_customer_are_all_other_customers():
    facts = [PlanFact(JAN, 30, customer=ACME), PlanFact(JAN, 70)]

    by_customer = domain.split_plan(facts, filters={}, rows="customer")
    named = domain.split_plan(facts, filters={"customer": ACME}, rows="motion")
    unnamed = domain.split_plan(facts, filters={"customer": GLOBEX}, rows=None)

    assert by_customer.row(ACME, "customer") == {JAN: [30]}
    assert by_customer.row(GLOBEX, "customer") is None
    assert named.total == {JAN: [30]}
    assert unnamed.total is None


def test_org_rows_come_from_their_own_facts():
    total = [PlanFact(JAN, 100, region=NORTH)]
    quotas = [
        PlanFact(JAN, 60, region=NORTH, person=5),
        PlanFact(JAN, 40, region=NORTH, person=6),
        PlanFact(JAN, 9, region=SOUTH, person=6),
    ]

    split = domain.split_plan(total, filters={"region": NORTH}, rows="org", row_facts=quotas)

    assert split.total == {JAN: [100]}
    assert split.row(5, "org") == {JAN: [60]}
    assert split.row(6, "org") == {JAN: [40]}


def test_zero_amounts_never_make_a_split_unknown():
    facts = [PlanFact(JAN, 100, region=NORTH, product_line=3), PlanFact(JAN, 0, region=SOUTH)]

    assert domain.split_plan(facts, filters={}, rows="product_line").row(3, "product_line") == {JAN: [100]}

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equipoise.core.errors import ApplicationError
from equipoise.core.periods import (
    add_months,
    business_days,
    business_days_in_month,
    fiscal_year_of,
    month_end,
    month_range,
    months_between,
    parse_month,
)


def test_add_months_crosses_years_both_ways():
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert add_months(date(2027, 1, 1), -1) == date(2026, 12, 1)
    assert month_range(date(2026, 12, 15), 3) == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(min_value=-600, max_value=600))
def test_months_between_inverts_add_months(day, count):
    assert months_between(day, add_months(day.replace(day=1), count)) == count


@pytest.mark.parametrize(
    ("month", "start_month", "label", "start"),
    [
        (date(2027, 3, 1), 1, "FY2027", date(2027, 1, 1)),
        (date(2027, 3, 1), 4, "FY2027", date(2026, 4, 1)),
        (date(2027, 4, 1), 4, "FY2028", date(2027, 4, 1)),
        (date(2027, 12, 1), 7, "FY2028", date(2027, 7, 1)),
    ],
)
def test_fiscal_year_is_named_by_the_year_it_ends(month, start_month, label, start):
    year = fiscal_year_of(month, start_month)
    assert (year.label, year.start) == (label, start)


def test_business_days_count_monday_to_friday():
    assert business_days(date(2026, 11, 23), date(2026, 11, 29)) == 5  # Mon..Sun
    assert business_days(date(2026, 11, 28), date(2026, 11, 29)) == 0  # weekend
    assert business_days_in_month(date(2027, 2, 1)) == 20
    assert month_end(date(2028, 2, 1)) == date(2028, 2, 29)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2050, 1, 1)), st.integers(min_value=0, max_value=400))
def test_business_days_match_a_day_by_day_count(start, length):
    from datetime import timedelta

    end = start + timedelta(days=length)
    expected = sum(1 for offset in range(length + 1) if (start + timedelta(days=offset)).weekday() < 5)
    assert business_days(start, end) == expected


def test_parse_month_says_how_to_write_it():
    assert parse_month("2027-03") == date(2027, 3, 1)
    with pytest.raises(ApplicationError, match="YYYY-MM") as error:
        parse_month("March", field="start_month")
    assert error.value.field == "start_month"

"""Retention against the plan's objectives (pure): which periods they judge, and how, ended or in progress."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equipoise.core.periods import add_months
from equipoise.results.retention import Ratio, RetentionGrain, period_containing
from equipoise.results.retention_objectives import ObjectiveFit, ObjectiveStatus, objective_check, objective_fit, plan_covers

PLAN_START = date(2026, 1, 1)  # a 24-month plan: Jan 2026 – Dec 2027


def year(first_month, fiscal_start=1):
    return period_containing(RetentionGrain.YEAR, first_month, fiscal_start)


def test_objectives_compare_exactly_in_basis_points():
    assert objective_check(Ratio(9_000, 10_000), 9_000, higher_is_better=True).met is True
    assert objective_check(Ratio(8_999, 10_000), 9_000, higher_is_better=True).met is False
    assert objective_check(Ratio(1, 3), 3_333, higher_is_better=True).met is True
    assert objective_check(Ratio(1, 3), 3_334, higher_is_better=True).met is False
    assert objective_check(Ratio(5, 100), 500, higher_is_better=False).met is True
    assert objective_check(Ratio(6, 100), 500, higher_is_better=False).met is False
    assert objective_check(None, 500, higher_is_better=False).met is None
    assert objective_check(Ratio(1, 2), None, higher_is_better=True).met is None


@pytest.mark.parametrize(
    ("ratio", "higher_is_better", "final", "status"),
    [
        (Ratio(93, 100), True, True, ObjectiveStatus.MET),
        (Ratio(91, 100), True, True, ObjectiveStatus.MISSED),
        (Ratio(93, 100), True, False, ObjectiveStatus.ON_TRACK),
        (Ratio(91, 100), True, False, ObjectiveStatus.OFF_TRACK),
        (Ratio(7, 100), False, True, ObjectiveStatus.MET),  # logo churn: at most 8%
        (Ratio(9, 100), False, True, ObjectiveStatus.MISSED),
        (Ratio(9, 100), False, False, ObjectiveStatus.OFF_TRACK),
    ],
)
def test_an_ended_period_is_met_or_missed_and_one_in_progress_only_so_far(ratio, higher_is_better, final, status):
    objective_bp = 9_200 if higher_is_better else 800
    check = objective_check(ratio, objective_bp, higher_is_better=higher_is_better, final=final)
    assert (check.status, check.final) == (status, final)


def test_an_objective_that_does_not_apply_judges_nothing_but_is_still_named():
    check = objective_check(Ratio(1, 2), 9_200, higher_is_better=True, applies=False)
    assert (check.objective_bp, check.met, check.status, check.applies) == (9_200, None, None, False)


@pytest.mark.parametrize(
    ("period", "plan_start", "fit"),
    [
        (year(date(2026, 1, 1)), PLAN_START, ObjectiveFit.APPLIES),
        (year(date(2027, 6, 1)), PLAN_START, ObjectiveFit.APPLIES),
        (year(date(2020, 1, 1)), PLAN_START, ObjectiveFit.OUTSIDE_PLAN),
        (year(date(2025, 1, 1)), PLAN_START, ObjectiveFit.OUTSIDE_PLAN),
        (year(date(2028, 1, 1)), PLAN_START, ObjectiveFit.OUTSIDE_PLAN),
        (year(date(2026, 1, 1)), date(2026, 4, 1), ObjectiveFit.OUTSIDE_PLAN),  # Jan–Mar 2026 are not the plan's
        (year(date(2026, 6, 1), fiscal_start=4), date(2026, 4, 1), ObjectiveFit.APPLIES),  # FY Apr 2026 – Mar 2027
        (period_containing(RetentionGrain.MONTH, date(2026, 5, 1), 1), PLAN_START, ObjectiveFit.NOT_A_FISCAL_YEAR),
        (period_containing(RetentionGrain.QUARTER, date(2026, 5, 1), 1), PLAN_START, ObjectiveFit.NOT_A_FISCAL_YEAR),
        (year(date(2026, 1, 1)), None, ObjectiveFit.NO_PLAN),
    ],
)
def test_objectives_judge_only_fiscal_years_the_plan_covers(period, plan_start, fit):
    assert objective_fit(period, plan_start, 24 if plan_start else None) == fit


@given(
    first=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 1)),
    horizon=st.integers(min_value=12, max_value=36),
    day=st.dates(min_value=date(2018, 1, 1), max_value=date(2033, 12, 31)),
    fiscal_start=st.integers(min_value=1, max_value=12),
)
def test_a_covered_period_lies_inside_the_plan_months(first, horizon, day, fiscal_start):
    period = year(day, fiscal_start)
    plan_months = {add_months(first.replace(day=1), index) for index in range(horizon)}
    period_months = {add_months(period.start, index) for index in range(12)}
    assert plan_covers(period, first, horizon) == (period_months <= plan_months)

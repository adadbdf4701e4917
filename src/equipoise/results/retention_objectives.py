"""Retention against the approved plan's objectives (pure: no ORM, no I/O).

The plan states GRR and NRR objectives (at least) and a maximum logo churn, in basis points. They
are **annual** rates for the months the plan covers, so a period is judged against them only when

- it is a fiscal year: a month's GRR of 99% says nothing about a 92% annual objective, and scaling
  an annual rate down to a month would assume churn spreads evenly over the year (it does not:
  renewals bunch at contract anniversaries), so months and quarters are not judged at all; and
- the plan covers every month of it: a plan for FY2026–FY2027 says nothing about FY2020.

A fiscal year still in progress is judged *so far*: its figures are to date, and churn and
downgrades can still come before it ends, so the judgement is provisional (``final`` is False).
Comparisons are exact, in integers (:meth:`.retention.Ratio.at_least_bp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from equipoise.core.periods import add_months, month_start
from equipoise.results.retention import Ratio, RetentionGrain, RetentionPeriod


class ObjectiveFit(StrEnum):
    """Whether the plan's objectives judge a period, and if not, why not."""

    APPLIES = "applies"
    NO_PLAN = "no_plan"  # no approved plan
    NOT_A_FISCAL_YEAR = "not_a_fiscal_year"  # a month or a quarter: the objectives are annual
    OUTSIDE_PLAN = "outside_plan"  # a fiscal year the approved plan does not cover


def plan_covers(period: RetentionPeriod, plan_first_month: date, plan_horizon_months: int) -> bool:
    """True when every month of ``period`` is one of the plan's ``plan_horizon_months`` months."""
    plan_last_month = add_months(month_start(plan_first_month), plan_horizon_months - 1)
    return month_start(plan_first_month) <= period.start and month_start(period.end) <= plan_last_month


def objective_fit(period: RetentionPeriod, plan_first_month: date | None, plan_horizon_months: int | None) -> ObjectiveFit:
    """Whether an approved plan starting ``plan_first_month`` (None: no plan) judges ``period``."""
    if plan_first_month is None or plan_horizon_months is None:
        return ObjectiveFit.NO_PLAN
    if period.grain != RetentionGrain.YEAR:
        return ObjectiveFit.NOT_A_FISCAL_YEAR
    if not plan_covers(period, plan_first_month, plan_horizon_months):
        return ObjectiveFit.OUTSIDE_PLAN
    return ObjectiveFit.APPLIES


class ObjectiveStatus(StrEnum):
    MET = "met"  # the period has ended and the figure meets the objective
    MISSED = "missed"
    ON_TRACK = "on_track"  # in progress: meets it so far (not final)
    OFF_TRACK = "off_track"  # in progress: does not meet it so far (not final)


@dataclass(frozen=True, slots=True)
class ObjectiveCheck:
    """A figure against its objective.

    ``met`` compares the figure (to date, while the period is in progress) with the objective; it is
    None when either is missing or the objective does not apply to the period. ``final`` is False
    while the period is in progress: ``met`` is then only how things stand so far."""

    objective_bp: int | None
    met: bool | None
    final: bool = True
    applies: bool = True

    @property
    def status(self) -> ObjectiveStatus | None:
        if self.met is None:
            return None
        if self.final:
            return ObjectiveStatus.MET if self.met else ObjectiveStatus.MISSED
        return ObjectiveStatus.ON_TRACK if self.met else ObjectiveStatus.OFF_TRACK


def objective_check(
    ratio: Ratio | None, objective_bp: int | None, *, higher_is_better: bool, final: bool = True, applies: bool = True
) -> ObjectiveCheck:
    """GRR and NRR meet their objective at or above it; logo churn meets its maximum at or below it.

    ``final``: the period has ended. ``applies``: the objective judges this period (see
    :func:`objective_fit`); when it does not, nothing is judged (``met`` None)."""
    if ratio is None or objective_bp is None or not applies:
        return ObjectiveCheck(objective_bp, None, final, applies)
    met = ratio.at_least_bp(objective_bp) if higher_is_better else ratio.at_most_bp(objective_bp)
    return ObjectiveCheck(objective_bp, met, final, applies)

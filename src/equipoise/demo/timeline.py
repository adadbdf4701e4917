"""Where the demo sits in time: everything is anchored to one reference date, ``as_of``.

The plans start at the first month of the fiscal year containing ``as_of``, so the plan's current
months are live; the history is the 24 months before the plan starts; results run from the
start of the history up to and including ``as_of``, never after. The same seed and ``as_of``
always give the same company: the wall clock is read once, by the ``demo`` command, and only
to pick the default ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from equipoise.core.periods import add_months, fiscal_year_of, month_range, month_start, months_between
from equipoise.demo import catalog


@dataclass(frozen=True, slots=True)
class DemoTimeline:
    as_of: date
    plan_start: date  # first month of the fiscal year containing as_of
    history_start: date  # first month of the history, HISTORY_MONTHS before the plan

    @property
    def history_end(self) -> date:
        """The last month of history: the month before the plan starts."""
        return add_months(self.plan_start, -1)

    @property
    def history_months(self) -> list[date]:
        return month_range(self.history_start, catalog.HISTORY_MONTHS)

    @property
    def plan_months(self) -> list[date]:
        return month_range(self.plan_start, catalog.PLAN_HORIZON_MONTHS)

    @property
    def plan_months_to_date(self) -> list[date]:
        """The plan months that have started by ``as_of`` (the current one included)."""
        return month_range(self.plan_start, months_between(self.plan_start, self.as_of) + 1)

    @property
    def commit_months(self) -> list[date]:
        """Months with commits: the plan so far and the next ``COMMIT_MONTHS_AHEAD``, at least ``COMMIT_MONTHS``."""
        count = max(catalog.COMMIT_MONTHS, months_between(self.plan_start, self.as_of) + 1 + catalog.COMMIT_MONTHS_AHEAD)
        return month_range(self.plan_start, min(count, catalog.PLAN_HORIZON_MONTHS))

    def months_before_plan(self, count: int) -> date:
        return add_months(self.plan_start, -count)

    def plan_label(self) -> str:
        """``FY2027–FY2028``: the fiscal years the 24-month plan covers."""
        first = fiscal_year_of(self.plan_start, catalog.FISCAL_YEAR_START_MONTH)
        last = fiscal_year_of(add_months(self.plan_start, catalog.PLAN_HORIZON_MONTHS - 1), catalog.FISCAL_YEAR_START_MONTH)
        return first.label if first == last else f"{first.label}–{last.label}"


def demo_timeline(as_of: date) -> DemoTimeline:
    plan_start = fiscal_year_of(month_start(as_of), catalog.FISCAL_YEAR_START_MONTH).start
    return DemoTimeline(as_of=as_of, plan_start=plan_start, history_start=add_months(plan_start, -catalog.HISTORY_MONTHS))

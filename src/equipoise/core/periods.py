"""Business periods: months, fiscal years, ISO weeks, business days.

A month is represented by the ``date`` of its first day. All period arithmetic in Equipoise goes
through these functions, never ad-hoc ``timedelta`` maths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from equipoise.core.errors import ApplicationError


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Whole months from ``start``'s month to ``end``'s month (end exclusive of day)."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def month_range(start: date, count: int) -> list[date]:
    first = month_start(start)
    return [add_months(first, offset) for offset in range(count)]


def month_end(month: date) -> date:
    return add_months(month_start(month), 1) - timedelta(days=1)


def parse_month(text: str, *, field: str = "month") -> date:
    """Parse ``YYYY-MM`` (or ``YYYY-MM-DD``, taking its month)."""
    raw = text.strip()
    try:
        if len(raw) == 7:
            year, month = raw.split("-")
            return date(int(year), int(month), 1)
        return month_start(date.fromisoformat(raw))
    except ValueError as error:
        raise ApplicationError(f"{text!r} is not a month: write it as YYYY-MM, for example 2027-01.", field=field) from error


@dataclass(frozen=True, slots=True)
class FiscalYear:
    """A fiscal year, named by the calendar year in which it ends (FY2027 ends in 2027)."""

    start: date
    label: str

    @property
    def end(self) -> date:
        return add_months(self.start, 11)


def fiscal_year_of(month: date, start_month: int) -> FiscalYear:
    if not 1 <= start_month <= 12:
        raise ApplicationError("The fiscal year must start in a month from 1 to 12.", field="fiscal_year_start_month")
    start_year = month.year if month.month >= start_month else month.year - 1
    start = date(start_year, start_month, 1)
    end_year = start_year if start_month == 1 else start_year + 1
    return FiscalYear(start=start, label=f"FY{end_year}")


def business_days(start: date, end: date) -> int:
    """Monday-to-Friday days from ``start`` to ``end``, both inclusive."""
    if end < start:
        return 0
    total_days = (end - start).days + 1
    full_weeks, extra = divmod(total_days, 7)
    count = full_weeks * 5
    weekday = start.weekday()
    for offset in range(extra):
        if (weekday + offset) % 7 < 5:
            count += 1
    return count


def business_days_in_month(month: date) -> int:
    return business_days(month_start(month), month_end(month))


def iso_week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())

"""How the demo's customers buy and its teams sell: segment profiles, team performance, and the
calendar of a 12-month term. Plain constants and small pure functions; :mod:`.sales` runs them.

Probabilities are in basis points and amounts in whole euros; the figures are tuned so that the
demo company looks like a healthy recurring business: gross revenue retention about 92%, net
about 106%, 7–10% of customers lost a year, bookings growing about 1% a month.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from equipoise.core.periods import add_months, month_end, month_start
from equipoise.demo import catalog

BP = 10_000
EURO = 100  # minor units


@dataclass(frozen=True, slots=True)
class SegmentProfile:
    """How a kind of customer buys. Probabilities in basis points; amounts in whole euros."""

    recurring_pct: int  # customers with recurring contracts; the others buy one-off projects
    won_pct: int  # customers won during the history and plan so far (the others were customers before)
    contracts: tuple[int, int]  # products under contract when the history starts
    annual_euros: tuple[int, int]  # annual contract value of one product
    monthly_billing_pct: int
    logo_churn_bp: int  # a year: the customer leaves at its first contract's anniversary
    drop_bp: int  # at a renewal: one product lost while the customer stays
    downgrade_bp: int  # at a renewal
    upgrade_bp: int  # at a renewal
    cross_sell_bp: int  # a year: another product bought
    one_offs_bp: int  # a year, one-off projects bought by a customer without contracts (10,000 = one)
    one_off_euros: tuple[int, int]
    split_pct: int  # new and expansion bookings credited to two sellers


SEGMENTS = {
    "named": SegmentProfile(100, 0, (3, 5), (50_000, 200_000), 10, 0, 300, 800, 3_800, 5_000, 0, (0, 0), 30),
    "enterprise": SegmentProfile(92, 28, (2, 4), (25_000, 150_000), 20, 350, 400, 1_100, 3_500, 3_800, 40_000, (6_000, 60_000), 15),
    "mid_market": SegmentProfile(85, 34, (1, 2), (8_000, 40_000), 45, 700, 300, 1_100, 3_300, 1_800, 30_000, (1_500, 15_000), 5),
    "small_business": SegmentProfile(70, 40, (1, 1), (1_800, 9_600), 75, 1_150, 0, 1_000, 2_700, 800, 20_000, (400, 4_000), 0),
}
LAPSE_BP_PER_MONTH = 100  # a customer without contracts stops buying
CREDIT_NOTE_BP = 100  # of invoices
RENEWAL_LEAD_DAYS = 10


@dataclass(frozen=True, slots=True)
class Performance:
    """How a team sells in the current plan's months, against its history (10,000 = as before).
    :mod:`.calibration` sets it per team so that the team lands near its target attainment."""

    win_bp: int = BP  # of the new customers it would have won, those it wins (at most 10,000)
    expansion_bp: int = BP  # upgrades and cross-sells
    churn_bp: int = BP  # customers and products lost, downgrades


AS_BEFORE = Performance()


def growth_bp(offset: int) -> int:
    """About +1% a month, compounded, as basis points of the first month."""
    return int((Decimal(BP) * Decimal("1.01") ** offset).quantize(Decimal(1)))


def season_bp(month: date) -> int:
    return catalog.SEASONALITY_BP[month.month - 1]


def one_year_later(day: date) -> date:
    """The last day of a 12-month term starting on ``day``."""
    return add_months(month_start(day), 12) + timedelta(days=day.day - 1) - timedelta(days=1)


def monthly_on(start: date, offset: int) -> date:
    """The same day of the month ``offset`` months after ``start`` (the month's last day if shorter)."""
    month = add_months(month_start(start), offset)
    return min(month + timedelta(days=start.day - 1), month_end(month))


def skewed(rng: random.Random, bounds: tuple[int, int]) -> int:
    """A whole-euro amount within bounds, small ones more likely (quadratic skew)."""
    low, high = bounds
    draw = rng.randint(0, 1_000)
    return low + (high - low) * draw * draw // 1_000_000

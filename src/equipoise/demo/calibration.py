"""How each team sells in the current plan's months, chosen so that plan and actual part ways on
purpose: the first team (the ``manager`` login's) clearly behind, the others a little above or
below their plan, whatever ``as_of`` and however the random history turned out.

The company is simulated once with every team selling as before. From that history come the
plan's buckets and, through the planning app's own phasing (:mod:`equipoise.planning.domain`),
each bucket's plan months; a team's plan to date is its share of each bucket's booked history
(what allocation by history gives it) of the bucket's plan up to ``as_of``. One knob per team
then moves its bookings to date towards its target: more or fewer upgrades, cross-sells and won
customers, and less or more churn. Its effect is taken as linear, estimated from what the team
booked, expanded and lost in the first run; the second run draws the same random numbers, so
the shift lands close to the estimate and the history is exactly the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from equipoise.core.periods import business_days, month_end, month_start
from equipoise.demo import catalog
from equipoise.demo.buying import BP, Performance
from equipoise.demo.revenue import BOOKED_KINDS, bucket_key, seasonality_weights
from equipoise.demo.sales import CHURN, Sales
from equipoise.demo.spec import BucketSpec, Organisation
from equipoise.demo.timeline import DemoTimeline
from equipoise.planning import domain as planning

# Bookings to date against plan to date, per team in team order (repeating).
TEAM_TARGETS_BP = (7_800, 10_600, 9_600, 10_400, 9_900)
# A knob of k changes upgrades and cross-sells by k, won customers by k (less only), churn by -2k.
_KNOB_BOUNDS_BP = (-7_500, 4_500)


def plan_to_date(buckets: Sequence[BucketSpec], sales: Sales, timeline: DemoTimeline) -> dict[tuple[str | None, ...], int]:
    """Each bucket's top-down plan from the plan start to ``as_of`` (the current month pro rata by business days)."""
    history_totals: dict[date, int] = defaultdict(int)
    for line in sales.results:
        if line.kind in BOOKED_KINDS and timeline.history_start <= line.occurred_on < timeline.plan_start:
            history_totals[month_start(line.occurred_on)] += line.amount_minor
    weights = seasonality_weights(history_totals)
    current = month_start(timeline.as_of)
    elapsed_num = business_days(current, timeline.as_of)
    elapsed_den = business_days(current, month_end(current)) or 1
    to_date: dict[tuple[str | None, ...], int] = {}
    for bucket in buckets:
        months = planning.phase(
            total_minor=bucket.top_down_minor,
            start_month=timeline.plan_start,
            horizon_months=catalog.PLAN_HORIZON_MONTHS,
            weights=weights,
            growth_bp_per_month=catalog.PLAN_GROWTH_BP_PER_MONTH,
        )
        total = 0
        for month, amount in zip(timeline.plan_months, months, strict=True):
            if month < current:
                total += amount
            elif month == current:
                total += amount * elapsed_num // elapsed_den
        to_date[bucket.key] = total
    return to_date


@dataclass
class Standing:
    """A team in the plan's months to date: its plan, bookings, and what the knob acts on."""

    plan_minor: int = 0
    booked_minor: int = 0
    movable_minor: int = 0  # expansion booked plus twice the churn lost
    won_minor: int = 0  # new customers booked

    @property
    def attainment_bp(self) -> int:
        return self.booked_minor * BP // self.plan_minor if self.plan_minor else 0


def team_standings(sales: Sales, *, buckets: Sequence[BucketSpec], timeline: DemoTimeline, org: Organisation) -> dict[str, Standing]:
    """Each team's (manager key's) standing, the plan split between teams by their share of each bucket's booked history."""
    team_of = {person.key: (person.manager_key if person.carries_quota and person.manager_key else person.key) for person in org.people}
    named = frozenset(bucket.customer_code for bucket in buckets if bucket.customer_code)
    history: dict[tuple[str | None, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    standings: dict[str, Standing] = defaultdict(Standing)
    for line in sales.results:
        in_plan = line.occurred_on >= timeline.plan_start
        for seller, share in line.credits:
            team = team_of[seller]
            amount = line.amount_minor * share // BP
            if line.kind in BOOKED_KINDS:
                if not in_plan:
                    history[bucket_key(line, named_buckets=named)][team] += amount
                    continue
                standings[team].booked_minor += amount
                if line.motion == "expansion":
                    standings[team].movable_minor += amount
                elif line.motion == "new":
                    standings[team].won_minor += amount
            elif line.kind == CHURN and in_plan:
                standings[team].movable_minor -= 2 * amount  # churn lines are negative
    for key, amount in plan_to_date(buckets, sales, timeline).items():
        shares = history.get(key, {})
        total = sum(shares.values())
        for team, part in shares.items():
            standings[team].plan_minor += amount * part // total
    return dict(standings)


def team_performance(neutral: Sales, *, buckets: Sequence[BucketSpec], timeline: DemoTimeline, org: Organisation) -> dict[str, Performance]:
    """The knob per team (manager key) that moves the neutral run towards :data:`TEAM_TARGETS_BP`."""
    standings = team_standings(neutral, buckets=buckets, timeline=timeline, org=org)
    teams = [person.key for person in org.people if person.key.startswith("manager-")]
    performance: dict[str, Performance] = {}
    for index, team in enumerate(teams):
        standing = standings.get(team)
        if standing is None or not standing.plan_minor:
            continue
        gap = standing.plan_minor * TEAM_TARGETS_BP[index % len(TEAM_TARGETS_BP)] // BP - standing.booked_minor
        sensitivity = standing.movable_minor + (standing.won_minor if gap < 0 else 0)
        knob_bp = min(max(gap * BP // sensitivity, _KNOB_BOUNDS_BP[0]), _KNOB_BOUNDS_BP[1]) if sensitivity > 0 else 0
        performance[team] = Performance(win_bp=min(BP, BP + knob_bp), expansion_bp=BP + knob_bp, churn_bp=BP - 2 * knob_bp)
    return performance

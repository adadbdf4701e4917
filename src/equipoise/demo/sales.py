"""The demo's sales as plain data: contracts, renewals, churn, one-off purchases, and the result
lines all of it produces, from the start of the history up to ``as_of``.

Each customer lives one timeline:

- most hold recurring contracts: 12-month terms of one product application, billed annually or
  monthly. Customers already there when the history starts hold terms that began in the year
  before, in months that follow the seasonality, so renewals inherit the Q4 peak and August dip;
- at a term's end the contract renews (flat, downgraded, or upgraded with the uplift booked as
  expansion) or is lost, with a churn line on its end date. A customer weighs once a year, at
  the first term end of its year, whether it leaves altogether; one that stays may still drop a
  product. Renewals are booked in the ten days before the term ends;
- customers buy further products (cross-sell, booked as expansion), and new customers are won
  through the whole period (booked as new), about 1% more each month and by season;
- the others buy one-off projects now and then, and some stop buying;
- annual contracts are invoiced when a term starts, monthly ones every month, one-off purchases
  a few days after booking; about one invoice in a hundred gets a credit note.

In the current plan's months each team sells with its own :class:`~.buying.Performance`, so plan and
actual part ways; the first team (the ``manager`` login's) is clearly behind. Amounts are whole
euros in minor units drawn with integer arithmetic; each customer draws from its own stream
seeded from the company's, so the same seed and ``as_of`` give the same lines and contracts,
with stable external ids in date order.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import NamedTuple

from equipoise.core.periods import add_months, month_end, month_range, month_start, months_between
from equipoise.demo import catalog
from equipoise.demo.buying import (
    AS_BEFORE,
    BP,
    CREDIT_NOTE_BP,
    EURO,
    LAPSE_BP_PER_MONTH,
    RENEWAL_LEAD_DAYS,
    SEGMENTS,
    Performance,
    SegmentProfile,
    growth_bp,
    monthly_on,
    one_year_later,
    season_bp,
    skewed,
)
from equipoise.demo.crediting import Crediting
from equipoise.demo.spec import CustomerSpec, Organisation, TerritorySpec
from equipoise.demo.timeline import DemoTimeline

BOOKING, RENEWAL, INVOICE, CREDIT_NOTE, CHURN = "booking", "renewal", "invoice", "credit_note", "churn"
ANNUAL, MONTHLY = "annual", "monthly"
LINE_PREFIX = "DEMO-"
INVOICE_STREAM = 0x1A2B3C4D  # a customer's invoices draw from a stream of their own, seeded from its own
CONTRACT_PREFIX = "DEMO-CT-"


class ResultSpec(NamedTuple):
    """One result line. ``amount_minor`` is signed (credit notes and churn negative); ``credits``
    are (seller key, share in basis points) summing to 10,000."""

    external_id: str
    kind: str
    occurred_on: date
    amount_minor: int
    customer_code: str
    country_code: str
    application_code: str
    motion: str
    credits: tuple[tuple[str, int], ...]


class ContractSpec(NamedTuple):
    """One contract term; ``amount_minor`` per billing period; ``renews`` the external id of the term it renews."""

    external_id: str
    customer_code: str
    seller_key: str
    application_code: str
    starts_on: date
    ends_on: date
    billing_period: str
    amount_minor: int
    renews: str | None


@dataclass(frozen=True)
class Sales:
    results: tuple[ResultSpec, ...]
    contracts: tuple[ContractSpec, ...]
    # Customers won by sellers hired since the plan started: customer code → their new owner.
    owners: dict[str, str]


@dataclass(slots=True)
class _Term:
    number: int
    customer: CustomerSpec
    application: catalog.ApplicationInfo
    starts_on: date
    monthly: bool
    annual_minor: int
    motion: str  # how the term was booked: new, expansion (cross-sell) or renewal
    seller_key: str
    renews: int | None = None
    ends_on: date = field(init=False)

    def __post_init__(self) -> None:
        self.ends_on = one_year_later(self.starts_on)

    @property
    def amount_minor(self) -> int:
        return self.annual_minor // 12 if self.monthly else self.annual_minor


class _Line(NamedTuple):
    occurred_on: date
    customer_code: str
    sequence: int
    kind: str
    amount_minor: int
    country_code: str
    application_code: str
    motion: str
    credits: tuple[tuple[str, int], ...]


APPLICATIONS = tuple(app for line in catalog.PRODUCT_LINES for app in line.applications)


class _Simulation:
    def __init__(
        self, timeline: DemoTimeline, org: Organisation, territories: Sequence[TerritorySpec], performance: Mapping[str, Performance]
    ) -> None:
        self.timeline = timeline
        self.performance = performance  # by team (manager key), in the plan's months
        self.as_of = timeline.as_of
        self.owners: dict[str, str] = {}
        self.crediting = Crediting(org, territories, owners=self.owners)
        self.lines: list[_Line] = []
        self.terms: list[_Term] = []
        self.days_of: dict[date, list[date]] = {}  # business days of a month up to as_of
        self.window = month_range(timeline.history_start, months_between(timeline.history_start, timeline.as_of) + 1)
        self.win_weights = [season_bp(month) * growth_bp(offset) for offset, month in enumerate(self.window)]
        self.prior_year = month_range(add_months(timeline.history_start, -12), 12)
        # Terms began more often in strong months (squared: renewals carry the season through the years).
        self.prior_weights = [season_bp(month) ** 2 for month in self.prior_year]
        # Recent hires (on the books since shortly before the plan) win some of the new customers in their country.
        since = timeline.months_before_plan(2)
        self.recent_hires = [
            person for person in org.people if person.carries_quota and person.is_active and person.hire_date and person.hire_date >= since
        ]

    # -- helpers ---------------------------------------------------------------------------

    def team_performance(self, customer: CustomerSpec, day: date) -> Performance:
        """How the team credited on ``day`` sells, when it decides on ``day``: as before until the plan starts."""
        if day < self.timeline.plan_start or not self.performance:
            return AS_BEFORE
        return self.performance.get(self.crediting.team(self.crediting.seller_on(customer, day)), AS_BEFORE)

    def day_in(self, rng: random.Random, month: date, *, first: date | None = None) -> date | None:
        """A business day in ``month``, not before ``first`` nor after ``as_of`` (any day if no business day fits)."""
        days = self.days_of.get(month)
        if days is None:
            last = min(month_end(month), self.as_of)
            every = [date.fromordinal(ordinal) for ordinal in range(month.toordinal(), last.toordinal() + 1)]
            days = self.days_of[month] = [day for day in every if day.weekday() < 5] or every
        if first is not None and first > month:
            days = [day for day in days if day >= first] or [
                date.fromordinal(ordinal) for ordinal in range(first.toordinal(), min(month_end(month), self.as_of).toordinal() + 1)
            ]
        return days[rng.randrange(len(days))] if days else None

    def add(
        self,
        rng: random.Random,
        customer: CustomerSpec,
        *,
        kind: str,
        day: date,
        amount_minor: int,
        app: str,
        motion: str,
        split_pct: int = 0,
    ) -> tuple[tuple[str, int], ...]:
        split = rng.randrange(3) if split_pct and rng.randint(1, 100) <= split_pct else None
        credits = self.crediting.credits(customer, day, split=split)
        self.lines.append(_Line(day, customer.code, len(self.lines), kind, amount_minor, customer.country_code, app, motion, credits))
        return credits

    def new_term(
        self,
        customer: CustomerSpec,
        app: catalog.ApplicationInfo,
        starts_on: date,
        monthly: bool,
        annual_minor: int,
        *,
        motion: str,
        seller_key: str,
        renews: int | None = None,
    ) -> _Term:
        term = _Term(len(self.terms), customer, app, starts_on, monthly, annual_minor, motion, seller_key, renews)
        self.terms.append(term)
        return term

    @staticmethod
    def annual_value(rng: random.Random, profile: SegmentProfile, monthly: bool, factor_bp: int = BP) -> int:
        euros = skewed(rng, profile.annual_euros) * factor_bp // BP
        if monthly:
            return max(euros // 12, 10) * 12 * EURO
        return max(euros // 100, 1) * 100 * EURO

    @staticmethod
    def pick_application(rng: random.Random, exclude: set[str]) -> catalog.ApplicationInfo | None:
        options = [app for app in APPLICATIONS if app.code not in exclude]
        if not options:
            return None
        return rng.choices(options, weights=[app.weight for app in options])[0]

    # -- one customer ----------------------------------------------------------------------

    def customer(self, rng: random.Random, customer: CustomerSpec) -> None:
        profile = SEGMENTS["named" if customer.is_named_account else customer.segment]
        recurring = rng.randint(1, 100) <= profile.recurring_pct
        won_on: date | None = None
        if rng.randint(1, 100) <= profile.won_pct:
            month = rng.choices(self.window, weights=self.win_weights)[0]
            won_on = self.day_in(rng, month)
            if won_on is None:
                return
            self.assign_recent_hire(rng, customer, won_on)
            if rng.randint(1, BP) > self.team_performance(customer, won_on).win_bp:
                return  # not won (yet): still a prospect
        if recurring:
            self.recurring(rng, customer, profile, won_on)
        else:
            self.one_offs(rng, customer, profile, won_on)

    def assign_recent_hire(self, rng: random.Random, customer: CustomerSpec, won_on: date) -> None:
        hunters = [
            person.key
            for person in self.recent_hires
            if person.hire_date
            and add_months(month_start(person.hire_date), 1) <= won_on
            and self.crediting.covers(person.key, customer, won_on)
        ]
        if hunters and rng.randint(1, 100) <= 60:
            self.owners[customer.code] = hunters[rng.randrange(len(hunters))]

    def recurring(self, rng: random.Random, customer: CustomerSpec, profile: SegmentProfile, won_on: date | None) -> None:
        timeline = self.timeline
        active: list[_Term] = []
        events: list[tuple[date, int, int]] = []  # (day, order, term number or -1 for a cross-sell)
        order = itertools.count()
        if won_on is None:
            count = rng.randint(*profile.contracts)
            held: set[str] = set()
            for _ in range(count):
                app = self.pick_application(rng, held)
                if app is None:
                    break
                held.add(app.code)
                month = rng.choices(self.prior_year, weights=self.prior_weights)[0]
                starts = month + timedelta(days=rng.randint(1 if month == self.prior_year[0] else 0, 27))
                monthly = rng.randint(1, 100) <= profile.monthly_billing_pct
                term = self.new_term(
                    customer, app, starts, monthly, self.annual_value(rng, profile, monthly), motion=RENEWAL,
                    seller_key=self.crediting.seller_on(customer, max(starts, timeline.history_start)),
                )  # fmt: skip
                active.append(term)
        else:
            first_products = rng.randint(1, 2) if customer.segment == "enterprise" else 1
            held = set()
            for _ in range(first_products):
                app = self.pick_application(rng, held)
                assert app is not None
                held.add(app.code)
                monthly = rng.randint(1, 100) <= profile.monthly_billing_pct
                annual = self.annual_value(rng, profile, monthly)
                credits = self.add(
                    rng, customer, kind=BOOKING, day=won_on, amount_minor=annual, app=app.code, motion="new", split_pct=profile.split_pct
                )
                active.append(self.new_term(customer, app, won_on, monthly, annual, motion="new", seller_key=credits[0][0]))
        for term in active:
            heapq.heappush(events, (term.ends_on, next(order), term.number))
        start_month = month_start(won_on) if won_on else timeline.history_start
        for month in month_range(start_month, months_between(start_month, self.as_of) + 1):
            day = self.day_in(rng, month, first=won_on + timedelta(days=1) if won_on else None)
            chance = profile.cross_sell_bp * season_bp(month) // BP // 12
            if day is not None and rng.randint(1, BP) <= chance * self.team_performance(customer, day).expansion_bp // BP:
                heapq.heappush(events, (day, next(order), -1))
        # The customer weighs leaving once a year: at the first term end after this day.
        decide_from = won_on + timedelta(days=300) if won_on else timeline.history_start
        leaving = False
        while events:
            day, _, number = heapq.heappop(events)
            if day > self.as_of + timedelta(days=RENEWAL_LEAD_DAYS):
                break
            if number < 0:
                if leaving or not active:
                    continue
                app = self.pick_application(rng, {term.application.code for term in active})
                if app is None:
                    continue
                monthly = rng.randint(1, 100) <= profile.monthly_billing_pct
                annual = self.annual_value(rng, profile, monthly, factor_bp=6_000)
                credits = self.add(
                    rng, customer, kind=BOOKING, day=day, amount_minor=annual, app=app.code, motion="expansion", split_pct=profile.split_pct
                )
                term = self.new_term(customer, app, day, monthly, annual, motion="expansion", seller_key=credits[0][0])
                active.append(term)
                heapq.heappush(events, (term.ends_on, next(order), term.number))
                continue
            term = self.terms[number]
            weighs_leaving = term.ends_on >= decide_from
            renewed = self.term_end(rng, customer, profile, term, active, leaving=leaving, weighs_leaving=weighs_leaving)
            if renewed is None:
                continue  # undecided by as_of
            if weighs_leaving:
                decide_from = term.ends_on + timedelta(days=300)
            if isinstance(renewed, _Term):
                active.append(renewed)
                heapq.heappush(events, (renewed.ends_on, next(order), renewed.number))
            elif renewed == "leaving":
                leaving = True

    def term_end(
        self,
        rng: random.Random,
        customer: CustomerSpec,
        profile: SegmentProfile,
        term: _Term,
        active: list[_Term],
        *,
        leaving: bool,
        weighs_leaving: bool,
    ) -> _Term | str | None:
        """Decide a term's end: the renewal term, ``"lost"``, ``"leaving"`` (the customer goes), or
        None when the decision falls after ``as_of``."""
        # Decided when the renewal would be booked, up to three weeks before the term ends: a
        # decision made before the plan starts is the history's, whatever the plan's months bring.
        booked = term.ends_on - timedelta(days=rng.randint(0, RENEWAL_LEAD_DAYS))
        performance = self.team_performance(customer, booked)
        churn_bp = performance.churn_bp
        goes = leaving or (weighs_leaving and rng.randint(1, BP) <= profile.logo_churn_bp * churn_bp // BP)
        dropped = not goes and len(active) > 1 and rng.randint(1, BP) <= profile.drop_bp * churn_bp // BP
        if goes or dropped:
            if term.ends_on > self.as_of:
                return None
            self.add(
                rng, customer, kind=CHURN, day=term.ends_on, amount_minor=-term.annual_minor, app=term.application.code, motion=RENEWAL
            )
            active.remove(term)
            return "leaving" if goes else "lost"
        roll = rng.randint(1, BP)
        downgrade = profile.downgrade_bp * churn_bp // BP
        upgrade = profile.upgrade_bp * performance.expansion_bp // BP
        if roll <= downgrade:
            factor = BP - rng.randint(1_000, 3_500)
        elif roll <= downgrade + upgrade:
            factor = BP + rng.randint(800, 4_500)
        else:
            factor = BP
        if booked > self.as_of:
            return None
        annual = term.annual_minor * factor // BP
        annual = annual // (12 * EURO) * 12 * EURO if term.monthly else annual // (100 * EURO) * 100 * EURO
        annual = max(annual, 12 * EURO)
        seller_key = self.crediting.seller_on(customer, booked)
        if booked >= self.timeline.history_start:  # a renewal booked before the history has no line
            self.add(
                rng, customer, kind=RENEWAL, day=booked, amount_minor=min(annual, term.annual_minor), app=term.application.code,
                motion=RENEWAL,
            )  # fmt: skip
            if annual > term.annual_minor:
                self.add(
                    rng, customer, kind=BOOKING, day=booked, amount_minor=annual - term.annual_minor, app=term.application.code,
                    motion="expansion", split_pct=profile.split_pct,
                )  # fmt: skip
        active.remove(term)
        return self.new_term(
            customer, term.application, term.ends_on + timedelta(days=1), term.monthly, annual, motion=RENEWAL,
            seller_key=seller_key, renews=term.number,
        )  # fmt: skip

    def one_offs(self, rng: random.Random, customer: CustomerSpec, profile: SegmentProfile, won_on: date | None) -> None:
        if won_on is not None:
            self.one_off(rng, customer, profile, won_on, motion="new")
        start_month = month_start(won_on) if won_on else self.timeline.history_start
        for month in month_range(start_month, months_between(start_month, self.as_of) + 1):
            if rng.randint(1, BP) <= LAPSE_BP_PER_MONTH * self.team_performance(customer, month).churn_bp // BP:
                return
            day = self.day_in(rng, month, first=won_on + timedelta(days=1) if won_on else None)
            if day is None:
                continue
            chance = profile.one_offs_bp * season_bp(month) // BP // 12 * self.team_performance(customer, day).expansion_bp // BP
            if rng.randint(1, BP) <= chance:
                self.one_off(rng, customer, profile, day, motion="expansion")

    def one_off(self, rng: random.Random, customer: CustomerSpec, profile: SegmentProfile, day: date, *, motion: str) -> None:
        app = self.pick_application(rng, set())
        assert app is not None
        amount = skewed(rng, profile.one_off_euros) // 10 * 10 * EURO
        self.add(rng, customer, kind=BOOKING, day=day, amount_minor=amount, app=app.code, motion=motion, split_pct=profile.split_pct)
        invoiced = day + timedelta(days=rng.randint(0, 10))
        if invoiced <= self.as_of:
            self.invoice(rng, customer, day=invoiced, amount_minor=amount, app=app.code, motion=motion)

    def invoice(self, rng: random.Random, customer: CustomerSpec, *, day: date, amount_minor: int, app: str, motion: str) -> None:
        self.add(rng, customer, kind=INVOICE, day=day, amount_minor=amount_minor, app=app, motion=motion)
        if rng.randint(1, BP) <= CREDIT_NOTE_BP:
            credited = day + timedelta(days=rng.randint(7, 30))
            if credited <= self.as_of:
                amount = -(amount_minor * rng.randint(10, 30) // 100 // EURO * EURO or EURO)
                self.add(rng, customer, kind=CREDIT_NOTE, day=credited, amount_minor=amount, app=app, motion=motion)

    def invoices(self, rng: random.Random, terms: Sequence[_Term]) -> None:
        """Invoices for contract terms, within the history and up to ``as_of``."""
        first = self.timeline.history_start
        for term in terms:
            days = [monthly_on(term.starts_on, offset) for offset in range(12)] if term.monthly else [term.starts_on]
            for day in days:
                if first <= day <= self.as_of:
                    self.invoice(rng, term.customer, day=day, amount_minor=term.amount_minor, app=term.application.code, motion=term.motion)


def customer_seeds(rng: random.Random, customers: Sequence[CustomerSpec]) -> list[int]:
    """One seed per customer, drawn in order: each customer's timeline has a stream of its own."""
    return [rng.getrandbits(64) for _ in customers]


def simulate_sales(
    *,
    seeds: Sequence[int],
    timeline: DemoTimeline,
    org: Organisation,
    customers: Sequence[CustomerSpec],
    territories: Sequence[TerritorySpec],
    performance: Mapping[str, Performance] | None = None,
) -> Sales:
    """Every customer's timeline. Performance changes only what happens in the plan's months:
    with the same seeds, the history is the same whatever ``performance`` says."""
    simulation = _Simulation(timeline, org, territories, performance or {})
    for customer, seed in zip(customers, seeds, strict=True):
        events, invoices = random.Random(seed), random.Random(seed ^ INVOICE_STREAM)
        first_term = len(simulation.terms)
        simulation.customer(events, customer)
        simulation.invoices(invoices, simulation.terms[first_term:])
    return _numbered(simulation)


def _numbered(simulation: _Simulation) -> Sales:
    """Stable external ids: lines and contracts numbered in date order."""
    lines = sorted(simulation.lines)
    results = tuple(
        ResultSpec(
            f"{LINE_PREFIX}{number:06d}", line.kind, line.occurred_on, line.amount_minor, line.customer_code, line.country_code,
            line.application_code, line.motion, line.credits,
        )
        for number, line in enumerate(lines, start=1)
    )  # fmt: skip
    terms = sorted(simulation.terms, key=lambda term: (term.starts_on, term.customer.code, term.number))
    ids = {term.number: f"{CONTRACT_PREFIX}{number:05d}" for number, term in enumerate(terms, start=1)}
    contracts = tuple(
        ContractSpec(
            ids[term.number], term.customer.code, term.seller_key, term.application.code, term.starts_on, term.ends_on,
            MONTHLY if term.monthly else ANNUAL, term.amount_minor, ids[term.renews] if term.renews is not None else None,
        )
        for term in terms
    )  # fmt: skip
    return Sales(results=results, contracts=contracts, owners=dict(simulation.owners))


def customers_with_owners(customers: Sequence[CustomerSpec], owners: Mapping[str, str]) -> list[CustomerSpec]:
    """The customers with the owners of those won by recent hires (who had no previous owner)."""
    return [
        replace(customer, owner_key=owners[customer.code], previous_owner_key=None, owner_since=None)
        if customer.code in owners
        else customer
        for customer in customers
    ]

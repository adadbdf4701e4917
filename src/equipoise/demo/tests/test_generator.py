"""The demo generator as plain data: deterministic, plausible, and reconciling by construction."""

import random
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest

from equipoise.core.periods import add_months, month_start
from equipoise.demo import catalog
from equipoise.demo.buying import Performance, one_year_later
from equipoise.demo.calibration import TEAM_TARGETS_BP, team_standings
from equipoise.demo.generator import build_spec
from equipoise.demo.revenue import BOOKED_KINDS, build_buckets
from equipoise.demo.sales import customer_seeds, simulate_sales
from equipoise.demo.spec import region_of_country, team_groups
from equipoise.demo.timeline import demo_timeline

AS_OF = date(2026, 11, 18)


@pytest.fixture(scope="module")
def spec():
    return build_spec(as_of=AS_OF)


def test_same_seed_and_day_give_the_same_company_another_seed_or_day_another():
    # given two builds with the same seed and day, one with another seed, one a year later
    first = build_spec(as_of=AS_OF, seed=11, sellers=24, customers=300)
    second = build_spec(as_of=AS_OF, seed=11, sellers=24, customers=300)
    other_seed = build_spec(as_of=AS_OF, seed=12, sellers=24, customers=300)
    next_year = build_spec(as_of=date(2027, 3, 2), seed=11, sellers=24, customers=300)

    # then
    assert first == second
    assert first.results != other_seed.results
    assert first.top_down_total_minor != other_seed.top_down_total_minor
    assert (first.timeline.plan_start, next_year.timeline.plan_start) == (date(2026, 1, 1), date(2027, 1, 1))
    assert max(line.occurred_on for line in next_year.results) <= date(2027, 3, 2)


@pytest.mark.parametrize(
    ("as_of", "plan_start", "history_start", "months_to_date", "commit_months"),
    [
        (date(2026, 11, 18), date(2026, 1, 1), date(2024, 1, 1), 11, 14),
        (date(2027, 1, 1), date(2027, 1, 1), date(2025, 1, 1), 1, 6),
        (date(2027, 12, 31), date(2027, 1, 1), date(2025, 1, 1), 12, 15),
    ],
)
def test_the_plan_starts_with_the_fiscal_year_of_as_of(as_of, plan_start, history_start, months_to_date, commit_months):
    timeline = demo_timeline(as_of)

    assert (timeline.plan_start, timeline.history_start) == (plan_start, history_start)
    assert timeline.history_end == add_months(plan_start, -1)
    assert timeline.plan_months_to_date[-1] == month_start(as_of)
    assert len(timeline.plan_months_to_date) == months_to_date
    assert len(timeline.commit_months) == commit_months
    assert timeline.plan_label() == f"FY{plan_start.year}–FY{plan_start.year + 1}"


def test_default_company_has_the_documented_shape(spec):
    people = spec.org.people
    roles = Counter(person.role for person in people)
    active_sellers = [p for p in people if p.carries_quota and p.is_active]
    managers = [p for p in people if p.role == "manager"]
    plan_start = spec.timeline.plan_start

    assert len(active_sellers) == 40
    assert roles["executive"] == 1 and roles["finance"] == 1 and roles["admin"] == 1
    assert len(managers) == 5
    assert all(manager.manager_key == "vp" for manager in managers)
    assert [len(group) for group in team_groups(5)] == [1, 1, 2, 1, 1]  # one team covers two regions
    assert sorted(spec.org.logins) == sorted(catalog.LOGINS)
    # the seller login reports to the manager login
    by_key = {p.key: p for p in people}
    assert by_key[spec.org.logins["seller"]].manager_key == spec.org.logins["manager"]
    # recent hires: hired within two months before the plan or during its first months, so ramp matters
    recent = [p for p in active_sellers if p.hire_date >= add_months(plan_start, -2)]
    assert len(recent) == 4
    assert any(p.hire_date > plan_start for p in recent)
    assert len([p for p in people if not p.is_active]) == 1
    # customers and named accounts
    assert len(spec.customers) == 1500
    assert sum(c.is_named_account for c in spec.customers) == 20
    assert len({c.code for c in spec.customers}) == 1500
    assert len({c.name for c in spec.customers}) == 1500
    countries = region_of_country()
    assert all(c.country_code in countries for c in spec.customers)
    # a customer taken over from a colleague was theirs until the new owner's hire date
    taken_over = [c for c in spec.customers if c.owner_since]
    assert taken_over and all(c.owner_since == by_key[c.owner_key].hire_date for c in taken_over)


def test_results_run_from_the_history_start_to_as_of_and_are_well_formed(spec):
    timeline = spec.timeline
    lines = spec.results
    booked_months = {month_start(line.occurred_on) for line in lines if line.kind in BOOKED_KINDS}

    assert 25_000 <= len(lines) <= 45_000  # a few tens of thousands: fast to load
    assert min(line.occurred_on for line in lines) >= timeline.history_start
    assert max(line.occurred_on for line in lines) <= AS_OF
    assert booked_months == {*timeline.history_months, *timeline.plan_months_to_date}
    assert [line.external_id for line in lines] == [f"DEMO-{n:06d}" for n in range(1, len(lines) + 1)]
    assert [line.occurred_on for line in lines] == sorted(line.occurred_on for line in lines)
    assert Counter(line.kind for line in lines).keys() == {"booking", "renewal", "invoice", "credit_note", "churn"}
    assert all(line.amount_minor < 0 for line in lines if line.kind in ("credit_note", "churn"))
    assert all(line.amount_minor > 0 and line.amount_minor % 100 == 0 for line in lines if line.kind in ("booking", "renewal", "invoice"))
    assert all(sum(share for _, share in line.credits) == 10_000 for line in lines)
    splits = [line for line in lines if len(line.credits) == 2]
    assert 50 <= len(splits) <= 1_000
    assert {tuple(share for _, share in line.credits) for line in splits} == {(6_000, 4_000), (5_000, 5_000), (7_000, 3_000)}
    assert all(line.credits[0][0] != line.credits[1][0] for line in splits)
    assert all(line.kind in ("booking",) and line.motion in ("new", "expansion") for line in splits)


def test_booked_history_has_a_q4_peak_an_august_dip_and_grows(spec):
    timeline = spec.timeline
    by_month: Counter = Counter()
    by_motion: Counter = Counter()
    for line in spec.results:
        if line.kind in BOOKED_KINDS and line.occurred_on < timeline.plan_start:
            by_month[month_start(line.occurred_on)] += line.amount_minor
            by_motion[line.motion] += line.amount_minor
    months = timeline.history_months
    for year in (months[:12], months[12:]):
        amounts = [by_month[month] for month in year]
        assert max(amounts) == amounts[11]  # December peaks
        assert amounts[7] < amounts[6] and amounts[7] < amounts[8]  # August dips
        assert sum(amounts[9:]) > sum(amounts[6:9])  # Q4 above Q3
    growth_bp = sum(by_month[m] for m in months[12:]) * 10_000 // sum(by_month[m] for m in months[:12])
    assert 10_800 <= growth_bp <= 12_200  # about 1% a month
    assert by_motion["renewal"] > by_motion["expansion"] > by_motion["new"] > 0


def test_contracts_renew_the_term_before_them_or_churn_on_their_end_date(spec):
    contracts = {contract.external_id: contract for contract in spec.contracts}
    renewed = {contract.renews for contract in spec.contracts if contract.renews}
    churn = {
        (line.customer_code, line.application_code, line.occurred_on, -line.amount_minor) for line in spec.results if line.kind == "churn"
    }

    assert len(contracts) == len(spec.contracts)
    assert all(contract.ends_on == one_year_later(contract.starts_on) for contract in spec.contracts)
    assert all(contract.amount_minor > 0 for contract in spec.contracts)
    assert {contract.billing_period for contract in spec.contracts} == {"annual", "monthly"}
    for contract in spec.contracts:
        if contract.renews:
            previous = contracts[contract.renews]
            assert (previous.customer_code, previous.application_code) == (contract.customer_code, contract.application_code)
            assert contract.starts_on == previous.ends_on + timedelta(days=1)
            assert list(contracts).index(contract.renews) < list(contracts).index(contract.external_id)
    # a term that ended by as_of was either renewed or lost, with a churn line on its end date
    lost = {
        (c.customer_code, c.application_code, c.ends_on, c.amount_minor * (12 if c.billing_period == "monthly" else 1))
        for c in spec.contracts
        if c.ends_on <= AS_OF and c.external_id not in renewed
    }
    assert lost == churn
    assert 150 <= len(lost) <= 600
    assert all(
        contracts[code].ends_on >= AS_OF - timedelta(days=10)
        for code in contracts
        if code not in renewed and contracts[code].ends_on > AS_OF
    )


def _annual_value_by_customer(spec, day):
    values: Counter = Counter()
    for contract in spec.contracts:
        if contract.starts_on <= day <= contract.ends_on:
            values[contract.customer_code] += contract.amount_minor * (12 if contract.billing_period == "monthly" else 1)
    return values


@pytest.mark.parametrize("year", [0, 1])
def test_retention_is_that_of_a_healthy_recurring_business(spec, year):
    start = add_months(spec.timeline.history_start, 12 * year)
    before, after = _annual_value_by_customer(spec, start), _annual_value_by_customer(spec, add_months(start, 12))

    base = sum(before.values())
    grr_bp = sum(min(after[code], value) for code, value in before.items()) * 10_000 // base
    nrr_bp = sum(after[code] for code in before) * 10_000 // base
    logo_churn_bp = sum(1 for code in before if not after[code]) * 10_000 // len(before)

    assert 9_000 <= grr_bp <= 9_400
    assert 10_200 <= nrr_bp <= 11_000
    assert 600 <= logo_churn_bp <= 1_000
    assert 0.45 <= len(before) / len(spec.customers) <= 0.75  # a good share of customers under contract (others not yet won, or gone)


def test_buckets_sum_exactly_to_plan_totals_and_bottom_up_is_5_to_10_percent_lower(spec):
    timeline = spec.timeline
    recent_total = sum(
        line.amount_minor
        for line in spec.results
        if line.kind in BOOKED_KINDS and timeline.months_before_plan(12) <= line.occurred_on < timeline.plan_start
    )

    assert 30 <= len(spec.buckets) <= 35
    assert Counter(b.motion for b in spec.buckets)["renewal"] == 6
    assert 15 <= Counter(b.motion for b in spec.buckets)["new"] <= 18
    assert len([b for b in spec.buckets if b.customer_code]) == 4
    assert sum(b.top_down_minor for b in spec.buckets) == spec.top_down_total_minor
    assert sum(b.bottom_up_minor for b in spec.buckets) == spec.bottom_up_total_minor
    assert spec.top_down_total_minor % catalog.TARGET_UNIT_MINOR == 0
    # top-down = last twelve months' bookings × 2 years × 115%, to the nearest thousand euros
    assert abs(spec.top_down_total_minor - recent_total * 2 * 115 // 100) <= catalog.TARGET_UNIT_MINOR // 2
    gap_bp = (spec.top_down_total_minor - spec.bottom_up_total_minor) * 10_000 // spec.top_down_total_minor
    assert 500 <= gap_bp <= 1_000
    assert len({b.bottom_up_minor * 1000 // b.top_down_minor for b in spec.buckets}) > 10


def test_teams_part_from_plan_in_its_months_and_the_first_is_clearly_behind(spec):
    standings = team_standings(spec, buckets=spec.buckets, timeline=spec.timeline, org=spec.org)
    attainment = {team: standings[team].attainment_bp for team in (f"manager-{n}" for n in range(1, 6))}

    assert attainment["manager-1"] <= 8_500  # the `manager` login's team
    others = [attainment[f"manager-{n}"] for n in range(2, 6)]
    assert all(8_500 <= value <= 11_500 for value in others)
    assert min(others) < 10_000 < max(others)
    for n, target in zip(range(1, 6), TEAM_TARGETS_BP, strict=True):
        assert abs(attainment[f"manager-{n}"] - target) <= 1_000


def test_team_performance_changes_the_plan_months_only():
    # given a company simulated with every team selling as before, and with the first team slower
    small = build_spec(as_of=AS_OF, seed=4, sellers=16, customers=300)
    plan_start = small.timeline.plan_start
    seeds = customer_seeds(random.Random(4), small.customers)
    company = {"seeds": seeds, "timeline": small.timeline, "org": small.org, "customers": small.customers, "territories": small.territories}
    neutral = simulate_sales(**company)
    slower = simulate_sales(**company, performance={"manager-1": Performance(win_bp=5_000, expansion_bp=5_000, churn_bp=20_000)})

    def history(sales):
        return [line[1:] for line in sales.results if line.occurred_on < plan_start]  # without the external ids

    def booked_since_plan_start(sales):
        return sum(line.amount_minor for line in sales.results if line.kind in BOOKED_KINDS and line.occurred_on >= plan_start)

    # then the history, and so the plan learned from it, is the same; the plan's months are not
    assert history(neutral) == history(slower)
    assert booked_since_plan_start(slower) < booked_since_plan_start(neutral)
    named = frozenset(c.code for c in small.customers if c.is_named_account)
    assert build_buckets(random.Random(1), neutral.results, timeline=small.timeline, named_accounts=named) == build_buckets(
        random.Random(1), slower.results, timeline=small.timeline, named_accounts=named
    )


def test_large_scale_adds_directors_and_keeps_teams_of_about_eight():
    spec = build_spec(as_of=AS_OF, seed=3, sellers=200, customers=400)
    people = spec.org.people
    directors = [p for p in people if p.key.startswith("director-")]
    managers = [p for p in people if p.key.startswith("manager-")]

    assert len(directors) == len(catalog.REGIONS)
    assert len(managers) == 25
    assert all(manager.manager_key.startswith("director-") for manager in managers)
    assert len([p for p in people if p.carries_quota and p.is_active]) == 200


def test_history_is_credited_to_whoever_had_the_customer_then(spec):
    people = {person.key: person for person in spec.org.people}
    credited = defaultdict(set)
    for line in spec.results:
        for seller, _ in line.credits:
            credited[seller].add(line.occurred_on)
            person = people[seller]
            assert person.hire_date <= line.occurred_on
            assert person.left_on is None or line.occurred_on <= person.left_on
    leaver = next(p for p in spec.org.people if not p.is_active)
    assert credited[leaver.key]  # the seller who left had customers before

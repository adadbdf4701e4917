"""The demo generator as plain data: deterministic, plausible, and reconciling by construction."""

from collections import Counter

from equipoise.core.periods import add_months
from equipoise.demo import catalog
from equipoise.demo.generator import build_spec
from equipoise.demo.spec import region_of_country, team_groups


def test_same_seed_gives_the_same_company_and_another_seed_another():
    # given two builds with the same seed and one with another
    first = build_spec(seed=11, sellers=24, customers=300)
    second = build_spec(seed=11, sellers=24, customers=300)
    other = build_spec(seed=12, sellers=24, customers=300)

    # then
    assert first == second
    assert first.history != other.history
    assert first.top_down_total_minor != other.top_down_total_minor


def test_default_company_has_the_documented_shape():
    spec = build_spec()
    people = spec.org.people
    roles = Counter(person.role for person in people)
    active_sellers = [p for p in people if p.carries_quota and p.is_active]
    managers = [p for p in people if p.role == "manager"]

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
    recent = [p for p in active_sellers if p.hire_date >= add_months(catalog.PLAN_START, -2)]
    assert len(recent) == 4
    assert any(p.hire_date > catalog.PLAN_START for p in recent)
    assert len([p for p in people if not p.is_active]) == 1
    # customers and named accounts
    assert len(spec.customers) == 1500
    assert sum(c.is_named_account for c in spec.customers) == 20
    assert len({c.code for c in spec.customers}) == 1500
    assert len({c.name for c in spec.customers}) == 1500
    # every customer's home is a country, and its owner covers that country or its region's team
    countries = region_of_country()
    assert all(c.country_code in countries for c in spec.customers)


def test_history_covers_24_months_before_the_plan_with_a_q4_peak_and_an_august_dip():
    spec = build_spec()
    months = sorted({row.month for row in spec.history})
    assert months[0] == add_months(catalog.PLAN_START, -24)
    assert months[-1] == add_months(catalog.PLAN_START, -1)
    assert len(months) == 24
    assert all(row.amount_minor > 0 and row.amount_minor % 100 == 0 for row in spec.history)
    by_month = Counter()
    for row in spec.history:
        by_month[row.month] += row.amount_minor
    last_year = [by_month[month] for month in months[12:]]
    assert max(last_year) == last_year[11]  # December peaks
    assert last_year[7] < last_year[6] and last_year[7] < last_year[8]  # August dips
    assert sum(last_year) > sum(by_month[month] for month in months[:12])  # growing


def test_buckets_sum_exactly_to_plan_totals_and_bottom_up_is_5_to_10_percent_lower():
    spec = build_spec()
    recent_total = sum(row.amount_minor for row in spec.history if row.month >= add_months(catalog.PLAN_START, -12))

    assert 30 <= len(spec.buckets) <= 35
    assert Counter(b.motion for b in spec.buckets) == {"new": 18, "renewal": 6, "expansion": 10}
    assert len([b for b in spec.buckets if b.customer_code]) == 4
    assert sum(b.top_down_minor for b in spec.buckets) == spec.top_down_total_minor
    assert sum(b.bottom_up_minor for b in spec.buckets) == spec.bottom_up_total_minor
    assert spec.top_down_total_minor % catalog.TARGET_UNIT_MINOR == 0
    # top-down = last twelve months × 2 years × 115%, to the nearest thousand euros
    assert abs(spec.top_down_total_minor - recent_total * 2 * 115 // 100) <= catalog.TARGET_UNIT_MINOR // 2
    gap_bp = (spec.top_down_total_minor - spec.bottom_up_total_minor) * 10_000 // spec.top_down_total_minor
    assert 500 <= gap_bp <= 1_000
    # the gap varies by bucket
    assert len({b.bottom_up_minor * 1000 // b.top_down_minor for b in spec.buckets}) > 10


def test_large_scale_adds_directors_and_keeps_teams_of_about_eight():
    spec = build_spec(seed=3, sellers=200, customers=400)
    people = spec.org.people
    directors = [p for p in people if p.key.startswith("director-")]
    managers = [p for p in people if p.key.startswith("manager-")]

    assert len(directors) == len(catalog.REGIONS)
    assert len(managers) == 25
    assert all(manager.manager_key.startswith("director-") for manager in managers)
    assert len([p for p in people if p.carries_quota and p.is_active]) == 200

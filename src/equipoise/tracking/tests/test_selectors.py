"""Plan vs actual through the selectors: figures per scope and rows, plan splits, scoping, drills
that sum to their parent, and reads that cost a fixed number of queries.

Monthly plan (flat over 24 months): North new 20,833.34 + North renewal 12,500.00 = 33,333.34;
South new 16,666.67; company 50,000.01. Quotas (equal split, no cushion): Sam and Sara 16,666.67
each, Olga 16,666.67, Maria 33,333.34, Omar 16,666.67.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from equipoise.core.access import Role
from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.org.models import Customer, Person, Region
from equipoise.org.services import person_create
from equipoise.results.tests.conftest import line
from equipoise.tracking import selectors
from equipoise.tracking.dissection import Dissection, parse_dissection
from equipoise.tracking.domain import Grain
from equipoise.tracking.tests.conftest import AS_OF, ingest

Q1 = {"from": "2027-01-01", "to": "2027-03-31"}
NORTH_MONTH, SOUTH_MONTH, COMPANY_MONTH, SELLER_MONTH = 3_333_334, 1_666_667, 5_000_001, 1_666_667


def dissect(user, **params):
    return selectors.dissect(user, parse_dissection({**Q1, **params}), today=AS_OF)


def actuals(row):
    return [figures.actual_minor for figures in row.figures]


def plans(row):
    return [figures.plan_minor for figures in row.figures]


def by_label(table):
    return {row.label: row for row in table.rows}


# --- figures -------------------------------------------------------------------------------------


def test_company_by_region_compares_booked_results_with_the_approved_plan(data):
    table = dissect(data.org.executive)

    assert table.view.params() == {
        "scope": "company",
        "rows": "region",
        "grain": "month",
        "from": "2027-01-01",
        "to": "2027-03-31",
        "measure": "booked",
    }
    assert [period.label for period in table.periods] == ["Jan 2027", "Feb 2027", "Mar 2027"]
    rows = by_label(table)
    assert list(rows) == ["North", "South"]
    # Invoices, the USD line and the line before the range are not counted.
    assert actuals(rows["North"]) == [155_000, 30_000, 0]
    assert actuals(rows["South"]) == [0, 70_000, 20_000]
    assert actuals(table.totals) == [155_000, 100_000, 20_000]
    assert plans(rows["North"]) == [NORTH_MONTH] * 3
    assert plans(rows["South"]) == [SOUTH_MONTH] * 3
    assert plans(table.totals) == [COMPANY_MONTH] * 3
    assert table.totals.total.plan_minor == 3 * COMPANY_MONTH
    assert table.totals.total.variance_minor == 275_000 - 3 * COMPANY_MONTH
    assert table.other_currencies == ["USD"]
    assert table.currency == "EUR"


def test_pace_and_projection_use_business_days_elapsed_at_as_of(data):
    table = dissect(data.org.executive)
    march = table.totals.figures[2]

    # 15 March 2027: 11 of March's 23 business days have passed.
    assert march.attainment == Decimal(20_000) / Decimal(COMPANY_MONTH)
    assert march.pace == march.attainment / (Decimal(11) / Decimal(23))
    assert march.projection_minor == 41_818  # 20,000 × 23 / 11 = 41,818.18…
    january = table.totals.figures[0]
    assert january.pace == january.attainment  # a month that is over
    assert january.projection_minor == 155_000


def test_invoiced_measure_counts_invoices_only(data):
    table = dissect(data.org.executive, measure="invoiced", rows="motion")

    assert actuals(table.totals) == [80_000, 0, 0]
    assert {row.key: actuals(row) for row in table.rows} == {"new": [80_000, 0, 0], "renewal": [0, 0, 0]}  # renewal is planned


def test_churn_is_not_planned(data):
    table = dissect(data.org.executive, measure="churned")

    assert table.totals.total.plan_minor is None
    assert table.plan_note == "Churn is not planned: the table shows actuals only."


def test_company_org_rows_are_the_top_teams_with_their_quotas(data):
    table = dissect(data.org.executive, rows="org")

    rows = by_label(table)
    assert list(rows) == ["Team North (Maria Manager)", "Team South (Omar Manager)"]
    assert actuals(rows["Team North (Maria Manager)"]) == [155_000, 30_000, 0]  # Maria's own 5,000 included
    assert plans(rows["Team North (Maria Manager)"]) == [NORTH_MONTH] * 3
    assert actuals(rows["Team South (Omar Manager)"]) == [0, 70_000, 20_000]
    assert rows["Team North (Maria Manager)"].drill.params()["scope"] == f"team:{data.org.maria.pk}"


def test_team_rows_are_the_managers_reports_and_own_results(data):
    table = dissect(data.org.manager)

    assert table.scope.text == f"team:{data.org.maria.pk}"
    assert table.rows_dimension == "org"
    rows = by_label(table)
    assert list(rows) == ["Sam Seller", "Sara Seller", "Maria Manager (own results)"]
    assert actuals(rows["Sam Seller"]) == [100_000, 18_000, 0]
    assert actuals(rows["Sara Seller"]) == [50_000, 12_000, 0]
    assert actuals(rows["Maria Manager (own results)"]) == [5_000, 0, 0]
    assert rows["Maria Manager (own results)"].kind == "own"
    assert rows["Maria Manager (own results)"].total.plan_minor is None
    assert plans(rows["Sam Seller"]) == [SELLER_MONTH] * 3
    assert plans(table.totals) == [NORTH_MONTH] * 3
    assert actuals(table.totals) == [155_000, 30_000, 0]


def test_a_sellers_breakdown_by_customer_reads_their_credits(data):
    table = dissect(data.org.seller)

    assert table.scope.text == f"seller:{data.org.sam.pk}"
    assert table.rows_dimension == "customer"
    rows = by_label(table)
    assert actuals(rows["Acme"]) == [100_000, 0, 0]
    assert actuals(rows["Globex"]) == [0, 18_000, 0]  # 60% of the split line
    assert rows["Acme"].total.plan_minor is None  # quotas are not set per customer
    assert plans(table.totals) == [SELLER_MONTH] * 3
    assert "does not split by customer" in table.plan_note


def test_a_sellers_monthly_motions_come_from_their_rollup(data):
    table = dissect(data.org.seller, rows="motion")

    assert [(row.key, actuals(row), plans(row)) for row in table.rows] == [
        ("new", [100_000, 0, 0], [1_041_667] * 3),
        ("renewal", [0, 0, 0], [625_000] * 3),
        ("expansion", [0, 18_000, 0], [0] * 3),
    ]


def test_weeks_and_days_spread_the_plan_by_business_days(data):
    weeks = dissect(data.org.executive, grain="week", rows="motion", **{"from": "2027-01-01", "to": "2027-01-31"})
    days = dissect(data.org.executive, grain="day", rows="motion", **{"from": "2027-01-01", "to": "2027-01-03"})

    assert [period.label for period in weeks.periods] == ["W53 2026", "W01 2027", "W02 2027", "W03 2027", "W04 2027"]
    assert actuals(weeks.totals) == [0, 5_000, 100_000, 50_000, 0]
    assert sum(plans(weeks.totals)) == COMPANY_MONTH
    # 1 January is a Friday, the first of January's 21 business days: each bucket's month ÷ 21,
    # rounded down (20,833.34 → 992.06; 12,500.00 → 595.23; 16,666.67 → 793.65). The weekend gets none.
    assert plans(days.totals) == [238_094, 0, 0]


def test_a_country_rolls_up_to_its_region(data):
    norway = Region.objects.create(code="NO", name="Norway", parent=data.org.north)
    ingest(data.org, data.catalog, line(data.org, data.catalog, "C1", region_id=norway.pk, amount_minor=1_234))

    table = dissect(data.org.executive)

    assert actuals(by_label(table)["North"]) == [156_234, 30_000, 0]
    with pytest.raises(ApplicationError, match="Norway is a country") as error:
        dissect(data.org.executive, region=str(norway.pk))
    assert error.value.field == "region"


def test_customer_rows_show_the_largest_and_the_rest_as_one_row(data, monkeypatch):
    monkeypatch.setattr(selectors, "CUSTOMER_ROWS_LIMIT", 1)

    table = dissect(data.org.executive, rows="customer")

    assert [(row.label, row.kind, row.total.actual_minor) for row in table.rows] == [
        ("Acme", "row", 155_000),
        ("Other customers", "other", 120_000),
    ]
    assert table.rows[1].drill is None
    assert sum(row.total.actual_minor for row in table.rows) == table.totals.total.actual_minor


def test_a_customer_scope_is_the_users_own_scope_narrowed_to_the_customer(data):
    globex = data.catalog.globex

    company = dissect(data.org.executive, scope=f"customer:{globex.pk}", rows="org")
    own = dissect(data.org.seller, scope=f"customer:{globex.pk}", rows="motion")

    assert company.scope.label == "Globex"
    assert actuals(company.totals) == [0, 100_000, 20_000]
    assert {row.label: row.total.actual_minor for row in company.rows} == {
        "Team North (Maria Manager)": 30_000,
        "Team South (Omar Manager)": 90_000,
    }
    assert actuals(own.totals) == [0, 18_000, 0]  # only Sam's credit
    assert company.totals.total.plan_minor is None  # the plan has no bucket for Globex


def test_a_named_customer_bucket_gives_that_customer_its_own_plan(org, catalog):
    from equipoise.planning.services import bucket_add, plan_approve, plan_create

    Customer.objects.filter(pk=catalog.acme.pk).update(is_named_account=True)
    catalog.acme.refresh_from_db()
    plan = plan_create(actor=org.executive, name="Named", start_month=date(2027, 1, 1), total_target_minor=2_400_000)
    bucket_add(actor=org.executive, plan=plan, customer=catalog.acme, target_minor=1_200_000)
    bucket_add(actor=org.executive, plan=plan, target_minor=1_200_000)
    plan_approve(actor=org.executive, plan=plan)
    ingest(org, catalog, line(org, catalog, "N1"))

    table = dissect(org.executive, rows="customer")

    rows = by_label(table)
    assert plans(rows["Acme"]) == [50_000] * 3
    assert plans(table.totals) == [100_000] * 3
    assert dissect(org.executive, scope=f"customer:{catalog.acme.pk}").totals.total.plan_minor == 150_000


def test_no_allocation_means_no_team_plan(org, catalog, approved_plan):
    ingest(org, catalog, line(org, catalog, "N1"))

    table = dissect(org.manager)

    assert table.totals.total.plan_minor is None
    assert table.plan_note == "No quotas yet: the table shows actuals only."
    assert actuals(table.totals) == [100_000, 0, 0]


def test_a_draft_allocation_is_the_managers_plan_but_not_yet_the_sellers(org, catalog, approved_plan):
    from equipoise.quotas.services import quota_allocate

    quota_allocate(actor=org.executive, plan=approved_plan)
    ingest(org, catalog, line(org, catalog, "N1"))

    sellers = dissect(org.seller)
    managers = dissect(org.manager, scope=f"seller:{org.sam.pk}")

    assert sellers.totals.total.plan_minor is None
    assert sellers.plan_note == "No quotas yet: the table shows actuals only."
    assert actuals(sellers.totals) == actuals(managers.totals)
    assert managers.totals.total.plan_minor is not None
    assert managers.totals.total.plan_minor > 0


def test_people_outside_the_sales_tree_appear_in_the_company_org_rows(data):
    finance = Person.objects.get(full_name="Fin Ance")
    ingest(data.org, data.catalog, line(data.org, data.catalog, "F1", amount_minor=777, credits=((finance.pk, 10_000),)))
    ingest(data.org, data.catalog, line(data.org, data.catalog, "V1", amount_minor=300, credits=((data.org.vp.pk, 10_000),)))

    table = dissect(data.org.executive, rows="org")

    totals = {row.label: (row.kind, row.total.actual_minor) for row in table.rows}
    assert totals["Fin Ance"] == ("row", 777)
    assert totals["Vera VP (own results)"] == ("own", 300)
    assert sum(row.total.actual_minor for row in table.rows) == table.totals.total.actual_minor == 275_000 + 777 + 300


# --- scope ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "scope"),
    [
        ("seller", "company"),
        ("seller", "seller:{olga}"),
        ("seller", "seller:{sara}"),
        ("seller", "team:{maria}"),
        ("manager", "company"),
        ("manager", "team:{omar}"),
        ("manager", "seller:{olga}"),
        ("seller", "seller:999999"),
        ("seller", "seller:abc"),
        ("seller", "customer:999999"),
    ],
)
def test_scopes_outside_the_users_are_not_found(data, persona, scope):
    org = data.org
    text = scope.format(olga=org.olga.pk, sara=org.sara.pk, maria=org.maria.pk, omar=org.omar.pk)

    with pytest.raises(NotFound):
        dissect(getattr(org, persona), scope=text)


def test_a_customer_the_seller_never_sold_to_is_not_found(data):
    initech = Customer.objects.create(code="INITECH", name="Initech", home_region=data.org.south, owner=data.org.olga)

    with pytest.raises(NotFound):
        dissect(data.org.seller, scope=f"customer:{initech.pk}")
    with pytest.raises(NotFound):
        dissect(data.org.seller, customer=str(initech.pk))
    assert dissect(data.org.other_seller, scope=f"customer:{initech.pk}").scope.label == "Initech"  # her own customer


def test_a_manager_reaches_their_sellers_and_a_person_with_reports_is_a_team(data):
    org = data.org

    assert dissect(org.manager, scope=f"seller:{org.sam.pk}").scope.text == f"seller:{org.sam.pk}"
    assert dissect(org.executive, scope=f"seller:{org.maria.pk}").scope.text == f"team:{org.maria.pk}"
    assert dissect(org.executive, scope=f"team:{org.sam.pk}").scope.text == f"seller:{org.sam.pk}"


def test_a_login_outside_the_organisation_is_told_why(data):
    with pytest.raises(AccessDenied, match="not linked to anyone"):
        dissect(data.org.outsider)


@pytest.mark.parametrize(
    ("params", "error", "field"),
    [
        ({"scope": "planet:1"}, ApplicationError, "scope"),
        ({"rows": "org", "scope": "seller:{sam}"}, ApplicationError, "rows"),
        ({"measure": "profit"}, ApplicationError, "measure"),
        ({"motion": "upsell"}, ApplicationError, "motion"),
        ({"region": "999999"}, NotFound, "region"),
        ({"product_line": "999999"}, NotFound, "product_line"),
        ({"grain": "day", "from": "2027-01-01", "to": "2027-12-31"}, ApplicationError, "grain"),
    ],
)
def test_bad_parameters_are_refused_and_name_their_field(data, params, error, field):
    params = {key: value.format(sam=data.org.sam.pk) for key, value in params.items()}

    with pytest.raises(error) as raised:
        dissect(data.org.executive, **params)
    assert raised.value.field == field


# --- drills --------------------------------------------------------------------------------------


def _sum_rows(table, position):
    return sum(row.figures[position].actual_minor for row in table.rows)


def _sum_row_plans(table, position):
    return sum(row.figures[position].plan_minor or 0 for row in table.rows)


@pytest.mark.parametrize("grain", ["month", "week"])
def test_company_region_team_seller_customer_each_level_sums_to_its_parent(data, grain):
    org = data.org
    view = parse_dissection({"from": "2027-01-01", "to": "2027-02-28", "grain": grain})
    table = selectors.dissect(org.executive, view, today=AS_OF)
    path = ["North", "Team North (Maria Manager)", "Sam Seller", "Globex"]
    expected_rows = ["org", "org", "customer", "motion"]

    for label, rows_dimension in zip(path, expected_rows, strict=True):
        width = len(table.periods)
        assert [_sum_rows(table, position) for position in range(width)] == actuals(table.totals)
        parent = by_label(table)[label]
        child = selectors.dissect(org.executive, parent.drill, today=AS_OF)
        assert child.rows_dimension == rows_dimension
        # The child's totals are the parent's cells, period by period: actuals and plan.
        assert actuals(child.totals) == actuals(parent)
        if parent.total.plan_minor is not None:
            assert plans(child.totals) == plans(parent)
        table = child
    assert table.scope.text == f"seller:{org.sam.pk}"
    assert table.view.filter_map == {"region": org.north.pk, "customer": data.catalog.globex.pk}
    assert [crumb.label for crumb in table.where] == [
        "Company",
        "Region: North",
        "Team North (Maria Manager)",
        "Sam Seller",
        "Customer: Globex",
    ]
    assert table.where[-1].view is None
    # Going back up one crumb is the table the customer was chosen from.
    back = selectors.dissect(org.executive, table.where[-2].view, today=AS_OF)
    assert back.rows_dimension == "customer"
    assert back.scope.text == f"seller:{org.sam.pk}"
    assert back.view.filter_map == {"region": org.north.pk}


def test_plans_of_teams_and_sellers_sum_to_their_parent_by_month_and_within_a_cent_a_seller_by_week(data):
    """Quotas reconcile exactly by month (no cushion). Each person's quota is spread over business
    days on its own, so a team's weekly plan may differ from its sellers' by a cent per seller."""
    org = data.org
    for grain, tolerance in (("month", 0), ("week", 2)):
        company = dissect(org.executive, rows="org", grain=grain)
        team = dissect(org.executive, scope=f"team:{org.maria.pk}", grain=grain)
        north = by_label(company)["Team North (Maria Manager)"]
        assert plans(team.totals) == plans(north)
        for position, plan in enumerate(plans(team.totals)):
            assert abs(_sum_row_plans(team, position) - plan) <= tolerance
            assert abs(_sum_row_plans(company, position) - company.totals.figures[position].plan_minor) <= tolerance


def test_periods_drill_year_quarter_month_week_day_and_sum_to_their_parent(data):
    org = data.org
    view = Dissection(scope="company", rows="region", grain=Grain.YEAR, start=date(2027, 1, 1), end=date(2027, 12, 31))
    table = selectors.dissect(org.executive, view, today=AS_OF)
    chain = [Grain.QUARTER, Grain.MONTH, Grain.WEEK, Grain.DAY]

    for finer in chain:
        parent_cell = table.totals.figures[0]
        drill = table.period_drills[0]
        child = selectors.dissect(org.executive, drill, today=AS_OF)
        assert child.view.grain == finer
        assert sum(actuals(child.totals)) == parent_cell.actual_minor
        assert sum(plans(child.totals)) == parent_cell.plan_minor
        for row in child.rows:
            parent_row = next(candidate for candidate in table.rows if candidate.key == row.key)
            assert sum(actuals(row)) == parent_row.figures[0].actual_minor
            assert sum(plans(row)) == parent_row.figures[0].plan_minor
        table = child
    assert table.period_drills[0] is None  # a day is the bottom
    assert [crumb.label for crumb in table.when] == [
        "Plan horizon",
        "FY2027",
        "Q1 FY2027",
        "Jan 2027",
        "W53 2026",
        "1 Jan 2027 – 3 Jan 2027",
    ]
    assert [crumb.view.grain for crumb in table.when[:-1]] == [Grain.YEAR, Grain.QUARTER, Grain.MONTH, Grain.WEEK, Grain.DAY]


def test_a_cell_drills_the_row_and_the_period_together(data):
    table = dissect(data.org.executive)
    north = by_label(table)["North"]

    cell = north.cell_drills[1]

    assert cell.params() == {
        "scope": "company",
        "rows": "org",
        "grain": "week",
        "from": "2027-02-01",
        "to": "2027-02-28",
        "measure": "booked",
        "region": str(data.org.north.pk),
    }
    child = selectors.dissect(data.org.executive, cell, today=AS_OF)
    assert sum(actuals(child.totals)) == north.figures[1].actual_minor == 30_000


# --- cost ----------------------------------------------------------------------------------------

VIEWS = [
    ("executive", {}),
    ("executive", {"rows": "org"}),
    ("executive", {"rows": "customer"}),
    ("executive", {"rows": "org", "region": "{north}"}),
    ("executive", {"rows": "motion", "grain": "week"}),
    ("executive", {"rows": "org", "grain": "day", "from": "2027-01-01", "to": "2027-01-31"}),
    ("manager", {}),
    ("manager", {"rows": "region"}),
    ("manager", {"rows": "product_line", "grain": "week"}),
    ("seller", {}),
    ("seller", {"rows": "motion"}),
    ("seller", {"rows": "region", "grain": "day", "from": "2027-02-01", "to": "2027-02-28"}),
    ("executive", {"scope": "customer:{acme}", "rows": "org"}),
]


def _more_results(org, catalog, count):
    customers = [Customer(code=f"C{n}", name=f"Customer {n}", home_region=org.north) for n in range(40)]
    Customer.objects.bulk_create(customers)
    customers = list(Customer.objects.filter(code__startswith="C"))
    sellers = [org.sam.pk, org.sara.pk, org.olga.pk, org.maria.pk]
    lines = []
    for number in range(count):
        lines.append(
            line(
                org, catalog, f"M{number}", occurred_on=date(2027, 1 + number % 3, 1 + number % 28), amount_minor=100 + number,
                customer_id=customers[number % len(customers)].pk, motion=("new", "renewal", "expansion")[number % 3],
                region_id=(org.north.pk, org.south.pk)[number % 2], credits=((sellers[number % 4], 10_000),),
            )
        )  # fmt: skip
    ingest(org, catalog, *lines, source="more")


def _queries(user, params):
    with CaptureQueriesContext(connection) as captured:
        dissect(user, **params)
    return captured.captured_queries


def test_query_counts_are_fixed_whatever_the_number_of_results(data, settings):
    org = data.org
    keys = {"north": org.north.pk, "acme": data.catalog.acme.pk}
    resolved = [(getattr(org, persona), {k: v.format(**keys) for k, v in params.items()}) for persona, params in VIEWS]
    for user, params in resolved:  # warm the caches (content types, sessions) before counting
        dissect(user, **params)
    before = [len(_queries(user, params)) for user, params in resolved]

    _more_results(org, data.catalog, 600)
    after = [len(_queries(user, params)) for user, params in resolved]

    assert after == before
    # Views without a dimension read the subtree totals and the person's own credits: two small
    # reads where a single one over every dimension combination would be far larger.
    # A small subtree reads a team's breakdown from its lines in one query instead of two rollup
    # reads; org rows mixing large and small subtrees read both, plus who is in the small ones.
    expected = {
        0: [6, 14, 9, 14, 6, 14, 13, 11, 11, 11, 8, 8, 13],
        2: [6, 14, 9, 15, 6, 15, 13, 11, 11, 11, 8, 8, 13],
        1_000: [6, 14, 9, 14, 6, 14, 13, 10, 11, 11, 8, 8, 13],
    }
    assert before == expected[settings.EQUIPOISE_LARGE_SUBTREE]


def test_no_read_scans_result_lines_outside_an_index(data):
    if connection.vendor != "sqlite":
        pytest.skip("the query plan check reads SQLite's EXPLAIN QUERY PLAN")
    org = data.org
    keys = {"north": org.north.pk, "acme": data.catalog.acme.pk}
    checked = 0
    for persona, params in VIEWS:
        for query in _queries(getattr(org, persona), {k: v.format(**keys) for k, v in params.items()}):
            sql = query["sql"]
            if "results_resultline" not in sql or sql.startswith("SELECT 1 AS"):
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plan = [row[-1] for row in cursor.fetchall()]
            line_steps = [step for step in plan if "results_resultline" in step]
            assert line_steps, plan
            assert all("USING INDEX" in step or "USING COVERING INDEX" in step for step in line_steps), (sql, plan)
            checked += 1
    assert checked >= 8


def test_a_bigger_team_costs_no_more_queries(data):
    org = data.org
    dissect(org.manager)
    before = len(_queries(org.manager, {}))
    for number in range(15):
        person_create(full_name=f"Extra {number}", role=Role.SELLER, manager=org.maria)

    after = len(_queries(org.manager, {}))

    assert after == before


@pytest.mark.parametrize("rows", ["region", "product_line", "product_application", "motion", ""])
def test_company_days_by_any_dimension_and_filter_add_up_to_its_months(data, rows):
    """By day the company reads its rollups by region alone or by product alone where the request
    needs only one of them, and by every dimension otherwise; by month always by every dimension.
    Whatever the rows and filters, the days of each month sum to that month."""
    org, catalog = data.org, data.catalog
    filter_sets = [
        {},
        {"region": org.north.pk},
        {"product_line": catalog.connectivity.pk},
        {"product_application": catalog.fibre.pk},
        {"region": org.south.pk, "product_line": catalog.connectivity.pk},
        {"motion": "new", "region": org.north.pk},
    ]
    for filters in filter_sets:
        params = {name: str(value) for name, value in filters.items()} | ({"rows": rows} if rows else {})
        days = dissect(org.executive, grain="day", **params)
        months = dissect(org.executive, grain="month", **params)
        summed: dict[tuple[str, date], int] = {}
        for row in [days.totals, *days.rows]:
            key = row.key if row is not days.totals else "total"
            for period, figures in zip(days.periods, row.figures, strict=True):
                month = (key, period.start.replace(day=1))
                summed[month] = summed.get(month, 0) + figures.actual_minor
        expected = {
            (row.key if row is not months.totals else "total", period.start): figures.actual_minor
            for row in [months.totals, *months.rows]
            for period, figures in zip(months.periods, row.figures, strict=True)
        }
        assert summed == expected, filters
        assert expected[("total", date(2027, 1, 1))] != 0 or filters, "the data has January results"

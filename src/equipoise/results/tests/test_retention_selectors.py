"""Retention for a scope and period against the database: contracts, activity, scopes, objectives."""

from datetime import date
from decimal import Decimal

import pytest

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.org.models import Company, Customer, Person, ProductLine, Region
from equipoise.org.services import person_create
from equipoise.planning.models import PlanVersion
from equipoise.results.contracts import contracts_upsert
from equipoise.results.ingest import Ingestor
from equipoise.results.retention import Basis, Ratio
from equipoise.results.retention_objectives import ObjectiveFit, ObjectiveStatus
from equipoise.results.retention_selectors import access_retention_scope, product_line_options, retention_report, scope_options
from equipoise.results.tests.conftest import line, make_batch

pytestmark = pytest.mark.django_db
TODAY = date(2027, 3, 1)


def contract(external_id, customer, starts_on, ends_on, amount_minor, **extra):
    return {
        "external_id": external_id,
        "customer_code": customer,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "currency": "EUR",
        "amount_minor": amount_minor,
        **extra,
    }


@pytest.fixture
def book(org, catalog):
    """Jan 2027: Acme (Sam) renewed for less, Globex (Olga) churned, Initech (Sara) expanded, Hooli (Sam) new."""
    Customer.objects.create(code="INITECH", name="Initech", home_region=org.north, owner=org.sara)
    Customer.objects.create(code="HOOLI", name="Hooli", home_region=org.north, owner=org.sam)
    result = contracts_upsert(
        actor=None,
        source="billing",
        rows=[
            contract("A1", "ACME", "2026-01-01", "2026-12-31", 12_000),
            contract("A2", "ACME", "2027-01-01", "2027-12-31", 10_000, renews_external_id="A1"),
            contract("G1", "GLOBEX", "2026-01-01", "2026-12-31", 12_000),
            contract("I1", "INITECH", "2026-06-01", "2027-05-31", 1_000, billing_period="monthly"),
            contract("I2", "INITECH", "2027-01-15", "2028-01-14", 6_000, product_line_code="CONN"),
            contract("H1", "HOOLI", "2027-01-10", "2028-01-09", 5_000),
        ],
    )
    assert result.status == "committed", result.errors
    return catalog


def report(user, **params):
    params.setdefault("period", "2027-01")
    return retention_report(user, today=TODAY, **params)


def triple(figures):
    return (figures.grr, figures.nrr, figures.logo_churn)


def test_company_retention_from_contracts(org, book):
    result = report(org.executive)
    figures = result.figures
    assert result.basis == Basis.CONTRACTS and result.currency == "EUR"
    assert (figures.cohort_count, figures.churned_count, figures.contracted_count, figures.expanded_count, figures.new_count) == (
        3,
        1,
        1,
        1,
        1,
    )
    assert (figures.start_minor, figures.kept_minor, figures.end_minor, figures.new_minor) == (36_000, 22_000, 28_000, 5_000)
    assert triple(figures) == (Ratio(22_000, 36_000), Ratio(28_000, 36_000), Ratio(1, 3))
    by_code = {Customer.objects.get(pk=balance.customer_id).code: balance for balance in result.balances}
    assert {code: balance.category.value for code, balance in by_code.items()} == {
        "ACME": "contracted",
        "GLOBEX": "churned",
        "INITECH": "expanded",
        "HOOLI": "new",
    }
    assert (by_code["GLOBEX"].start_minor, by_code["GLOBEX"].end_minor) == (12_000, 0)
    assert (by_code["INITECH"].start_minor, by_code["INITECH"].end_minor) == (12_000, 18_000)


def test_team_seller_and_region_scopes(org, book):
    team = report(org.executive, scope=f"team:{org.maria.pk}").figures
    assert (team.cohort_count, team.start_minor, team.kept_minor, team.end_minor, team.churned_count) == (2, 24_000, 22_000, 28_000, 0)
    seller = report(org.executive, scope=f"seller:{org.sam.pk}").figures
    assert (seller.cohort_count, seller.start_minor, seller.end_minor, seller.new_count) == (1, 12_000, 10_000, 1)
    assert seller.grr == Ratio(10_000, 12_000)
    south = report(org.executive, scope=f"region:{org.south.pk}").figures
    assert (south.cohort_count, south.churned_count, south.logo_churn) == (1, 1, Ratio(1, 1))


def test_a_region_includes_its_countries(org, book):
    norway = Region.objects.create(code="NO", name="Norway", parent=org.north)
    Customer.objects.filter(code="ACME").update(home_region=norway)
    north = report(org.executive, scope=f"region:{org.north.pk}").figures
    assert north.cohort_count == 2
    assert report(org.executive, scope=f"region:{norway.pk}").figures.cohort_count == 1


def test_a_product_line_narrows_to_its_contracts(org, book):
    figures = report(org.executive, product_line=book.connectivity.pk).figures
    assert (figures.cohort_count, figures.new_count, figures.new_minor) == (0, 1, 6_000)
    with pytest.raises(NotFound):
        report(org.executive, product_line="999999")


def test_quarter_and_fiscal_year_grains(org, book):
    Company.objects.update(fiscal_year_start_month=4)
    quarter = report(org.executive, grain="quarter", period="2027-02")  # Q4 FY2027: Jan–Mar 2027, to date
    assert (quarter.period.label, quarter.period.start, quarter.as_of) == ("Q4 FY2027", date(2027, 1, 1), TODAY)
    assert quarter.in_progress
    assert len(quarter.trend) == 8 and quarter.trend[-1].period == quarter.period
    year = report(org.executive, grain="year", period="2026-06")  # FY2027: Apr 2026 – Mar 2027
    assert (year.period.label, year.period.baseline) == ("FY2027", date(2026, 3, 31))
    assert year.figures.cohort_count == 2  # Acme and Globex had contracts on 31 Mar 2026


def test_the_trend_holds_the_periods_before(org, book):
    result = report(org.executive)
    assert [point.period.label for point in result.trend][-3:] == ["Nov 2026", "Dec 2026", "Jan 2027"]
    december = result.trend[-2].figures
    assert (december.cohort_count, december.churned_count) == (3, 0)


def statuses(result):
    return [result.objectives[key].status for key in ("grr", "nrr", "logo_churn")]


def test_objectives_judge_a_fiscal_year_in_progress_only_so_far(org, book, approved_plan):
    # The plan covers 2027–2028; on 1 Mar 2027 FY2027 is two months old.
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=6_000, nrr_objective_bp=8_000, max_logo_churn_bp=2_500)
    year = report(org.executive, grain="year", period="2027-01")
    assert year.plan_name == approved_plan.name and year.objective_fit == ObjectiveFit.APPLIES
    assert (year.objectives["grr"].met, year.objectives["nrr"].met, year.objectives["logo_churn"].met) == (True, False, False)
    assert [year.objectives[key].final for key in ("grr", "nrr", "logo_churn")] == [False, False, False]
    assert statuses(year) == [ObjectiveStatus.ON_TRACK, ObjectiveStatus.OFF_TRACK, ObjectiveStatus.OFF_TRACK]


def test_objectives_judge_an_ended_fiscal_year_finally(org, book, approved_plan):
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=4_000, nrr_objective_bp=8_000, max_logo_churn_bp=2_500)
    ended = retention_report(org.executive, grain="year", period="2027-01", today=date(2028, 1, 10))
    assert ended.as_of == date(2027, 12, 31) and not ended.in_progress
    assert ended.figures.grr == Ratio(16_000, 36_000)  # Acme renewed for less, Initech dropped to its second contract
    assert all(ended.objectives[key].final for key in ("grr", "nrr", "logo_churn"))
    assert statuses(ended) == [ObjectiveStatus.MET, ObjectiveStatus.MISSED, ObjectiveStatus.MISSED]
    last_day = retention_report(org.executive, grain="year", period="2027-01", today=date(2027, 12, 31))
    assert last_day.objectives["grr"].final  # the period's last day: the figures are final


def test_annual_objectives_do_not_judge_a_month_or_a_quarter(org, book, approved_plan):
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=6_000)
    for grain in ("month", "quarter"):
        result = report(org.executive, grain=grain)
        assert result.objective_fit == ObjectiveFit.NOT_A_FISCAL_YEAR
        assert [result.objectives[key].met for key in ("grr", "nrr", "logo_churn")] == [None, None, None]
        assert result.objectives["grr"].objective_bp == 6_000 and not result.objectives["grr"].applies  # named for reference


def test_objectives_do_not_judge_a_fiscal_year_outside_the_plan(org, book, approved_plan):
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=6_000)
    before = report(org.executive, grain="year", period="2026-01")  # the plan starts in Jan 2027
    assert before.objective_fit == ObjectiveFit.OUTSIDE_PLAN
    assert (before.objectives["grr"].met, before.objectives["grr"].status, before.objectives["grr"].applies) == (None, None, False)
    assert (before.plan_first_month, before.plan_last_month) == (date(2027, 1, 1), date(2028, 12, 1))
    assert before.objective_fit_of(report(org.executive, grain="year").period) == ObjectiveFit.APPLIES


def test_without_a_plan_there_is_no_objective(org, book):
    result = report(org.executive, grain="year")
    assert result.plan_name is None and result.objectives["grr"].objective_bp is None and result.objectives["grr"].met is None
    assert result.objective_fit == ObjectiveFit.NO_PLAN


def test_someone_no_longer_active_has_a_breakdown_row_only_while_they_have_customers(org, book):
    # As on the tracking page: active direct reports always have a row; someone who left only
    # while they have customers in the period, marked as no longer active.
    new_hire = person_create(full_name="Nina New", role="seller", manager=org.maria)
    gone = person_create(full_name="Gus Gone", role="seller", manager=org.maria)
    Person.objects.filter(pk=gone.pk).update(is_active=False)
    Person.objects.filter(pk=org.sara.pk).update(is_active=False)
    rows = {row.label: row.figures for row in report(org.manager).breakdown}
    assert set(rows) == {"Sam Seller", "Sara Seller (no longer active)", "Nina New"}
    assert rows["Sara Seller (no longer active)"].cohort_count == 1
    assert (rows["Nina New"].cohort_count, rows["Nina New"].new_count) == (0, 0)  # active, no customers yet: shown, as in tracking
    assert new_hire.is_active


def test_a_row_with_customers_only_in_earlier_periods_is_left_out(org, book):
    # Globex (Olga, Omar's team) churned at the end of 2026: in Feb 2027 Omar's team has no one.
    Person.objects.filter(pk=org.omar.pk).update(is_active=False)
    rows = {row.key for row in report(org.executive, period="2027-02").breakdown}
    assert str(org.omar.pk) not in rows and str(org.maria.pk) in rows
    assert str(org.omar.pk) in {row.key for row in report(org.executive, period="2026-12").breakdown}


def test_an_empty_scope_says_so(org, book):
    empty = report(org.seller, scope=f"region:{org.south.pk}")
    assert (empty.has_customers, empty.trend_has_customers) == (False, False)
    full = report(org.seller)
    assert (full.has_customers, full.trend_has_customers) == (True, True)


def test_the_breakdown_follows_the_org_tree(org, book):
    rows = {row.key: row for row in report(org.executive).breakdown}
    assert set(rows) == {str(org.maria.pk), str(org.omar.pk)}  # the VP sold nothing: no row of their own
    assert rows[str(org.maria.pk)].scope_text == f"team:{org.maria.pk}"
    assert rows[str(org.maria.pk)].figures.cohort_count == 2
    assert rows[str(org.omar.pk)].figures.logo_churn == Ratio(1, 1)
    contracts_upsert(
        actor=None, source="billing", rows=[contract("M1", "ACME", "2026-01-01", "2027-12-31", 1_000, seller_username="manager")]
    )
    team_rows = {row.label: row.figures for row in report(org.manager).breakdown}
    assert set(team_rows) == {"Sam Seller", "Sara Seller", "Maria Manager (own customers)"}
    assert team_rows["Maria Manager (own customers)"].cohort_count == 1
    assert team_rows["Sara Seller"].expanded_count == 1
    assert report(org.seller).breakdown == []


def test_other_currencies_are_left_out_and_named(org, book):
    contracts_upsert(actor=None, source="billing", rows=[{**contract("U1", "ACME", "2026-01-01", "2027-12-31", 50_000), "currency": "USD"}])
    result = report(org.executive)
    assert result.other_currencies == ["USD"]
    assert result.figures.start_minor == 36_000


# --- scope ---------------------------------------------------------------------------------------


def test_each_role_starts_from_its_own_scope(org, book):
    assert report(org.executive).scope.text == "company"
    assert report(org.manager).scope.text == f"team:{org.maria.pk}"
    assert report(org.seller).scope.text == f"seller:{org.sam.pk}"
    assert report(org.seller).figures.start_minor == 12_000


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
        ("other_seller", "seller:{sam}"),
        ("executive", "seller:999999"),
        ("executive", "region:999999"),
        ("executive", "seller:abc"),
    ],
)
def test_scopes_outside_the_users_are_not_found(org, book, persona, scope):
    text = scope.format(olga=org.olga.pk, sara=org.sara.pk, maria=org.maria.pk, omar=org.omar.pk, sam=org.sam.pk)
    with pytest.raises(NotFound):
        access_retention_scope(getattr(org, persona), text)


def test_regions_are_offered_by_name_and_only_where_the_users_own_scope_has_customers(org, book, django_assert_max_num_queries):
    norway = Region.objects.create(code="NO", name="Norway", parent=org.north)
    Region.objects.create(code="AA", name="Zanzibar")  # first by code, last by name; no customers
    Customer.objects.filter(code="ACME").update(home_region=norway)

    def regions(user):
        return [label.strip() for value, label in scope_options(user) if value.startswith("region:")]

    assert regions(org.executive) == ["Region North", "Region Norway (North)", "Region South"]
    assert regions(org.seller) == ["Region North", "Region Norway (North)"]  # Sam: Acme (Norway) and Hooli (North)
    assert regions(org.other_seller) == ["Region South"]  # Olga: Globex
    assert regions(org.manager) == ["Region North", "Region Norway (North)"]
    with django_assert_max_num_queries(4):  # teams, sellers, whether there are contracts, and one for the regions
        regions_only = [value for value, _ in scope_options(org.seller) if value.startswith("region:")]
    assert regions_only == [f"region:{org.north.pk}", f"region:{norway.pk}"]


def test_scope_options_never_offer_other_people_to_a_seller(org, book):
    values = {value for value, _ in scope_options(org.seller)}
    assert values == {f"seller:{org.sam.pk}", f"region:{org.north.pk}"}
    asked = access_retention_scope(org.seller, f"region:{org.south.pk}")  # not offered, still readable, and narrowed
    assert scope_options(org.seller, asked)[0] == (f"region:{org.south.pk}", "Region South, your customers")


def test_product_lines_are_offered_where_the_users_own_scope_has_contracts(org, book):
    other = ProductLine.objects.create(code="ZZ", name="Another line")
    assert [label for _, label in product_line_options(org.executive)] == ["Another line", "Connectivity"]
    assert product_line_options(org.seller) == []  # Sam's contracts have no product line
    assert product_line_options(org.teammate) == [(str(book.connectivity.pk), "Connectivity")]  # Sara's I2
    assert product_line_options(org.seller, other) == [(str(other.pk), "Another line")]  # the chosen one stays


def test_a_region_is_narrowed_to_the_users_own_customers(org, book):
    assert report(org.seller, scope=f"region:{org.north.pk}").figures.cohort_count == 1  # Acme only, not Sara's Initech
    assert report(org.manager, scope=f"region:{org.north.pk}").figures.cohort_count == 2
    assert report(org.seller, scope=f"region:{org.south.pk}").figures.cohort_count == 0


def test_a_login_outside_the_organisation_is_refused(org, book):
    with pytest.raises(AccessDenied):
        report(org.outsider)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grain": "week"}, "grain"),
        ({"period": "2027-13"}, "period"),
        ({"period": "2027-04"}, "period"),  # not started yet
        ({"scope": "planet:1"}, "scope"),
    ],
)
def test_fixable_parameters_name_their_field(org, book, params, field):
    with pytest.raises(ApplicationError) as error:
        report(org.executive, **params)
    assert error.value.field == field


# --- activity-based ------------------------------------------------------------------------------


def ingest(org, catalog, *lines):
    Ingestor(batch=make_batch()).ingest(list(lines))


def test_without_contracts_retention_follows_purchases_and_lapses_after_n_months(org, catalog):
    Company.objects.update(lapse_after_months=3)
    ingest(
        org,
        catalog,
        line(org, catalog, "L1", occurred_on=date(2026, 11, 20), amount_minor=40_000),
        line(
            org,
            catalog,
            "L2",
            occurred_on=date(2026, 12, 5),
            amount_minor=10_000,
            customer_id=catalog.globex.pk,
            region_id=org.south.pk,
            credits=((org.olga.pk, 10_000),),
        ),
        line(
            org,
            catalog,
            "L3",
            occurred_on=date(2027, 1, 20),
            amount_minor=30_000,
            customer_id=catalog.globex.pk,
            region_id=org.south.pk,
            credits=((org.olga.pk, 10_000),),
        ),
    )
    january = report(org.executive)
    assert january.basis == Basis.ACTIVITY
    assert (january.figures.cohort_count, january.figures.churned_count, january.figures.expanded_count) == (2, 0, 1)
    assert (january.figures.start_minor, january.figures.end_minor) == (50_000, 80_000)
    february = report(org.executive, period="2027-02")  # Acme's last purchase (Nov) is out of Dec–Feb: lapsed
    assert (february.figures.cohort_count, february.figures.churned_count) == (2, 1)
    assert february.figures.logo_churn == Ratio(1, 2)
    assert february.figures.grr == Ratio(40_000, 80_000)
    Company.objects.update(lapse_after_months=12)
    assert report(org.executive, period="2027-02").figures.churned_count == 0


def test_activity_retention_is_scoped_by_the_credited_seller(org, catalog):
    ingest(
        org,
        catalog,
        line(org, catalog, "L1", occurred_on=date(2026, 6, 1), amount_minor=10_000),
        line(
            org,
            catalog,
            "L2",
            occurred_on=date(2026, 7, 1),
            amount_minor=8_000,
            customer_id=catalog.globex.pk,
            region_id=org.south.pk,
            credits=((org.olga.pk, 10_000),),
        ),
    )
    mine = report(org.seller).figures
    assert (mine.cohort_count, mine.start_minor) == (1, 10_000)
    assert report(org.executive).figures.cohort_count == 2
    assert report(org.executive, scope=f"region:{org.south.pk}").figures.start_minor == 8_000


def test_activity_revenue_uses_the_company_measure(org, catalog):
    ingest(
        org,
        catalog,
        line(org, catalog, "B1", occurred_on=date(2026, 6, 1), amount_minor=10_000),
        line(org, catalog, "I1", kind="invoice", occurred_on=date(2026, 7, 1), amount_minor=7_000),
        line(org, catalog, "CN1", kind="credit_note", occurred_on=date(2026, 8, 1), amount_minor=-2_000),
    )
    assert report(org.executive).figures.start_minor == 10_000
    Company.objects.update(actual_measure="invoiced")
    assert report(org.executive).figures.start_minor == 5_000
    assert report(org.executive).figures.grr.value == Decimal(1)


@pytest.mark.parametrize("renewal_starts", ["2027-01-20", "2027-02-10"])  # inside the period, and after it
def test_a_late_renewal_bridges_the_gap_across_the_boundary(org, catalog, renewal_starts):
    contracts_upsert(
        actor=None,
        source="billing",
        rows=[
            contract("A1", "ACME", "2026-01-01", "2026-12-15", 12_000),
            contract("A2", "ACME", renewal_starts, "2027-12-31", 12_000, renews_external_id="A1"),
        ],
    )
    figures = report(org.executive).figures
    assert (figures.cohort_count, figures.retained_count, figures.churned_count) == (1, 1, 0)
    contracts_upsert(actor=None, source="billing", rows=[contract("A2", "ACME", renewal_starts, "2027-12-31", 12_000)])  # unlinked
    figures = report(org.executive).figures
    assert (figures.cohort_count, figures.new_count) == (0, 1 if renewal_starts < "2027-02" else 0)

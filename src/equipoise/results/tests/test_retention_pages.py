"""The retention page and ``GET /api/v1/retention``: rendering, scoping, errors and query counts."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from equipoise.org.models import Customer
from equipoise.planning.models import PlanVersion
from equipoise.results.contracts import contracts_upsert
from equipoise.results.models import Contract
from equipoise.results.retention_views import fitted_axis

pytestmark = pytest.mark.django_db
PAGE = "/results/retention/"
API = "/api/v1/retention"


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to("2027-03-01 09:00")


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
    result = contracts_upsert(
        actor=None,
        source="billing",
        rows=[
            contract("A1", "ACME", "2026-01-01", "2026-12-31", 12_000),
            contract("A2", "ACME", "2027-01-01", "2027-12-31", 10_000, renews_external_id="A1"),
            contract("G1", "GLOBEX", "2026-01-01", "2026-12-31", 12_000),
        ],
    )
    assert result.status == "committed"
    return catalog


def many_customers(org, count, prefix):
    customers = Customer.objects.bulk_create(
        Customer(code=f"{prefix}{index}", name=f"Customer {prefix}{index}", home_region=org.north, owner=org.sam) for index in range(count)
    )
    Contract.objects.bulk_create(
        Contract(
            source="bulk",
            external_id=f"{prefix}{index}",
            customer=customer,
            seller=org.sam if index % 2 else org.sara,
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31) if index % 3 == 0 else date(2027, 12, 31),
            currency="EUR",
            amount_minor=1_000 + index,
        )
        for index, customer in enumerate(customers)
    )


# --- page ----------------------------------------------------------------------------------------


def test_the_empty_state_says_where_data_comes_from(client, org):
    client.force_login(org.executive)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert b"No contracts or results yet" in response.content


def test_the_executive_sees_cards_objectives_trend_breakdown_and_customers(client, org, book, approved_plan):
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=9_000, nrr_objective_bp=8_000, max_logo_churn_bp=1_000)
    client.force_login(org.executive)
    response = client.get(PAGE, {"period": "2027-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Company · Jan 2027" in html
    assert "Gross revenue retention" in html and "41.7%" in html  # 10,000 kept of 24,000
    # The objectives are annual rates: a month is not put beside them, and the page says why.
    assert html.count("Annual objective: judged per fiscal year") == 3
    assert "Objective at least" not in html and "Objective at most" not in html
    assert "so a month is not judged against them" in html and "see the fiscal year" in html
    assert "Met" not in html.split('id="retention-objectives-note"')[0].split("retention-title")[1] and "Missed" not in html
    year = client.get(PAGE, {"grain": "year", "period": "2027-01"}).content.decode()
    assert "Objective at least 90%" in year and "Objective at least 80%" in year and "Objective at most 10%" in year
    assert 'id="retention-chart"' in html and "plotly.min.js" in html
    assert "By team and seller" in html and "Maria Manager" not in html.split("By team and seller")[0].split("<h2")[-1]
    assert "Acme" in html and "Globex" in html and "Churned" in html


def cards_html(html):
    return html.split('id="retention-title"')[1].split('id="chart-title"')[0]


def test_a_year_in_progress_is_judged_so_far_not_met_or_missed(client, org, book, approved_plan):
    # 1 Mar 2027: FY2027 has ten months to go. GRR 41.7% so far against 40%; NRR and churn are off.
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=4_000, nrr_objective_bp=8_000, max_logo_churn_bp=1_000)
    client.force_login(org.executive)
    cards = cards_html(client.get(PAGE, {"grain": "year", "period": "2027-01"}).content.decode())
    assert '<span class="variance variance-provisional">On track so far</span>' in cards
    assert '<span class="variance variance-provisional variance-provisional-bad">Below objective so far</span>' in cards
    assert "Above maximum so far</span>" in cards
    assert "Met" not in cards and "Missed" not in cards and "✓" not in cards and "✗" not in cards
    assert "FY2027 is in progress: its figures are to date, so it is judged <em>so far</em>, not finally" in cards


def test_an_ended_year_is_met_or_missed_in_words_and_symbol(client, org, book, approved_plan, time_machine):
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=4_000, nrr_objective_bp=8_000, max_logo_churn_bp=1_000)
    time_machine.move_to("2028-01-10 09:00")  # FY2027 has ended
    client.force_login(org.executive)
    cards = cards_html(client.get(PAGE, {"grain": "year", "period": "2027-01"}).content.decode())
    assert cards.count('<span class="variance variance-good"><span aria-hidden="true">✓ </span>Met</span>') == 1  # GRR 44.4%
    assert cards.count('<span class="variance variance-bad"><span aria-hidden="true">✗ </span>Missed</span>') == 2
    assert "so far" not in cards


def test_a_year_the_plan_does_not_cover_has_no_objective(client, org, book, approved_plan, time_machine):
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=4_000, nrr_objective_bp=8_000, max_logo_churn_bp=1_000)
    time_machine.move_to("2028-01-10 09:00")
    client.force_login(org.executive)
    html = client.get(PAGE, {"grain": "year", "period": "2027-01"}).content.decode()
    assert "Objective at least 40%" in html  # FY2027: the plan covers 2027–2028
    Contract.objects.filter(external_id__in=["A1", "G1"]).update(starts_on=date(2025, 1, 1))  # FY2026 gets a starting cohort
    html = client.get(PAGE, {"grain": "year", "period": "2026-01"}).content.decode()
    assert html.count("No objective for FY2026 (outside the plan)") == 3
    assert "Objective at least" not in html and "Objective at most" not in html and "Missed" not in html
    assert "Met" not in cards_html(html) and "FY2026 is not one of them" in html


def test_a_period_without_a_starting_cohort_says_so_and_lists_the_new_customers(client, org, book):
    client.force_login(org.executive)
    html = client.get(PAGE, {"grain": "year", "period": "2026-01"}).content.decode()  # the contracts start in 2026
    assert "No customers at the start of this period" in html
    assert "Company had no customers under contract on 31 Dec 2025" in html and "2 new customers since are listed below" in html
    assert "kept of" not in html and "Gross revenue retention" not in html
    assert "customers-title" in html and "Acme" in html and "Globex" in html


def test_the_chart_draws_objectives_only_where_they_judge_on_axes_fitted_to_the_figures(client, org, book, approved_plan):
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=9_200, nrr_objective_bp=10_800, max_logo_churn_bp=800)
    client.force_login(org.executive)
    month = client.get(PAGE, {"period": "2027-01"}).context["chart"]
    assert month["objectives"] == {key: [None] * 12 for key in ("grr", "nrr", "logoChurn")}
    year = client.get(PAGE, {"grain": "year", "period": "2027-01"}).context["chart"]
    assert year["labels"] == ["FY2024", "FY2025", "FY2026", "FY2027"]
    assert year["objectives"] == {"grr": [None, None, None, 92.0], "nrr": [None, None, None, 108.0], "logoChurn": [None, None, None, 8.0]}
    assert year["grr"][-1] == pytest.approx(41.666667) and year["nrr"][-1] == pytest.approx(41.666667)
    assert year["ranges"] == {"rates": [35.0, 115.0], "churn": [0.0, 55.0]}  # 41.7%–108% and 8%–50%, padded


@pytest.mark.parametrize(
    ("values", "from_zero", "expected"),
    [
        ([92.3, 93.1, 103.1, 107.5, None], False, [90.0, 110.0]),  # padded by 2 points, out to multiples of 5
        ([99.0, 100.5], False, [95.0, 105.0]),
        ([1.0, 60.0], False, [0.0, 70.0]),  # a 10% padding of the spread, never below 0
        ([0.7, 2.9], True, [0.0, 5.0]),
        ([None, None], False, None),  # nothing drawn: Plotly's own range
        ([], True, None),
    ],
)
def test_the_chart_axis_is_fitted_to_the_figures(values, from_zero, expected):
    assert fitted_axis(values, from_zero=from_zero) == expected


def test_a_scope_without_customers_shows_an_empty_state_and_no_chart(client, org, book, approved_plan):
    client.force_login(org.seller)
    html = client.get(PAGE, {"scope": f"region:{org.south.pk}", "period": "2027-01"}).content.decode()
    assert "No customers in this scope and period" in html
    assert "Region South, your customers had no customers under contract on 31 Dec 2026 and gained none by 31 Jan 2027" in html
    assert "Your whole scope, every region" in html and "The whole fiscal year" in html
    assert 'id="retention-chart"' not in html and "plotly.min.js" not in html and "retention-chart-data" not in html
    assert "kept of" not in html and "Gross revenue retention" not in html and "customers-title" not in html
    own = client.get(PAGE, {"period": "2027-01"}).content.decode()
    assert "No customers in this scope and period" not in own and 'id="retention-chart"' in own


def test_the_seller_picks_from_regions_where_they_have_customers(client, org, book):
    client.force_login(org.seller)
    options = client.get(PAGE, {"period": "2027-01"}).context["scope_options"]
    assert options == [(f"seller:{org.sam.pk}", "Sam Seller"), (f"region:{org.north.pk}", "Region North")]


def test_the_pickers_read_the_users_own_scope_once(client, org, book, monkeypatch):
    from equipoise.results import retention_scopes

    calls = []
    own_data = retention_scopes._own_data
    monkeypatch.setattr(retention_scopes, "_own_data", lambda user: calls.append(user) or own_data(user))
    client.force_login(org.seller)
    context = client.get(PAGE, {"period": "2027-01"}).context
    assert context["scope_options"] == [(f"seller:{org.sam.pk}", "Sam Seller"), (f"region:{org.north.pk}", "Region North")]
    assert context["product_line_options"] == []  # Sam's contracts have no product line
    assert len(calls) == 1


def test_the_customer_table_filters_by_category_and_paginates(client, org, book):
    many_customers(org, 60, "X")
    client.force_login(org.executive)
    churned = client.get(PAGE, {"period": "2027-01", "show": "churned"}).content.decode()
    assert "Globex" in churned and "Acme" not in churned.split("customers-title")[1]
    page_two = client.get(PAGE, {"period": "2027-01", "show": "all", "page": 2})
    assert page_two.status_code == 200 and b"Page 2 of 3" in page_two.content


def test_the_seller_sees_only_their_own_customers(client, org, book):
    client.force_login(org.seller)
    html = client.get(PAGE, {"period": "2027-01"}).content.decode()
    assert "Acme" in html and "Globex" not in html
    assert "By team and seller" not in html
    assert f'value="seller:{org.olga.pk}"' not in html and 'value="company"' not in html


@pytest.mark.parametrize(
    ("persona", "scope"),
    [
        ("seller", "seller:{olga}"),
        ("seller", "company"),
        ("seller", "team:{maria}"),
        ("manager", "team:{omar}"),
        ("other_seller", "seller:{sam}"),
    ],
)
def test_another_scope_is_not_found_on_the_page(client, org, book, persona, scope):
    client.force_login(getattr(org, persona))
    text = scope.format(olga=org.olga.pk, maria=org.maria.pk, omar=org.omar.pk, sam=org.sam.pk)
    response = client.get(PAGE, {"scope": text})
    assert response.status_code == 404
    assert b"Globex" not in response.content and b"Acme" not in response.content


def test_a_fixable_parameter_is_said_above_the_form(client, org, book):
    client.force_login(org.executive)
    response = client.get(PAGE, {"grain": "fortnight"})
    assert response.status_code == 400
    assert b"is not a grain" in response.content and b'aria-invalid="true"' in response.content


def test_a_login_outside_the_organisation_hears_why(client, org, book):
    client.force_login(org.outsider)
    assert client.get(PAGE).status_code == 403


def test_the_page_needs_a_login(client, org, book):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_page_queries_do_not_grow_with_customers(client, org, book):
    client.force_login(org.executive)
    many_customers(org, 5, "S")
    client.get(PAGE, {"period": "2027-01"})  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as small:
        assert client.get(PAGE, {"period": "2027-01"}).status_code == 200
    many_customers(org, 80, "L")
    with CaptureQueriesContext(connection) as large:
        assert client.get(PAGE, {"period": "2027-01"}).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


# --- API -----------------------------------------------------------------------------------------


def test_the_api_answers_the_figures_exactly(client, org, book):
    client.force_login(org.executive)
    body = client.get(API, {"period": "2027-01", "grain": "month"}).json()
    assert body["scope"] == "company" and body["basis"] == "contracts" and body["currency"] == "EUR"
    assert body["period"] == {
        "grain": "month",
        "period": "2027-01",
        "label": "Jan 2027",
        "start": "2027-01-01",
        "end": "2027-01-31",
        "baseline": "2026-12-31",
        "as_of": "2027-01-31",
        "in_progress": False,
    }
    figures = body["figures"]
    assert (figures["cohort_customers"], figures["churned_customers"], figures["start_minor"], figures["kept_minor"]) == (
        2,
        1,
        24_000,
        10_000,
    )
    assert figures["grr"] == {"value": "0.416667", "numerator": 10_000, "denominator": 24_000}
    assert figures["logo_churn"]["value"] == "0.500000"
    assert body["customer_count"] == 2
    assert [(item["code"], item["category"], item["start_minor"], item["end_minor"]) for item in body["customers"]] == [
        ("GLOBEX", "churned", 12_000, 0),
        ("ACME", "contracted", 12_000, 10_000),
    ]
    assert len(body["trend"]) == 12 and body["trend"][-1]["period"]["period"] == "2027-01"
    assert {row["scope"] for row in body["breakdown"]} == {f"team:{org.maria.pk}", f"team:{org.omar.pk}"}


def test_the_api_says_whether_and_how_objectives_judge_the_period(client, org, book, approved_plan):
    PlanVersion.objects.filter(pk=approved_plan.pk).update(grr_objective_bp=4_000, nrr_objective_bp=8_000, max_logo_churn_bp=1_000)
    client.force_login(org.executive)
    year = client.get(API, {"grain": "year", "period": "2027-01"}).json()
    assert (year["objective_fit"], year["has_customers"], year["period"]["in_progress"]) == ("applies", True, True)
    assert year["objectives"]["grr"] == {"objective_bp": 4_000, "met": True, "applies": True, "final": False, "status": "on_track"}
    assert year["objectives"]["logo_churn"]["status"] == "off_track"
    month = client.get(API, {"period": "2027-01"}).json()
    assert month["objective_fit"] == "not_a_fiscal_year"
    assert month["objectives"]["grr"] == {"objective_bp": 4_000, "met": None, "applies": False, "final": True, "status": None}
    assert client.get(API, {"grain": "year", "period": "2026-01"}).json()["objective_fit"] == "outside_plan"
    client.force_login(org.seller)
    assert client.get(API, {"scope": f"region:{org.south.pk}"}).json()["has_customers"] is False


def test_the_api_pages_and_filters_customers(client, org, book):
    client.force_login(org.executive)
    body = client.get(API, {"period": "2027-01", "show": "churned", "limit": 1}).json()
    assert body["customer_count"] == 1 and [item["code"] for item in body["customers"]] == ["GLOBEX"]
    assert client.get(API, {"period": "2027-01", "offset": 1, "limit": 5}).json()["customers"][0]["code"] == "ACME"
    assert client.get(API, {"show": "lost"}).status_code == 400


def test_the_api_seller_sees_only_self(client, org, book):
    client.force_login(org.seller)
    body = client.get(API, {"period": "2027-01"}).json()
    assert body["scope"] == f"seller:{org.sam.pk}"
    assert [item["code"] for item in body["customers"]] == ["ACME"]
    assert body["breakdown"] == []
    for scope in (f"seller:{org.olga.pk}", f"team:{org.omar.pk}", f"team:{org.maria.pk}", "company", "seller:999999"):
        response = client.get(API, {"scope": scope})
        assert response.status_code == 404, scope
        assert "GLOBEX" not in response.content.decode()


def test_the_api_manager_sees_the_subtree(client, org, book):
    client.force_login(org.manager)
    assert client.get(API, {"scope": f"seller:{org.sam.pk}", "period": "2027-01"}).json()["figures"]["cohort_customers"] == 1
    assert client.get(API, {"scope": f"seller:{org.olga.pk}"}).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"), [({"grain": "week"}, "grain"), ({"period": "Jan"}, "period"), ({"period": "2027-09"}, "period")]
)
def test_the_api_names_a_bad_parameter(client, org, book, params, field):
    client.force_login(org.executive)
    response = client.get(API, params)
    assert response.status_code == 400 and response.json()["field"] == field


def test_the_api_needs_authentication(client, org, book):
    assert client.get(API).status_code == 401


def test_imports_are_offered_only_to_those_who_may_import(client, org, book):
    client.force_login(org.executive)
    assert b'href="/results/imports/"' in client.get(PAGE).content
    client.force_login(org.finance)
    response = client.get(PAGE)
    assert response.status_code == 200 and b'href="/results/imports/"' not in response.content

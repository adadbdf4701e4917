"""The dissection page, its HTMX partial and the exports, through the Django test client."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from equipoise.org.models import Customer
from equipoise.results.tests.conftest import line
from equipoise.tracking.tests.conftest import get_as, ingest
from equipoise.tracking.tests.test_selectors import _more_results

Q1 = {"from": "2027-01-01", "to": "2027-03-31"}


pytestmark = pytest.mark.usefixtures("on_15_march_2027")


# --- the page ------------------------------------------------------------------------------------


def test_the_executive_sees_the_company_by_region_for_the_plan_year_to_date(client, data):
    response = get_as(client, data.org.executive, "/tracking/")

    assert response.status_code == 200
    table = response.context["table"]
    assert table.view.params() == {
        "scope": "company",
        "rows": "region",
        "grain": "month",
        "from": "2027-01-01",
        "to": "2027-03-31",
        "measure": "booked",
    }
    content = response.content.decode()
    assert "<h1>Plan vs actual</h1>" in content
    assert "Company by region, 1 Jan 2027 – 31 Mar 2027" in content
    assert "1,550.00" in content  # North in January
    # The variance is marked by an arrow and a word, not colour alone.
    assert '<span aria-hidden="true">▼ </span>−147,250.03<span class="visually-hidden"> (unfavourable)</span>' in content
    assert "Results in USD are not included" in content
    north = table.rows[0]
    assert f'href="/tracking/?{_query(north.drill)}"' in content
    assert f'hx-get="/tracking/table/?{_query(north.drill)}"' in content
    assert 'hx-target="#tracking-results"' in content
    # In the head: htmx history snapshots (the body) would run the body's scripts again.
    assert '<script src="/static/plotly/plotly.min.js" defer></script>' in content.split("</head>")[0]
    assert 'id="tracking-chart-data"' in content


def test_a_period_with_nothing_sold_is_muted_and_the_others_are_not(client, data):
    """In a row of months, those without sales are shown muted so that the ones with sales stand out."""
    response = get_as(client, data.org.executive, "/tracking/", {"rows": "customer", **Q1})

    table = response.context["table"]
    actuals = [figures.actual_minor for row in table.rows for figures, _ in row.cells]
    assert 0 in actuals and any(actuals)
    content = response.content.decode()
    assert '<span class="figure-zero">0.00</span>' in content
    shown = next(amount for amount in actuals if amount)
    text = f"{Decimal(shown) / 100:,.2f}".replace("-", "−")
    assert f">{text}<" in content
    assert f'<span class="figure-zero">{text}</span>' not in content


def _query(view):
    from django.utils.http import urlencode

    return urlencode(view.params()).replace("&", "&amp;")


def test_the_empty_state_sends_people_to_the_imports(client, org, approved_plan):
    response = get_as(client, org.executive, "/tracking/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "No results yet" in content
    assert "Import results from <strong>Results → Imports</strong>" in content
    assert 'href="/results/imports/"' in content
    assert "tracking-results" not in content


def test_the_partial_answers_the_results_only_and_pushes_the_page_url(client, data):
    response = get_as(client, data.org.executive, "/tracking/table/", {"rows": "org", **Q1}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert "Team North (Maria Manager)" in content
    assert response["HX-Push-Url"] == "/tracking/?scope=company&rows=org&grain=month&from=2027-01-01&to=2027-03-31&measure=booked"


def test_drilling_by_url_shows_the_breadcrumb_to_go_back_up(client, data):
    org = data.org
    params = {"scope": f"seller:{org.sam.pk}", "rows": "customer", "region": org.north.pk, **Q1}

    response = get_as(client, org.executive, "/tracking/", params)

    content = response.content.decode()
    assert [crumb.label for crumb in response.context["table"].where] == [
        "Company",
        "Region: North",
        "Team North (Maria Manager)",
        "Sam Seller",
    ]
    assert '<li class="breadcrumb-item active" aria-current="location">Sam Seller</li>' in content
    assert 'aria-label="Remove the filter Region: North"' in content


def test_a_fixable_parameter_is_said_above_the_form(client, data):
    page = get_as(client, data.org.executive, "/tracking/", {"grain": "day", "from": "2027-01-01", "to": "2027-12-31"})
    partial = get_as(client, data.org.executive, "/tracking/table/", {"grain": "fortnight"})

    assert page.status_code == 400
    assert "at most 120 fit a table" in page.content.decode()
    assert 'aria-invalid="true"' in page.content.decode()
    assert partial.status_code == 200  # HTMX swaps only successful responses in
    assert "&#x27;fortnight&#x27; is not a grain" in partial.content.decode()


def test_dates_left_blank_show_the_range_the_message_counted(client, data, time_machine):
    """Day columns with no dates late in the year: the defaults' range is too long, and the date
    fields show it, not blanks beside a message about dates the user never typed."""
    from equipoise.tracking import domain

    time_machine.move_to("2027-11-28 09:00")
    page = get_as(client, data.org.executive, "/tracking/", {"grain": "day", "from": "", "to": ""})
    typed = get_as(client, data.org.executive, "/tracking/", {"grain": "day", "from": "2027-01-01", "to": ""})

    assert page.status_code == 400
    error = page.context["error"]
    assert isinstance(error, domain.RangeTooLong)
    assert page.context["values"]["from"] == error.start.isoformat() and page.context["values"]["to"] == error.end.isoformat()
    assert domain.range_label(error.start, error.end) in error.message
    assert f'name="from" value="{error.start.isoformat()}"' in page.content.decode()
    assert typed.status_code == 400
    assert typed.context["values"]["from"] == "2027-01-01"  # as typed
    assert typed.context["values"]["to"] == typed.context["error"].end.isoformat()


def test_a_login_outside_the_organisation_is_refused_and_anonymous_users_sign_in(client, data):
    assert get_as(client, data.org.outsider, "/tracking/").status_code == 403
    client.logout()
    response = client.get("/tracking/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# --- seller isolation ----------------------------------------------------------------------------

ROUTES = ["/tracking/", "/tracking/table/", "/tracking/export.csv", "/tracking/export.xlsx"]


@pytest.mark.parametrize("url", ROUTES)
def test_the_seller_sees_only_their_own_figures_on_every_route(client, data, url):
    response = get_as(client, data.org.seller, url, Q1)

    assert response.status_code == 200
    body = response.content if url.endswith("xlsx") else response.content.decode()
    if url.endswith("xlsx"):
        sheet = load_workbook(io.BytesIO(body)).active
        labels = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert labels == {"Acme", "Globex", "Total"}
        return
    for name in ("Olga Seller", "Sara Seller", "Maria Manager", "Team North", "Company"):
        assert name not in body
    if url.endswith("csv"):
        assert "Globex,Feb 2027,2027-02-01,2027-02-28,,180.00" in body  # Sam's 60%, not Globex's 1,000.00
    else:
        assert response.context["table"].totals.total.actual_minor == 118_000


@pytest.mark.parametrize("url", ROUTES)
@pytest.mark.parametrize("scope", ["seller:{olga}", "seller:{sara}", "team:{maria}", "company", "customer:{initech}"])
def test_the_seller_cannot_reach_anyone_elses_figures_by_any_route(client, data, url, scope):
    org = data.org
    initech = Customer.objects.create(code="INITECH", name="Initech", home_region=org.south, owner=org.olga)
    text = scope.format(olga=org.olga.pk, sara=org.sara.pk, maria=org.maria.pk, initech=initech.pk)

    response = get_as(client, org.seller, url, {"scope": text, **Q1})

    assert response.status_code == 404
    assert b"Olga" not in response.content


def test_the_sellers_scope_is_fixed_to_themselves(client, data):
    response = get_as(client, data.org.seller, "/tracking/")

    content = response.content.decode()
    assert response.context["scope_options"] == [(f"seller:{data.org.sam.pk}", "Sam Seller")]
    assert f'<input type="hidden" name="scope" value="seller:{data.org.sam.pk}">' in content
    assert '<select class="form-select form-select-sm" id="tracking-scope"' not in content


def test_a_manager_picks_among_their_team_only(client, data):
    response = get_as(client, data.org.manager, "/tracking/")

    org = data.org
    assert response.context["scope_options"] == [
        (f"team:{org.maria.pk}", "Team North (Maria Manager)"),
        (f"seller:{org.sam.pk}", "Sam Seller"),
        (f"seller:{org.sara.pk}", "Sara Seller"),
    ]
    assert get_as(client, org.manager, "/tracking/table/", {"scope": f"seller:{org.olga.pk}"}).status_code == 404


# --- exports -------------------------------------------------------------------------------------


def test_csv_export_is_what_the_page_shows(client, data):
    response = get_as(client, data.org.manager, "/tracking/export.csv", {"rows": "org", "from": "2027-01-01", "to": "2027-01-31"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (f'attachment; filename="tracking-team-{data.org.maria.pk}-org-month-20270101-20270131.csv"')
    lines = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert lines == [
        ["Row", "Period", "From", "To", "Plan", "Actual", "Variance", "Attainment %", "Pace %", "Projection", "Currency"],
        ["Sam Seller", "Jan 2027", "2027-01-01", "2027-01-31", "16666.67", "1000.00", "-15666.67", "6.00", "6.00", "1000.00", "EUR"],
        ["Sam Seller", "Total", "2027-01-01", "2027-01-31", "16666.67", "1000.00", "-15666.67", "6.00", "6.00", "1000.00", "EUR"],
        ["Sara Seller", "Jan 2027", "2027-01-01", "2027-01-31", "16666.67", "500.00", "-16166.67", "3.00", "3.00", "500.00", "EUR"],
        ["Sara Seller", "Total", "2027-01-01", "2027-01-31", "16666.67", "500.00", "-16166.67", "3.00", "3.00", "500.00", "EUR"],
        ["Maria Manager (own results)", "Jan 2027", "2027-01-01", "2027-01-31", "", "50.00", "", "", "", "50.00", "EUR"],
        ["Maria Manager (own results)", "Total", "2027-01-01", "2027-01-31", "", "50.00", "", "", "", "50.00", "EUR"],
        ["Total", "Jan 2027", "2027-01-01", "2027-01-31", "33333.34", "1550.00", "-31783.34", "4.65", "4.65", "1550.00", "EUR"],
        ["Total", "Total", "2027-01-01", "2027-01-31", "33333.34", "1550.00", "-31783.34", "4.65", "4.65", "1550.00", "EUR"],
    ]


HOSTILE = ['=HYPERLINK("http://evil")', "+SUM(1)", "-2+3", "@cmd", "\tTab", "Plain & safe"]


@pytest.fixture
def hostile_customers(data):
    org = data.org
    lines = []
    for number, name in enumerate(HOSTILE):
        customer = Customer.objects.create(code=f"H{number}", name=name, home_region=org.north, owner=org.sam)
        lines.append(line(org, data.catalog, f"H{number}", customer_id=customer.pk, amount_minor=1_000 + number))
    ingest(org, data.catalog, *lines, source="hostile")


def test_csv_export_neutralises_formulas_in_names(client, data, hostile_customers):
    response = get_as(client, data.org.seller, "/tracking/export.csv", Q1)

    labels = {row[0] for row in csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff")))}
    assert {'\'=HYPERLINK("http://evil")', "'+SUM(1)", "'-2+3", "'@cmd", "'\tTab", "Plain & safe"} <= labels
    assert not any(label.startswith(("=", "+", "-", "@", "\t")) for label in labels)


def test_xlsx_export_neutralises_formulas_and_keeps_figures_as_numbers(client, data, hostile_customers):
    response = get_as(client, data.org.seller, "/tracking/export.xlsx", Q1)

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["Plan vs actual"]
    cells = [row for row in sheet.iter_rows(min_row=2)]
    labels = {row[0].value for row in cells}
    assert '\'=HYPERLINK("http://evil")' in labels and "'-2+3" in labels and "'@cmd" in labels
    assert all(row[0].data_type == "s" for row in cells)  # text, never a formula
    total = next(row for row in cells if row[0].value == "Total" and row[1].value == "Total")
    assert total[4].value == Decimal("50000.01") or total[4].value == pytest.approx(50000.01)
    assert total[4].data_type == "n"
    about = dict(workbook["About"].iter_rows(values_only=True))
    assert about["Scope"] == "Sam Seller"
    assert about["Currency"] == "EUR"


# --- cost ----------------------------------------------------------------------------------------


def _count(client, url, params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("persona", "params"),
    [
        ("executive", Q1),
        ("executive", {"rows": "org", "grain": "week", **Q1}),
        ("manager", Q1),
        ("seller", {"rows": "customer", **Q1}),
    ],
)
def test_page_partial_and_export_query_counts_do_not_grow_with_results(client, data, persona, params):
    client.force_login(getattr(data.org, persona))
    counts = {url: _count(client, url, params) for url in ROUTES}

    _more_results(data.org, data.catalog, 600)

    assert {url: _count(client, url, params) for url in ROUTES} == counts
    assert max(counts.values()) <= 24


def test_page_query_counts_are_pinned(client, data):
    client.force_login(data.org.executive)

    assert _count(client, "/tracking/", Q1) == 12
    assert _count(client, "/tracking/table/", Q1) == 11
    assert _count(client, "/tracking/export.csv", Q1) == 9


def test_no_figure_reaches_a_page_as_a_float_except_for_drawing(client, data):
    response = get_as(client, data.org.executive, "/tracking/", Q1)

    chart = response.context["chart"]
    assert chart["cumulativeActual"] == [1550.0, 2550.0, 2750.0]
    assert chart["points"] == ["2027-01-31", "2027-02-28", "2027-03-31"]
    assert [series["name"] for series in chart["motions"]] == ["New customers", "Renewal", "Expansion"]
    assert response.context["chart_rows"][0] == {
        "month": date(2027, 1, 1),
        "plan": 5_000_001,
        "motions": [105_000, 50_000, 0],
        "actual": 155_000,
    }

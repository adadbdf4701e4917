"""The home page's results against plan: this month and the year to date, for the user's own scope.

Figures from the standard results (see conftest), booked, in EUR, on 15 March 2027:

| scope                 | March 2027 | January – March 2027                          |
|-----------------------|------------|-----------------------------------------------|
| company               | 200.00     | 2,750.00 (B1 B2 B3 B4 B5 B6)                  |
| Maria's team          | 0.00       | 1,850.00 (B1 B2 B4 and Maria's own B5)        |
| Sam (seller)          | 0.00       | 1,180.00 (B1 and 60% of B4)                   |
| Olga (other seller)   | 200.00     | 900.00 (B3 B6)                                |
"""

from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from equipoise.results.retention_selectors import retention_report
from equipoise.tracking.dissection import Grain
from equipoise.tracking.glance import at_a_glance
from equipoise.tracking.tests.test_selectors import _more_results


@pytest.fixture(autouse=True)
def frozen_today(time_machine):
    time_machine.move_to("2027-03-15 09:00")


def _home(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response


def _actuals(response):
    return [(glance.label, glance.table.scope.text, glance.figures.actual_minor) for glance in response.context["glances"]]


@pytest.mark.parametrize(
    ("who", "scope", "month", "year"),
    [
        ("executive", "company", 20_000, 275_000),
        ("finance", "company", 20_000, 275_000),
        ("manager", "team:{maria}", 0, 185_000),
        ("seller", "seller:{sam}", 0, 118_000),
        ("other_seller", "seller:{olga}", 20_000, 90_000),
    ],
)
def test_each_user_sees_this_month_and_the_year_to_date_for_their_own_scope(client, data, who, scope, month, year):
    response = _home(client, getattr(data.org, who))

    scope = scope.format(maria=data.org.maria.pk, sam=data.org.sam.pk, olga=data.org.olga.pk)
    assert _actuals(response) == [("This month", scope, month), ("Year to date", scope, year)]
    assert "Results against plan" in response.content.decode()


def test_a_card_states_the_period_plan_and_pace_and_links_to_the_table_it_summarises(client, data):
    response = _home(client, data.org.executive)

    month, year = response.context["glances"]
    assert (month.table.start.isoformat(), month.table.end.isoformat(), month.table.view.grain) == ("2027-03-01", "2027-03-31", Grain.WEEK)
    assert (year.table.start.isoformat(), year.table.view.grain) == ("2027-01-01", Grain.MONTH)
    assert year.figures.plan_minor is not None and year.figures.pace is not None
    content = response.content.decode()
    assert "This month · 1 Mar – 31 Mar 2027" in content
    assert "2,750.00" in content
    links = [part.split('"')[0].replace("&amp;", "&") for part in content.split('href="/tracking/?')[1:]]
    assert [parse_qs(link) for link in links] == [
        {key: [value] for key, value in glance.table.view.params().items()} for glance in (month, year)
    ]


def test_the_card_opens_the_same_figures_on_the_tracking_page(client, data):
    response = _home(client, data.org.seller)
    month, year = response.context["glances"]

    for glance in (month, year):
        tracking = client.get("/tracking/", glance.table.view.params())
        assert tracking.context["table"].totals.total == glance.figures


def test_a_seller_sees_no_one_elses_figures_on_the_home_page(client, data):
    content = _home(client, data.org.seller).content.decode()

    assert "1,180.00" in content  # Sam's own year to date
    for someone_else in ("2,750.00", "1,850.00", "900.00"):  # the company, Maria's team, Olga
        assert someone_else not in content


def test_before_any_import_the_home_page_says_so_and_offers_an_import_to_those_who_may(client, org):
    executive = _home(client, org.executive)
    seller = _home(client, org.seller)

    for response in (executive, seller):
        assert response.context["glances"] == []
        assert "No results have been imported yet." in response.content.decode()
    assert 'href="/results/imports/new/"' in executive.content.decode()
    assert 'href="/results/imports/new/"' not in seller.content.decode()


def test_a_login_linked_to_nobody_gets_the_home_page_without_figures(client, data):
    response = _home(client, data.org.outsider)

    assert response.context["glances"] == []
    assert "Results against plan" not in response.content.decode()


@pytest.mark.parametrize("who", ["executive", "manager", "seller"])
def test_the_cards_cost_the_same_queries_however_many_results_there_are(data, who):
    user = getattr(data.org, who)
    before = _queries(user)
    _more_results(data.org, data.catalog, 600)
    assert len(_queries(user)) == len(before)


def _queries(user):
    with CaptureQueriesContext(connection) as captured:
        assert len(at_a_glance(user)) == 2
    return captured.captured_queries


# --- retention, the other side of the balance ----------------------------------------------------


def _retention(client, user):
    client.force_login(user)
    response = client.get("/home/retention/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response


def test_the_home_page_fetches_the_retention_card_after_it_is_shown(client, data):
    content = _home(client, data.org.executive).content.decode()

    assert 'hx-get="/home/retention/" hx-trigger="load" hx-swap="outerHTML"' in content
    assert "Working out GRR, NRR and logo churn for this fiscal year" in content
    assert 'href="/results/retention/?grain=year"' in content  # without JavaScript, the page itself


@pytest.mark.parametrize(
    ("who", "scope"),
    [("executive", "company"), ("manager", "team:{maria}"), ("seller", "seller:{sam}"), ("other_seller", "seller:{olga}")],
)
def test_each_user_gets_retention_for_the_fiscal_year_in_their_own_scope(client, data, who, scope):
    user = getattr(data.org, who)
    response = _retention(client, user)

    retention = response.context["retention"]
    scope = scope.format(maria=data.org.maria.pk, sam=data.org.sam.pk, olga=data.org.olga.pk)
    assert (retention["report"].scope.text, retention["report"].period.label) == (scope, "FY2027")
    assert [card["short"] for card in retention["cards"]] == ["GRR", "NRR", "Logo churn"]
    assert retention["report"].figures == retention_report(user, grain="year").figures
    content = response.content.decode()
    assert 'id="retention-glance"' in content
    assert "Retention · FY2027 to date" in content
    assert f'href="/results/retention/?{retention["query"].replace("&", "&amp;")}"' in content
    assert parse_qs(retention["query"]) == {"scope": [scope], "grain": ["year"], "period": ["2027-01"]}


def test_the_retention_card_judges_the_year_in_progress_only_so_far(client, data):
    # 15 Mar 2027: FY2027 runs to 31 Dec. The standard results keep every customer and grow them
    # (GRR 100%, NRR 15,600%, no churn): an NRR objective of 20,000% is the one not met so far.
    type(data.plan).objects.filter(pk=data.plan.pk).update(grr_objective_bp=9_500, nrr_objective_bp=2_000_000, max_logo_churn_bp=500)

    response = _retention(client, data.org.executive)

    cards = {card["short"]: card for card in response.context["retention"]["cards"]}
    assert {short: card["objective"]["status"] for short, card in cards.items()} == {
        "GRR": "on_track",
        "NRR": "off_track",
        "Logo churn": "on_track",
    }
    assert {short: card["objective"]["met"] for short, card in cards.items()} == {"GRR": None, "NRR": None, "Logo churn": None}
    content = response.content.decode()
    assert "✓" not in content and "✗" not in content and "objective met" not in content and "objective missed" not in content
    assert 'Objective at least 95% · <span class="variance variance-provisional">on track so far</span>' in content
    assert (
        'Objective at least 20000% · <span class="variance variance-provisional variance-provisional-bad">below objective so far</span>'
        in content
    )
    assert 'Objective at most 5% · <span class="variance variance-provisional">on track so far</span>' in content


def test_the_retention_card_marks_an_ended_year_met_or_missed_in_words(client, data, time_machine):
    type(data.plan).objects.filter(pk=data.plan.pk).update(grr_objective_bp=9_500, nrr_objective_bp=2_000_000, max_logo_churn_bp=500)
    time_machine.move_to("2027-12-31 18:00")  # the year's last day: its figures are final

    response = _retention(client, data.org.executive)

    cards = {card["short"]: card for card in response.context["retention"]["cards"]}
    assert {short: card["objective"]["status"] for short, card in cards.items()} == {"GRR": "met", "NRR": "missed", "Logo churn": "met"}
    content = response.content.decode()
    met = '<span aria-hidden="true">✓</span><span class="visually-hidden">, objective met</span>'
    missed = '<span aria-hidden="true">✗</span><span class="visually-hidden">, objective missed</span>'
    assert f'{cards["GRR"]["value"]} <span class="variance variance-good">{met}' in content
    assert f'{cards["NRR"]["value"]} <span class="variance variance-bad">{missed}' in content
    assert "Objective at least 95%" in content and "so far" not in content


def test_the_retention_card_has_no_objective_outside_the_plan(client, data, time_machine):
    type(data.plan).objects.filter(pk=data.plan.pk).update(grr_objective_bp=9_500, nrr_objective_bp=10_500, max_logo_churn_bp=500)
    time_machine.move_to("2029-02-01 09:00")  # FY2029: after the plan's 24 months

    response = _retention(client, data.org.executive)

    assert response.context["retention"]["report"].period.label == "FY2029"
    texts = {card["objective"]["text"] for card in response.context["retention"]["cards"]}
    assert texts == {"No objective for FY2029 (outside the plan)"}
    content = response.content.decode()
    assert "Objective at" not in content and "✓" not in content and "✗" not in content and "so far" not in content


def test_no_retention_card_before_any_import_or_contract(client, org):
    assert "/home/retention/" not in _home(client, org.executive).content.decode()

    response = _retention(client, org.executive)
    assert response.context["retention"] is None
    assert response.content.decode().strip() == ""  # the placeholder is swapped for nothing


def test_a_login_linked_to_nobody_is_refused_the_retention_card_with_the_reason(client, data):
    assert "/home/retention/" not in _home(client, data.org.outsider).content.decode()

    client.force_login(data.org.outsider)
    response = client.get("/home/retention/")
    assert response.status_code == 403
    assert "not linked to anyone in the sales organisation" in response.content.decode()

"""What the page says about the range it shows, the form after an error, a range with nothing in
it, and rows with neither plan nor result: selectors, page and exports agree."""

import csv
import io
import re
from datetime import date

import pytest

from equipoise.core.errors import ApplicationError
from equipoise.tracking import dissection
from equipoise.tracking.tests.conftest import get_as
from equipoise.tracking.tests.test_selectors import actuals, by_label, dissect, plans

Q1 = {"from": "2027-01-01", "to": "2027-03-31"}


pytestmark = pytest.mark.usefixtures("on_15_march_2027")


def _selected(content, select_id):
    """The value of the option a browser shows as chosen in the select ``select_id``."""
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', content, re.S)
    assert select is not None, select_id
    chosen = re.findall(r'<option value="([^"]*)" selected>', select.group(1))
    return chosen[0] if len(chosen) == 1 else chosen


def _options(content, select_id):
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', content, re.S)
    assert select is not None, select_id
    return re.findall(r'<option value="([^"]*)"', select.group(1))


# --- a range widened to whole months is said ------------------------------------------------------


def test_a_month_grain_says_it_widened_the_range_to_whole_months(client, data):
    response = get_as(client, data.org.executive, "/tracking/", {"from": "2027-03-10", "to": "2027-03-20"})

    assert response.status_code == 200
    table = response.context["table"]
    assert (table.start.isoformat(), table.end.isoformat()) == ("2027-03-01", "2027-03-31")
    content = response.content.decode()
    assert (
        '<p class="tracking-range-notice small mb-0 mt-2" id="tracking-range-notice" role="note">'
        "Month columns cover whole months: showing 1 Mar 2027 – 31 Mar 2027 (you asked for 10 Mar 2027 – 20 Mar 2027)."
        " For exact dates, choose day or week columns.</p>"
    ) in content
    assert 'id="tracking-from" name="from" value="2027-03-01" aria-describedby="tracking-range-notice"' in content


@pytest.mark.parametrize(
    "params",
    [
        {"grain": "week", "from": "2027-03-10", "to": "2027-03-20"},  # weeks and days show the exact range
        {"from": "2027-03-01", "to": "2027-03-31"},  # already whole months
        {"from": "2027-03", "to": "2027-04"},  # months as written
        {},  # the default range is not the user's
    ],
)
def test_no_notice_when_the_range_shown_is_the_range_asked_for(client, data, params):
    response = get_as(client, data.org.executive, "/tracking/", params)

    assert response.status_code == 200
    assert response.context["table"].range_notice == ""
    assert "tracking-range-notice" not in response.content.decode()


def test_the_notice_names_the_grain_and_the_range_asked_for_when_one_end_is_open():
    view = dissection.parse_dissection({"grain": "quarter", "from": "2027-02-14"})
    notice = dissection.widening_notice(view, date(2027, 2, 1), date(2027, 3, 31))

    assert notice == (
        "Fiscal quarter columns cover whole months: showing 1 Feb 2027 – 31 Mar 2027 (you asked for 14 Feb 2027 – 31 Mar 2027)."
        " For exact dates, choose day or week columns."
    )


# --- the form after an error ----------------------------------------------------------------------


@pytest.mark.parametrize("params", [{"from": "garbage"}, {"to": "2027-13-01"}, {"grain": "fortnight"}, {"scope": "planet:1"}])
def test_an_error_page_shows_the_defaults_not_the_first_option_of_each_list(client, data, params):
    response = get_as(client, data.org.executive, "/tracking/", params)

    assert response.status_code == 400
    content = response.content.decode()
    assert 'role="alert" id="tracking-error"' in content
    assert _selected(content, "tracking-scope") == "company"
    assert _selected(content, "tracking-rows") == "region"
    assert _selected(content, "tracking-grain") == "month"  # not "day", whose 300-odd columns fail next
    assert _selected(content, "tracking-measure") == "booked"
    assert _selected(content, "tracking-show") == "actual"


def test_an_error_page_keeps_the_choices_the_user_made(client, data):
    params = {"from": "garbage", "to": "2027-03-31", "rows": "customer", "grain": "quarter", "measure": "invoiced", "show": "plan"}

    response = get_as(client, data.org.executive, "/tracking/", params)

    assert response.status_code == 400
    content = response.content.decode()
    chosen = [_selected(content, f"tracking-{key}") for key in ("rows", "grain", "measure", "show")]
    assert chosen == ["customer", "quarter", "invoiced", "plan"]
    assert 'id="tracking-to" name="to" value="2027-03-31"' in content


def test_a_managers_error_page_defaults_to_their_team_by_person(client, data):
    content = get_as(client, data.org.manager, "/tracking/", {"from": "garbage"}).content.decode()

    assert _selected(content, "tracking-scope") == f"team:{data.org.maria.pk}"
    assert _selected(content, "tracking-rows") == "org"
    assert _selected(content, "tracking-grain") == "month"


def test_a_seller_asking_for_team_rows_is_offered_their_own_rows_only(client, data):
    response = get_as(client, data.org.seller, "/tracking/", {"rows": "org"})

    assert response.status_code == 400
    content = response.content.decode()
    assert "A seller has no team to split by" in content
    assert "org" not in _options(content, "tracking-rows")
    assert _selected(content, "tracking-rows") == "customer"
    assert f'<input type="hidden" name="scope" value="seller:{data.org.sam.pk}">' in content


def test_a_reversed_range_quotes_the_dates_as_typed_not_as_widened(client, data):
    response = get_as(client, data.org.executive, "/tracking/", {"from": "2027-11-15", "to": "2027-01-01"})

    assert response.status_code == 400
    content = response.content.decode()
    assert "The range ends (1 Jan 2027) before it starts (15 Nov 2027): swap the dates." in content
    assert 'id="tracking-to" name="to" value="2027-01-01" aria-invalid="true"' in content
    assert 'id="tracking-from" name="from" value="2027-11-15"' in content


def test_parsing_refuses_a_reversed_range_in_the_dates_written():
    with pytest.raises(ApplicationError) as error:
        dissection.parse_dissection({"from": "2027-03", "to": "2027-02"})

    assert error.value.field == "to"
    assert error.value.message == "The range ends (28 Feb 2027) before it starts (1 Mar 2027): swap the dates."


# --- outside the plan ----------------------------------------------------------------------------


def test_outside_the_plan_there_is_no_plan_rather_than_a_plan_of_zero(data):
    table = dissect(data.org.seller, **{"from": "2026-12-01", "to": "2026-12-31"})  # B7: 1,000 before the plan

    assert table.totals.total.actual_minor == 1_000
    assert (table.totals.total.plan_minor, table.totals.total.variance_minor, table.totals.total.attainment) == (None, None, None)
    assert table.plan_source == ""
    assert table.plan_note == "The plan “FY27-28 plan” covers Jan 2027 – Dec 2028, not this range: the table shows actuals only."
    assert not table.is_empty
    assert table.plan_horizon_view is not None
    assert table.plan_horizon_view.params() == {
        "scope": f"seller:{data.org.sam.pk}",
        "rows": "customer",
        "grain": "quarter",
        "from": "2027-01-01",
        "to": "2028-12-31",
        "measure": "booked",
    }


def test_a_range_partly_in_the_plan_keeps_the_plan(data):
    table = dissect(data.org.seller, **{"from": "2026-12-01", "to": "2027-01-31"})

    assert plans(table.totals) == [0, 1_666_667]
    assert table.plan_horizon_view is None
    assert table.plan_source.startswith("Plan: the seller's quota")


def test_a_year_with_neither_plan_nor_result_says_so_and_offers_the_plans_range(client, data):
    response = get_as(client, data.org.seller, "/tracking/", {"from": "2030-01-01", "to": "2030-12-31"})

    assert response.status_code == 200
    table = response.context["table"]
    assert table.is_empty
    content = response.content.decode()
    assert '<h2 id="tracking-table-title" tabindex="-1">Nothing to show from 1 Jan 2030 to 31 Dec 2030</h2>' in content
    assert "Sam Seller has no bookings and no plan in this range." in content
    assert "The plan covers 1 Jan 2027 – 31 Dec 2028." in content
    horizon = f"scope=seller%3A{data.org.sam.pk}&amp;rows=customer&amp;grain=quarter&amp;from=2027-01-01&amp;to=2028-12-31"
    assert f'<a class="btn btn-primary" href="/tracking/?{horizon}&amp;measure=booked" hx-get="/tracking/table/?{horizon}' in content
    # No figures of zero, no quota cited, no empty charts.
    results = content.split('id="tracking-results"')[1]
    for absent in ("kpi-label", "the seller's quota", 'class="table', 'id="chart-cumulative"', "tracking-chart-data", "export.csv"):
        assert absent not in results


def test_an_empty_drill_inside_the_plan_says_so_without_offering_another_range(client, data):
    response = get_as(client, data.org.manager, "/tracking/", {**Q1, "region": str(data.org.south.pk)})

    table = response.context["table"]
    assert table.is_empty
    assert table.plan_horizon_view is None
    content = response.content.decode()
    assert "Team North (Maria Manager) has no bookings and no plan in this range with the filters chosen." in content
    assert "Choose another range above, or one of the ready-made ranges." in content
    assert 'id="tracking-chart-data"' not in content


def test_churn_that_did_not_happen_is_nothing_to_show_and_not_called_a_missing_plan(client, data):
    content = get_as(client, data.org.executive, "/tracking/", {**Q1, "measure": "churned"}).content.decode()

    assert "Company has no churn in this range." in content


# --- rows with neither plan nor result ------------------------------------------------------------


def test_rows_with_neither_plan_nor_result_are_left_out_and_change_no_total(data):
    south = str(data.org.south.pk)

    hidden = dissect(data.org.executive, rows="org", region=south)
    shown = dissect(data.org.executive, rows="org", region=south, empty="show")

    assert list(by_label(hidden)) == ["Team South (Omar Manager)"]
    assert hidden.hidden_rows == 1
    assert list(by_label(shown)) == ["Team North (Maria Manager)", "Team South (Omar Manager)"]
    assert shown.hidden_rows == 0
    assert shown.empty_rows_shown == 1
    north = by_label(shown)["Team North (Maria Manager)"]
    assert actuals(north) == [0, 0, 0]
    assert all(not plan for plan in plans(north))
    for table in (hidden, shown):
        assert actuals(table.totals) == [0, 70_000, 20_000]
        assert plans(table.totals) == [1_666_667] * 3
        for position in range(3):
            assert sum(row.figures[position].actual_minor for row in table.rows) == table.totals.figures[position].actual_minor
            assert sum(row.figures[position].plan_minor or 0 for row in table.rows) == table.totals.figures[position].plan_minor
    # The choice follows every link of the table.
    assert by_label(shown)["Team South (Omar Manager)"].drill.params()["empty"] == "show"
    assert "empty" not in by_label(hidden)["Team South (Omar Manager)"].drill.params()


def test_a_row_with_a_plan_and_no_result_stays(data):
    table = dissect(data.org.executive, rows="motion", **{"from": "2027-03-01", "to": "2027-03-31"})

    assert {row.label: (actuals(row), plans(row)) for row in table.rows}["Renewal"] == ([0], [1_250_000])
    assert table.hidden_rows == 0


def test_the_page_says_how_many_rows_are_hidden_and_links_to_them(client, data):
    params = {**Q1, "rows": "org", "region": str(data.org.south.pk)}

    hidden = get_as(client, data.org.executive, "/tracking/", params).content.decode()
    shown = get_as(client, data.org.executive, "/tracking/", {**params, "empty": "show"}).content.decode()

    assert "1 row with neither plan nor result in this range is not shown (they add nothing to the totals)." in hidden
    assert re.search(r'<a href="/tracking/\?[^"]*empty=show[^"]*" hx-get="/tracking/table/\?[^"]*empty=show[^"]*"[^>]*>Show it</a>', hidden)
    assert "Team North (Maria Manager)" not in hidden.split("<tbody>")[1]
    assert "Rows with neither plan nor result in this range are shown." in shown
    assert "Team North (Maria Manager)" in shown.split("<tbody>")[1]
    assert '<input type="hidden" name="empty" value="show">' in shown  # the form keeps the choice
    assert "export.csv?" in shown and "empty=show" in shown.split("export.csv?")[1].split('"')[0]


def test_the_export_leaves_out_the_same_rows_as_the_page(client, data):
    params = {**Q1, "rows": "org", "region": str(data.org.south.pk)}

    def row_labels(extra):
        response = get_as(client, data.org.executive, "/tracking/export.csv", {**params, **extra})
        lines = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
        return sorted({line[0] for line in lines[1:]})

    assert row_labels({}) == ["Team South (Omar Manager)", "Total"]
    assert row_labels({"empty": "show"}) == ["Team North (Maria Manager)", "Team South (Omar Manager)", "Total"]


def test_the_api_takes_the_same_choice_and_lists_every_row_unless_asked_not_to(data, call):
    south = str(data.org.south.pk)

    hidden = call(data.org.executive, "get", "/api/v1/tracking", {**Q1, "rows": "org", "region": south, "empty": "hide"})
    shown = call(data.org.executive, "get", "/api/v1/tracking", {**Q1, "rows": "org", "region": south})

    assert [row["label"] for row in hidden.json()["rows"]] == ["Team South (Omar Manager)"]
    assert hidden.json()["hidden_rows"] == 1
    assert [row["label"] for row in shown.json()["rows"]] == ["Team North (Maria Manager)", "Team South (Omar Manager)"]
    assert shown.json()["hidden_rows"] == 0


# --- the summary comes first ------------------------------------------------------------------------


def test_the_whole_range_figures_come_right_after_the_row_name(client, data):
    content = get_as(client, data.org.manager, "/tracking/", Q1).content.decode()

    head = content.split("<thead>")[1].split("</thead>")[0]
    headers = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', head, re.S)]
    assert headers[:7] == [
        "Team / seller",
        "Plan (whole range)",
        "Actual (whole range)",
        "Variance (whole range)",
        "Attainment (whole range)",
        "Pace (whole range)",
        "Projection (whole range)",
    ]
    assert [header.split(":")[0] for header in headers[7:]] == ["Jan 2027", "Feb 2027", "Mar 2027"]
    sam = content.split("<tbody>")[1].split("</tr>")[0]
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", sam, re.S)
    assert re.sub(r"<[^>]+>", "", cells[0]).startswith("Sam Seller")
    assert cells[2] == "1,180.00"  # Sam's actual over the quarter, before the months' 1,000.00, 180.00, 0.00
    assert [re.sub(r"<[^>]+>", "", cell) for cell in cells[7:]] == ["1,000.00", "180.00", "0.00"]

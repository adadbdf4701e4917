"""The dissection flow in a browser: drill with HTMX, the URL follows, back and refresh work,
charts draw. Playwright driving Debian's Chromium against Django's live server (as tests/e2e)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import login

pytestmark = pytest.mark.browser
Q1 = "from=2027-01-01&to=2027-03-31"


def _sign_in(page: Any, live_server: Any, username: str) -> None:
    login(page, live_server, username, "correct-horse-battery")


def _shows(page: Any, title: str | re.Pattern[str]) -> None:
    """Wait (as a user would) until the table heading says ``title``."""
    from playwright.sync_api import expect

    expect(page.locator("#tracking-table-title")).to_have_text(title)


def test_the_executive_drills_from_company_to_customer_and_back(page, live_server, data):
    _sign_in(page, live_server, "executive")
    page.goto(f"{live_server.url}/tracking/?{Q1}")
    _shows(page, "Company by region, 1 Jan 2027 – 31 Mar 2027")
    page.locator("#chart-cumulative .main-svg").first.wait_for()
    page.locator("#chart-motion .main-svg").first.wait_for()

    page.get_by_role("link", name=re.compile("^North")).click()
    page.wait_for_url(re.compile(r"rows=org.*region="))
    _shows(page, "Company by team / seller, 1 Jan 2027 – 31 Mar 2027")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'tracking-table-title'")

    page.get_by_role("link", name=re.compile("^Team North")).click()
    page.wait_for_url(re.compile(r"scope=team%3A"))
    page.get_by_role("link", name=re.compile("^Sam Seller")).click()
    page.wait_for_url(re.compile(r"scope=seller%3A.*rows=customer"))
    _shows(page, "Sam Seller by customer, 1 Jan 2027 – 31 Mar 2027")
    sam_url = page.url

    page.go_back()
    page.wait_for_url(re.compile(r"scope=team%3A"))
    _shows(page, re.compile(r"^\s*Team North \(Maria Manager\) by team / seller"))

    page.go_forward()
    page.wait_for_url(sam_url)
    page.reload()
    _shows(page, "Sam Seller by customer, 1 Jan 2027 – 31 Mar 2027")

    page.get_by_role("link", name="Company", exact=True).click()
    page.wait_for_url(re.compile(r"scope=company&rows=region"))
    _shows(page, "Company by region, 1 Jan 2027 – 31 Mar 2027")


def _charts_drawn(page: Any) -> None:
    """Wait until both charts are plotted from the data on the page now: Plotly's own state on the
    element and traces in its SVG (a stale copy of an old drawing has the SVG but not the state)."""
    page.wait_for_function(
        """() => {
            const source = document.getElementById("tracking-chart-data");
            if (!source) return false;
            const points = JSON.parse(source.textContent).points.length;
            return ["chart-cumulative", "chart-motion"].every((id) => {
                const chart = document.getElementById(id);
                return chart && chart._fullLayout && chart.data && chart.querySelectorAll(".main-svg .trace").length > 0
                    && (id !== "chart-cumulative" || chart.data.every((trace) => trace.x.length === points));
            });
        }"""
    )


def test_back_and_forward_after_a_drill_draw_the_charts_again(page, live_server, data):
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, live_server, "executive")
    page.goto(f"{live_server.url}/tracking/?{Q1}")
    _charts_drawn(page)

    page.get_by_role("link", name=re.compile("^Feb 2027")).click()
    page.wait_for_url(re.compile(r"grain=week"))
    _shows(page, "Company by region, 1 Feb 2027 – 28 Feb 2027")
    _charts_drawn(page)

    page.go_back()
    page.wait_for_url(re.compile(r"tracking/\?from=2027-01-01"))
    _shows(page, "Company by region, 1 Jan 2027 – 31 Mar 2027")
    _charts_drawn(page)
    assert page.evaluate("document.getElementById('chart-cumulative').data.map((trace) => trace.x.length)") == [3, 3]

    page.go_forward()
    page.wait_for_url(re.compile(r"grain=week"))
    _shows(page, "Company by region, 1 Feb 2027 – 28 Feb 2027")
    _charts_drawn(page)
    assert page.evaluate("document.getElementById('chart-cumulative').data.map((trace) => trace.x.length)") == [28, 28]
    assert errors == []


def test_changing_only_what_the_cells_show_keeps_the_charts(page, live_server, data):
    _sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/tracking/?{Q1}")
    _charts_drawn(page)

    page.get_by_label("Period cells show").select_option("plan")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"show=plan"))

    _charts_drawn(page)  # the same figures, in new chart elements


def test_a_period_drills_into_weeks_and_the_form_changes_the_rows(page, live_server, data):
    _sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/tracking/?{Q1}")

    page.get_by_role("link", name=re.compile("^Jan 2027")).click()
    page.wait_for_url(re.compile(r"grain=week"))
    _shows(page, "Team North (Maria Manager) by team / seller, 1 Jan 2027 – 31 Jan 2027")
    assert page.locator(".tracking-table thead th.period-col").count() == 5
    page.get_by_label("Rows").select_option("motion")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"rows=motion"))
    _shows(page, "Team North (Maria Manager) by motion, 1 Jan 2027 – 31 Jan 2027")


def test_the_home_card_opens_the_month_it_summarises(page, live_server, data, time_machine):
    from playwright.sync_api import expect

    time_machine.move_to("2027-03-15 09:00", tick=True)
    _sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/")
    card = page.locator(".glance").first
    expect(card).to_contain_text("This month · 1 Mar – 31 Mar 2027")
    expect(card).to_contain_text("Team North (Maria Manager)")
    retention = page.locator("#retention-glance")  # fetched after the page is shown
    expect(retention).to_contain_text("Retention · FY2027 to date")
    expect(retention).to_contain_text("GRR")

    card.click()  # the whole card is the link (a stretched link)
    page.wait_for_url(re.compile(r"/tracking/\?scope=team%3A\d+&rows=motion&grain=week&from=2027-03-01&to=2027-03-31"))
    _shows(page, "Team North (Maria Manager) by motion, 1 Mar 2027 – 31 Mar 2027")


def test_a_retention_card_that_fails_to_come_says_so_and_points_to_the_page(page, live_server, data):
    from playwright.sync_api import expect

    _sign_in(page, live_server, "executive")
    page.route("**/home/retention/", lambda route: route.fulfill(status=500, body="Server Error"))
    page.goto(f"{live_server.url}/")

    retention = page.locator("#retention-glance")
    expect(retention).to_contain_text("Retention could not be worked out just now: open the retention page.")
    expect(retention.get_by_role("link")).to_have_attribute("href", "/results/retention/?grain=year")

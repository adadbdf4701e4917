"""Keyboard and screen-reader use of the results pages in a browser: where focus goes after an
HTMX swap, what is announced, and the landmarks and names the pages rely on. (The axe-core audit
behind these is run by hand; these tests need neither it nor the network.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import login

pytestmark = pytest.mark.browser
Q1 = "from=2027-01-01&to=2027-03-31"
FOCUSED_ID = "document.activeElement && document.activeElement.id"


def _sign_in(page: Any, live_server: Any, username: str) -> None:
    login(page, live_server, username, "correct-horse-battery")


def _charts_drawn(page: Any) -> None:
    page.wait_for_function(
        """() => ["chart-cumulative", "chart-motion"].every((id) => {
            const chart = document.getElementById(id);
            return chart && chart._fullLayout && chart.querySelector(".main-svg");
        })"""
    )


# One subtree setting is enough here: the figures are not what these tests are about.
@pytest.mark.parametrize("data", [0], indirect=True)
def test_a_drill_by_keyboard_lands_on_the_new_tables_heading_and_is_announced(page, live_server, data):
    from playwright.sync_api import expect

    _sign_in(page, live_server, "executive")
    page.goto(f"{live_server.url}/tracking/?{Q1}")
    _charts_drawn(page)

    page.get_by_role("link", name=re.compile("^North")).focus()
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"rows=org.*region="))
    page.wait_for_function(f"{FOCUSED_ID} === 'tracking-table-title'")
    heading = page.locator("#tracking-table-title")
    expect(heading).to_have_text("Company by team / seller, 1 Jan 2027 – 31 Mar 2027")
    expect(page.locator("#tracking-status")).to_have_text("Showing Company by team / seller, 1 Jan 2027 – 31 Mar 2027")
    expect(page.locator("#tracking-status")).to_have_attribute("aria-live", "polite")
    # Keyboard focus is shown (the heading is focused by script after a key press).
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"

    # The next Tab goes on from the heading (to the export links), not back to the page's top.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "CSV"


@pytest.mark.parametrize("data", [0], indirect=True)
def test_a_range_the_form_refuses_puts_focus_on_the_message(page, live_server, data):
    _sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/tracking/?{Q1}")

    page.get_by_label("From", exact=True).fill("2027-03-01")
    page.get_by_label("To", exact=True).fill("2027-01-31")
    page.get_by_role("button", name="Show", exact=True).focus()
    page.keyboard.press("Enter")

    page.wait_for_function(f"{FOCUSED_ID} === 'tracking-error'")
    error = page.get_by_role("alert")
    assert "swap the dates" in error.inner_text()
    assert page.get_by_label("To", exact=True).get_attribute("aria-invalid") == "true"


@pytest.mark.parametrize("data", [0], indirect=True)
def test_the_tracking_page_has_its_landmarks_names_and_no_cloud_button(page, live_server, data):
    _sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/tracking/?{Q1}")
    _charts_drawn(page)

    assert page.get_by_role("navigation", name="Main").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("form", name="What to show").count() == 1
    for label in ("Scope", "Rows", "Columns", "Measure", "From", "To", "Period cells show"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    assert page.get_by_role("table", name="plan vs actual by team").count() == 1
    # Charts are labelled figures whose drawing is hidden from screen readers (the table has the
    # figures), and whose tool buttons are real buttons: nothing interactive inside an image.
    for chart in ("#chart-cumulative", "#chart-motion"):
        figure = page.locator(chart)
        assert figure.get_attribute("role") == "figure"
        assert figure.get_attribute("aria-label")
        assert figure.locator("svg.main-svg:not([aria-hidden=true])").count() == 0
        assert figure.locator("button.modebar-btn").count() > 0
        # Sharing to Plotly's cloud would send company figures off the closed network.
        assert figure.get_by_role("button", name=re.compile("Share")).count() == 0
    assert page.get_by_role("link", name="CSV").count() == 1


@pytest.mark.parametrize("data", [0], indirect=True)
def test_the_home_retention_card_is_announced_when_it_arrives(page, live_server, data, time_machine):
    from playwright.sync_api import expect

    time_machine.move_to("2027-03-15 09:00", tick=True)
    _sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/")

    region = page.locator("#retention-announcement")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_text(
        "Retention, FY2027 to date: Gross revenue retention, 100.0%, No objective in the approved plan; "
        "Net revenue retention, 15600.0%, No objective in the approved plan; "
        "Logo churn, 0.0%, No objective in the approved plan; Team North (Maria Manager), 1 customer at the start of the year."
    )
    # The region stays put (outside the card htmx replaces), so screen readers hear the change.
    assert page.locator("#retention-glance #retention-announcement").count() == 0

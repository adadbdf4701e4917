"""The executive edits one month of a draft plan in the grid and sees the year subtotal follow."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import login
from django.contrib.auth import get_user_model

from equipoise.core.access import Role
from equipoise.org.models import Company, Region
from equipoise.org.services import person_create
from equipoise.planning.services import bucket_add, plan_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_executive_edits_a_month_and_the_year_subtotal_changes(live_server: Any, page: Any) -> None:
    # Given a draft plan with one bucket of 1,200,000.00 EUR phased flat over 24 months
    Company.objects.create(name="Browser Co")
    user = get_user_model().objects.create_user(username="executive", password="browser-test-password")
    person_create(full_name="Erin Executive", role=Role.EXECUTIVE, user=user)
    north = Region.objects.create(code="NORTH", name="North")
    plan = plan_create(actor=user, name="Browser plan", start_month=date(2027, 1, 1), total_target_minor=120_000_000)
    bucket = bucket_add(actor=user, plan=plan, region=north, motion="new", target_minor=120_000_000)

    # When the executive signs in, opens the grid and sets March 2027 to 80,000.00
    login(page, live_server, "executive", "browser-test-password")
    page.goto(f"{live_server.url}/plans/{plan.pk}/")
    year_total = page.locator(f"#row-year-{bucket.pk}-0")
    assert year_total.inner_text().strip() == "600,000.00"
    page.locator(f"#cell-{bucket.pk}-2027-03 button").click()
    field = page.locator(f"#input-cell-{bucket.pk}-2027-03")
    field.wait_for()
    # HTMX wires the swapped-in form up as it settles; Enter before that would submit natively.
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    field.fill("80,000")
    field.press("Enter")

    # Then the cell, the FY2027 subtotal and the plan total follow, and the plan no longer reconciles
    page.wait_for_function("el => el.textContent.trim() === '630,000.00'", arg=year_total.element_handle(), timeout=10_000)
    assert page.locator(f"#cell-{bucket.pk}-2027-03").inner_text().strip() == "80,000.00"
    assert page.locator(f"#row-year-{bucket.pk}-1").inner_text().strip() == "600,000.00"
    assert page.locator("#foot-total").inner_text().strip() == "1,230,000.00"
    assert "30,000.00" in page.locator("#reconciliation").inner_text()
    Path("test-artifacts").mkdir(exist_ok=True)
    page.screenshot(path="test-artifacts/plan-grid-edited.png", full_page=False)

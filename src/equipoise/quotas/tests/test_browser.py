"""Quota pages in a browser, where layout decides whether a figure is read against the right label.

Playwright driving Debian's Chromium against Django's live server (as tests/e2e). The viewport is
short so the tables scroll inside their frame, as they do with a real sales organisation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from conftest import login

from equipoise.quotas.services import commit_upsert, quota_allocate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def allocated(org: Any, approved_plan: Any) -> Any:
    allocation = quota_allocate(actor=org.executive, plan=approved_plan)
    for person in (org.sam, org.sara):
        commit_upsert(actor=org.executive, person_id=person.pk, month=date(2027, 1, 1), motion="new", amount_minor=100_000, currency="EUR")
    return allocation


def test_the_gap_totals_label_stays_below_the_last_person(page: Any, live_server: Any, allocated: Any) -> None:
    # given a table taller than its scrolling frame
    page.set_viewport_size({"width": 1366, "height": 420})
    login(page, live_server, "executive", "correct-horse-battery")
    # when the executive opens the commit gap
    page.goto(f"{live_server.url}/quotas/gap/?from=2027-01&to=2027-03")
    frame = page.locator(".table-grid-wrap")
    assert frame.evaluate("element => element.scrollHeight > element.clientHeight")
    # then the "All sellers in view" label sits in its footer, not stuck over the last person's figures
    last_person = page.locator(".gap-table tbody.gap-group").last.bounding_box()
    label = page.locator(".gap-table tfoot th.sticky-col").bounding_box()
    assert label is not None and last_person is not None
    assert label["y"] >= last_person["y"] + last_person["height"] - 1


def test_the_commit_grid_keeps_motion_names_over_their_columns_when_scrolled(page: Any, live_server: Any, allocated: Any) -> None:
    page.set_viewport_size({"width": 1366, "height": 600})
    login(page, live_server, "seller", "correct-horse-battery")
    page.goto(f"{live_server.url}/quotas/commits/")
    page.locator(".table-grid-wrap").evaluate("element => { element.scrollTop = 400; }")
    heading = page.locator(".commit-grid th.motion-head").first
    box = heading.bounding_box()
    assert box is not None
    # what the seller sees at the middle of the "New customers" heading is that heading, not a row under it
    middle = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    seen = page.evaluate("([x, y]) => document.elementFromPoint(x, y).textContent.trim()", middle)
    assert seen == "New customers"

"""The home page's cards: this month and the fiscal year to date, as the tracking page shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from equipoise.org.selectors import company_get
from equipoise.tracking.dissection import Dissection
from equipoise.tracking.domain import Figures
from equipoise.tracking.navigation import presets
from equipoise.tracking.selectors import dissect, results_exist
from equipoise.tracking.tables import Table


@dataclass(frozen=True)
class Glance:
    """One period's plan against actual for a user's own scope: a card on the home page, linked to
    the table it summarises."""

    label: str
    table: Table

    @property
    def figures(self) -> Figures:
        return self.table.totals.total


# The home page's periods, named as the tracking page's ready-made ranges.
GLANCE_PRESETS = ("This month", "Year to date")


def at_a_glance(user: Any, *, today: date | None = None) -> list[Glance]:
    """This month and the fiscal year to date for the user's widest scope (the company, their team,
    or their own results), exactly as the tracking page shows those ranges; none before any result
    is imported. Raises AccessDenied for a login linked to nobody, as every tracking route does."""
    if not results_exist():
        return []
    as_of = today or timezone.localdate()
    ranges = dict(presets(Dissection(rows="motion"), as_of, company_get().fiscal_year_start_month, None))
    return [Glance(label=label, table=dissect(user, ranges[label], today=as_of)) for label in GLANCE_PRESETS]

"""Random dissection queries for ``equipoise bench``: what people ask the tracking page for.

The mix follows how the page is used: the company by any dimension at any grain (rollups), teams
and sellers drilled into (rollups by month, lines by week and day), customers of a team or seller,
and single customers. Company-wide rows by customer are left out on purpose: with no customer
rollup they read every line in the range, which the page only does when asked for explicitly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef

from equipoise.core.periods import add_months, month_end
from equipoise.org.models import Customer, Person
from equipoise.tracking import selectors
from equipoise.tracking.dissection import Dissection
from equipoise.tracking.domain import Grain

# The bench writes two years of results from this day.
FIRST_MONTH = date(2025, 1, 1)
HISTORY_MONTHS = 24
# "Today" for the queries: the end of the bench's history, so every view has actuals.
TODAY = date(2026, 12, 31)


@dataclass
class _People:
    teams: list[int]  # managers of sellers
    directors: list[int]  # managers of managers
    sellers: list[int]
    customers: int


_cache: dict[str, _People] = {}


def _people() -> _People:
    """The org's ids, read once per process (the first timed query pays for it)."""
    if "people" not in _cache:
        has_reports = Exists(Person.objects.filter(manager_id=OuterRef("pk")))
        managers = list(Person.objects.filter(has_reports).values_list("id", "depth"))
        deepest = max((depth for _, depth in managers), default=0)
        _cache["people"] = _People(
            teams=[pk for pk, depth in managers if depth == deepest],
            directors=[pk for pk, depth in managers if 0 < depth < deepest],
            sellers=list(Person.objects.filter(carries_quota=True).values_list("id", flat=True)),
            customers=Customer.objects.count(),
        )
    return _cache["people"]


def _month_range(rng: random.Random, longest: int) -> tuple[date, date]:
    length = rng.randint(1, longest)
    first = add_months(FIRST_MONTH, rng.randrange(HISTORY_MONTHS - length + 1))
    return first, month_end(add_months(first, length - 1))


def _short_range(rng: random.Random, days: int) -> tuple[date, date]:
    first = FIRST_MONTH + timedelta(days=rng.randrange(HISTORY_MONTHS * 30 - days))
    return first, first + timedelta(days=days - 1)


def _grain_and_range(rng: random.Random, *, fine: bool) -> tuple[Grain, date, date]:
    choice = rng.random()
    if fine and choice < 0.2:
        return (Grain.DAY, *_short_range(rng, rng.randint(7, 31)))
    if fine and choice < 0.4:
        return (Grain.WEEK, *_short_range(rng, rng.randint(28, 92)))
    if choice < 0.55:
        return (Grain.QUARTER, *_month_range(rng, 24))
    if choice < 0.6:
        return (Grain.YEAR, *_month_range(rng, 24))
    return (Grain.MONTH, *_month_range(rng, 12))


def random_view(rng: random.Random) -> Dissection:
    people = _people()
    kind = rng.random()
    if kind < 0.3 or not (people.teams and people.sellers):
        scope, rows = "company", rng.choice(["region", "org", "motion", "product_line", "product_application"])
        grain, start, end = _grain_and_range(rng, fine=True)
    elif kind < 0.45 and people.directors:
        scope, rows = f"team:{rng.choice(people.directors)}", rng.choice(["org", "region", "motion", "product_line"])
        grain, start, end = _grain_and_range(rng, fine=False)
    elif kind < 0.65:
        scope, rows = f"team:{rng.choice(people.teams)}", rng.choice(["org", "region", "motion", "customer"])
        grain, start, end = _grain_and_range(rng, fine=True)
    elif kind < 0.9:
        scope, rows = f"seller:{rng.choice(people.sellers)}", rng.choice(["customer", "motion", "region", "product_line"])
        grain, start, end = _grain_and_range(rng, fine=True)
    else:
        customer = Customer.objects.order_by("id").values_list("id", flat=True)[rng.randrange(max(people.customers, 1))]
        scope, rows = f"customer:{customer}", rng.choice(["motion", "org", "region"])
        grain, start, end = _grain_and_range(rng, fine=True)
    return Dissection(scope=scope, rows=rows, grain=grain, start=start, end=end)


def random_dissection_query(actor: Any, rng: random.Random) -> selectors.Table:
    """One random dissection, as ``actor`` sees it: the whole table, plan, actuals, drills and charts."""
    return selectors.dissect(actor, random_view(rng), today=TODAY)

"""Which nodes of the org tree keep which rollups: one rule, shared by ingest, rebuild and tracking.

Every manager keeps monthly totals (:class:`~equipoise.results.models.RollupTotal`): a team-by-team
view reads one row per team and month. Every person keeps their own credits monthly, by motion
(a :class:`~equipoise.results.models.Rollup` row of grain ``O``, dimension columns 0): a team's sellers side
by side read one row each per month. Only *large* subtrees — at least
``EQUIPOISE_LARGE_SUBTREE`` people below the manager (20 by default) — and the company also keep
monthly rollups by dimension and daily totals. A small team's breakdowns and days and a seller's
breakdowns come from their result lines through the (seller, day) index: a handful of sellers' lines
cost a query less than the rollup rows every import would otherwise write for them (in a 5,000-seller
company of 8-seller teams, over half of all rollup rows).

The rule is read from the org as it is now, like the subtrees themselves: a reorganisation is
followed by ``equipoise rebuild-rollups``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from equipoise.org.models import Person


def large_subtree_minimum() -> int:
    return int(settings.EQUIPOISE_LARGE_SUBTREE)


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


@dataclass(frozen=True)
class RollupTree:
    """For each person: the managers above them (nearest first), and those of them whose subtree is large."""

    managers: dict[int, tuple[int, ...]]
    large: dict[int, tuple[int, ...]]

    @classmethod
    def load(cls) -> RollupTree:
        paths = list(Person.objects.values_list("id", "path"))
        below: Counter[int] = Counter()
        above: dict[int, tuple[int, ...]] = {}
        for person_id, path in paths:
            ids = _path_ids(path)[:-1]
            above[person_id] = tuple(reversed(ids))
            below.update(ids)
        minimum = large_subtree_minimum()
        large = {pk: tuple(node for node in managers if below[node] >= minimum) for pk, managers in above.items()}
        return cls(managers=above, large=large)


def large_subtrees(people: Iterable[tuple[int, str]]) -> set[int]:
    """Which of these (person id, path) have a large subtree: one query for the paths under them,
    then a count per person by bisecting the sorted paths (no path is parsed)."""
    wanted = {person_id: path for person_id, path in people}
    if not wanted:
        return set()
    minimum = large_subtree_minimum()
    prefixes = sorted(set(wanted.values()), key=len)
    roots = [path for path in prefixes if not any(path != other and path.startswith(other) for other in prefixes)]
    under = Q()
    for root in roots:
        under |= Q(path__startswith=root)
    paths = sorted(Person.objects.filter(under).values_list("path", flat=True))
    large = set()
    for person_id, path in wanted.items():
        # Paths end with "/", so every path under ``path`` sorts between it and ``path`` + U+FFFF.
        below = bisect_left(paths, path + "\uffff") - bisect_left(paths, path) - 1
        if below >= minimum:
            large.add(person_id)
    return large

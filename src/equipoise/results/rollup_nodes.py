"""Which nodes of the org tree keep which rollups: one rule, shared by ingest, rebuild and tracking.

Every manager keeps monthly totals (:class:`~equipoise.results.models.RollupTotal`): a team-by-team
view reads one row per team and month. Only *large* subtrees — at least
``EQUIPOISE_LARGE_SUBTREE`` people below the manager (20 by default) — and the company also keep
monthly rollups by dimension and daily totals. A small team's breakdowns, its days and a seller's
figures come from their result lines through the (seller, day) index: a handful of sellers' lines
cost a query less than the rollup rows every import would otherwise write for them (in a 5,000-seller
company of 8-seller teams, over half of all rollup rows).

The rule is read from the org as it is now, like the subtrees themselves: a reorganisation is
followed by ``equipoise rebuild-rollups``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

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
    """Which of these (person id, path) have a large subtree (one query over their subtrees)."""
    wanted = {person_id: path for person_id, path in people}
    if not wanted:
        return set()
    minimum = large_subtree_minimum()
    prefixes = sorted(set(wanted.values()), key=len)
    roots = [path for path in prefixes if not any(path != other and path.startswith(other) for other in prefixes)]
    below: Counter[int] = Counter()
    for root in roots:
        for path in Person.objects.filter(path__startswith=root).values_list("path", flat=True):
            below.update(node for node in _path_ids(path)[:-1] if node in wanted)
    return {person_id for person_id in wanted if below[person_id] >= minimum}

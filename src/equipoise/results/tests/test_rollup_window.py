"""The window's numpy sums against a plain Python expansion of every credit row, on random org trees."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equipoise.results.models import GRAIN_CODES, MEASURE_CODES, MOTION_CODES
from equipoise.results.rollup_nodes import RollupTree
from equipoise.results.rollup_window import DAY, MONTH, OWN_MONTH, CreditWindow, TreeArrays, roll_up


def _tree(parents: list[int | None], minimum: int) -> RollupTree:
    """Person i + 1 reports to person parents[i] + 1 (None: the top); large = at least ``minimum`` below."""
    above: dict[int, tuple[int, ...]] = {}
    for index in range(len(parents)):
        chain, current = [], parents[index]
        while current is not None:
            chain.append(current + 1)
            current = parents[current]
        above[index + 1] = tuple(chain)
    below: Counter[int] = Counter(node for chain in above.values() for node in chain)
    large = {person: tuple(node for node in chain if below[node] >= minimum) for person, chain in above.items()}
    return RollupTree(managers=above, large=large)


@st.composite
def trees(draw: Any) -> tuple[RollupTree, int]:
    size = draw(st.integers(min_value=1, max_value=12))
    parents: list[int | None] = [None]
    for index in range(1, size):
        parents.append(draw(st.one_of(st.none(), st.integers(min_value=0, max_value=index - 1))))
    return _tree(parents, draw(st.integers(min_value=0, max_value=6))), size


row_strategy = st.tuples(
    st.integers(min_value=1, max_value=14),  # person (13 and 14 are not in the tree: created by the import)
    st.integers(min_value=0, max_value=70),  # day offset: across three months
    st.sampled_from(["booked", "invoiced", "churned"]),
    st.sampled_from([7, 9, 2**40, 2**63 - 1]),  # region (ids far apart: columns and packed keys are renumbered)
    st.sampled_from([2, 5, 2**30]),  # product line
    st.sampled_from([0, 4, 8]),  # product application (0: none)
    st.sampled_from(["new", "renewal", "expansion"]),
    st.sampled_from(["EUR", "USD"]),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from([1, 1, 1, -1]),  # a written row, or one a correction removes
)


def _expected(rows: list[tuple[Any, ...]], tree: RollupTree) -> tuple[dict[tuple[Any, ...], list[int]], dict[tuple[Any, ...], list[int]]]:
    rollups: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    totals: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for person, day, measure, region, line, application, motion, currency, amount, count in rows:
        month = day.replace(day=1).isoformat()
        day_text = day.isoformat()
        dimensions = (region, line, application, motion, currency)
        keys = [
            (rollups, (0, MONTH, measure, month, *dimensions)),
            (rollups, (0, DAY, measure, day_text, *dimensions)),
            (rollups, (0, DAY, measure, day_text, region, 0, 0, motion, currency)),
            (rollups, (0, DAY, measure, day_text, 0, line, application, motion, currency)),
            (rollups, (person, OWN_MONTH, measure, month, 0, 0, 0, motion, currency)),
            (totals, (0, MONTH, measure, month, motion, currency)),
            (totals, (0, DAY, measure, day_text, motion, currency)),
        ]
        keys += [(totals, (node, MONTH, measure, month, motion, currency)) for node in tree.managers.get(person, ())]
        for node in tree.large.get(person, ()):
            keys.append((rollups, (node, MONTH, measure, month, *dimensions)))
            keys.append((totals, (node, DAY, measure, day_text, motion, currency)))
        for table, key in keys:
            table[key][0] += amount
            table[key][1] += count
    return rollups, totals


def _text(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row as stored (grain, measure and motion as codes) with its text back in their place."""
    node, grain, measure, period, *rest = row
    *dimensions, motion, currency, amount, count = rest
    return (node, GRAIN_CODES[grain], MEASURE_CODES[measure], period, *dimensions, MOTION_CODES[motion], currency, amount, count)


def _as_dict(stored: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[int]]:
    rows = [_text(row) for row in stored]
    found: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        assert row[:-2] not in found, f"{row[:-2]} summed twice"
        found[row[:-2]] = [row[-2], row[-1]]
    return found


def _nonzero(table: dict[tuple[Any, ...], list[int]]) -> dict[tuple[Any, ...], list[int]]:
    return {key: value for key, value in table.items() if value != [0, 0]}


@settings(max_examples=200, deadline=None)
@given(tree_and_size=trees(), drawn=st.lists(row_strategy, max_size=60))
def test_window_sums_equal_a_row_by_row_expansion(tree_and_size, drawn):
    tree, _ = tree_and_size
    window = CreditWindow()
    rows = []
    for person, offset, measure, region, line, application, motion, currency, amount, count in drawn:
        day = date(2027, 1, 1) + timedelta(days=offset)
        rows.append((person, day, measure, region, line, application, motion, currency, amount, count))
        window.append(
            person, day.toordinal(), window.code("measure", measure), region, line, application,
            window.code("motion", motion), window.code("currency", currency), amount, count,
        )  # fmt: skip
    rolled = roll_up(window, TreeArrays.of(tree))
    expected_rollups, expected_totals = _expected(rows, tree)
    rollups = [row for rows in rolled.rollups(size=7) for row in rows]
    totals = [row for rows in rolled.totals(size=7) for row in rows]
    assert _as_dict(rollups) == _nonzero(expected_rollups)
    assert _as_dict(totals) == _nonzero(expected_totals)
    # Each table's rows in the order of its primary key (codes, and currencies in ASCII: Python
    # orders them as the databases do), all parts merged, whatever order the window's codes were
    # given in; the codes sort as their text does.
    assert [row[:-2] for row in rollups] == sorted(row[:-2] for row in rollups)
    assert [row[:-2] for row in totals] == sorted(row[:-2] for row in totals)
    assert [_text(row)[:-2] for row in rollups] == sorted(_text(row)[:-2] for row in rollups)
    window.clear()  # roll_up read the columns through views and kept none (BufferError otherwise)

    # The same rows given a column at a time, as the ingest gives the rows it writes.
    by_columns = CreditWindow()
    columns = list(zip(*drawn, strict=True)) if drawn else [()] * 10
    by_columns.extend(
        person=columns[0], day=[(date(2027, 1, 1) + timedelta(days=offset)).toordinal() for offset in columns[1]],
        measure=by_columns.codes("measure", columns[2]), region=columns[3], product_line=columns[4], product_application=columns[5],
        motion=by_columns.codes("motion", columns[6]), currency=by_columns.codes("currency", columns[7]), amount=columns[8],
        count=columns[9],
    )  # fmt: skip
    again = roll_up(by_columns, TreeArrays.of(tree))
    assert _as_dict([row for rows in again.rollups() for row in rows]) == _nonzero(expected_rollups)
    assert _as_dict([row for rows in again.totals() for row in rows]) == _nonzero(expected_totals)


def test_a_window_read_as_views_cannot_change_while_a_view_is_held():
    window = CreditWindow()
    window.append(1, 2, 0, 3, 4, 0, 0, 0, 500, 1)
    arrays = window.arrays()
    assert not arrays["amount"].flags.writeable
    with pytest.raises(BufferError):
        window.clear()
    del arrays
    window.clear()
    assert len(window) == 0


def test_a_window_extends_by_every_column_or_not_at_all():
    window = CreditWindow()
    with pytest.raises(ValueError, match="every column"):
        window.extend(person=[1], day=[2])
    assert len(window) == 0


def test_sums_beyond_int64_stay_exact():
    tree = _tree([None, 0], minimum=0)
    window = CreditWindow()
    huge = 2**62 - 1
    for _ in range(4):
        window.append(2, date(2027, 3, 5).toordinal(), window.code("measure", "booked"), 1, 1, 0, 0, 0, huge, 1)
    window.append(2, date(2027, 3, 5).toordinal(), window.code("measure", "booked"), 1, 1, 0, 0, 0, -3, 1)
    for code in ("motion", "currency"):
        window.code(code, "new" if code == "motion" else "EUR")
    rolled = roll_up(window, TreeArrays.of(tree))
    totals = [_text(row) for rows in rolled.totals() for row in rows]  # read once: each part is let go once read
    assert list(rolled.totals()) == []
    company_month = [row for row in totals if row[:2] == (0, MONTH)]
    assert company_month == [(0, MONTH, "booked", "2027-03-01", "new", "EUR", 4 * huge - 3, 5)]
    manager = [row for row in totals if row[0] == 1 and row[1] == DAY]
    assert manager == [(1, DAY, "booked", "2027-03-05", "new", "EUR", 4 * huge - 3, 5)]


def test_an_empty_window_adds_nothing():
    rolled = roll_up(CreditWindow(), TreeArrays.of(_tree([None], minimum=0)))
    assert list(rolled.rollups()) == [] and list(rolled.totals()) == []


def test_rows_that_cancel_out_are_left_out():
    tree = _tree([None, 0], minimum=5)
    window = CreditWindow()
    day = date(2027, 2, 1).toordinal()
    codes = (window.code("measure", "booked"), window.code("motion", "new"), window.code("currency", "EUR"))
    window.append(2, day, codes[0], 1, 1, 0, codes[1], codes[2], 500, 1)
    window.append(2, day, codes[0], 1, 1, 0, codes[1], codes[2], -500, -1)
    rolled = roll_up(window, TreeArrays.of(tree))
    assert list(rolled.rollups()) == [] and list(rolled.totals()) == []

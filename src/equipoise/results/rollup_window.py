"""Sum a window of credit rows into rollup rows, by the rule in :mod:`.rollup_nodes`. Pure: no ORM.

The ingest appends every credit row it writes (and, negated, every row a correction removes) to a
:class:`CreditWindow`, a set of int64 columns. At each flush :func:`roll_up` sums the window with
numpy — sorts and segment sums over integer keys, exact in int64 (or in Python integers when a
window's amounts could overflow) — and returns the rows to add to :class:`Rollup` and
:class:`RollupTotal`. Sums go up the org tree level by level from what is already summed: the
company's months from its days, managers' monthly totals from each person's own months, and every
large subtree from the nearest large manager's sums. So a credit row costs four keys sorted,
however deep the tree, where one key per rollup row it feeds (fifteen in a four-level org) cost the
database a sort each.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from equipoise.results.models import COMPANY_NODE, GRAIN_CODES, MEASURE_CODES, MOTION_CODES, Grain
from equipoise.results.rollup_nodes import RollupTree

Ints = npt.NDArray[np.int64]
MONTH, DAY, OWN_MONTH = str(Grain.MONTH.value), str(Grain.DAY.value), str(Grain.OWN_MONTH.value)
# Ordinal of 1970-01-01: numpy's datetime64 counts days from there.
_EPOCH = date(1970, 1, 1).toordinal()
_INT64_SAFE = 2**62
_DENSE_ABOVE = 2**31  # a key column spanning more values than this is renumbered before packing
DIMENSIONS = ("region", "product_line", "product_application")

COLUMNS = ("person", "day", "measure", "region", "product_line", "product_application", "motion", "currency", "amount", "count")


class CreditWindow:
    """Credit rows not yet in the rollups, as int64 columns; strings (measure, motion, currency) as codes.

    ``append`` takes a row in :data:`COLUMNS` order: person id, day (``date.toordinal()``), measure
    code, region, product line and application ids (0 for none), motion code, currency code, amount
    in minor units and count (1 for a written row, -1 for a removed one)."""

    def __init__(self) -> None:
        self._columns = [array("q") for _ in COLUMNS]
        self._codes: dict[str, dict[str, int]] = {"measure": {}, "motion": {}, "currency": {}}

    def code(self, kind: str, value: str) -> int:
        codes = self._codes[kind]
        found = codes.get(value)
        if found is None:
            found = codes[value] = len(codes)
        return found

    def codes(self, kind: str, values: Sequence[str]) -> list[int]:
        """The code of each of ``values``."""
        table = {value: self.code(kind, value) for value in set(values)}
        return [table[value] for value in values]

    def extend(self, **columns: Sequence[int]) -> None:
        """Append rows given as columns, named as in :data:`COLUMNS` (each the same length)."""
        if set(columns) != set(COLUMNS):
            raise ValueError(f"A window extends by every column: {', '.join(COLUMNS)}.")
        for name, column in zip(COLUMNS, self._columns, strict=True):
            column.extend(columns[name])

    def append(self, *row: int) -> None:
        for column, value in zip(self._columns, row, strict=True):
            column.append(value)

    def __len__(self) -> int:
        return len(self._columns[0])

    def clear(self) -> None:
        for column in self._columns:
            del column[:]

    def arrays(self) -> dict[str, Ints]:
        """The columns as read-only views, not copies (a million rows are 80 MB): drop every view
        before :meth:`clear` or :meth:`append`, which otherwise raise ``BufferError``."""
        found = {}
        for name, column in zip(COLUMNS, self._columns, strict=True):
            view = np.frombuffer(column, dtype=np.int64)
            view.flags.writeable = False
            found[name] = view
        return found

    def decoder(self, kind: str) -> list[str]:
        codes = self._codes[kind]
        names = [""] * len(codes)
        for value, code in codes.items():
            names[code] = value
        return names


@dataclass(frozen=True)
class TreeArrays:
    """The org tree as arrays over sorted person ids: for each level k, the k-th manager above each
    person (nearest first) and the k-th large manager above them, -1 where there is none."""

    ids: Ints
    managers: list[Ints]
    large: list[Ints]

    @classmethod
    def of(cls, tree: RollupTree) -> TreeArrays:
        ids = np.array(sorted(tree.managers), dtype=np.int64)

        def levels(above: dict[int, tuple[int, ...]]) -> list[Ints]:
            depth = max((len(nodes) for nodes in above.values()), default=0)
            found = [np.full(len(ids), -1, dtype=np.int64) for _ in range(depth)]
            for position, person in enumerate(ids.tolist()):
                for level, node in enumerate(above.get(person, ())):
                    found[level][position] = node
            return found

        return cls(ids=ids, managers=levels(tree.managers), large=levels(tree.large))

    def positions(self, people: Ints) -> tuple[Ints, npt.NDArray[np.bool_]]:
        """Each person's position in ``ids``, and whether they are in the tree at all (someone
        created by this very import is not: they have no managers)."""
        if not len(self.ids):
            return np.zeros(len(people), dtype=np.int64), np.zeros(len(people), dtype=np.bool_)
        found = np.minimum(np.searchsorted(self.ids, people), len(self.ids) - 1)
        return found, self.ids[found] == people

    def above(self, levels: list[Ints], people: Ints) -> list[Ints]:
        """For each level, the node above each of ``people`` (-1: none)."""
        found, known = self.positions(people)
        return [np.where(known, level[found], -1) for level in levels]


@dataclass
class Summed:
    """Rows of sums: key columns, amounts and counts."""

    columns: dict[str, Ints]
    amount: npt.NDArray[Any]
    count: Ints


def _pack(keys: Sequence[Ints]) -> Ints:
    """One int64 per row that orders and equals like the tuple of ``keys``: each column offset to
    start at 0 and multiplied in; when the product of the ranges nears int64, the key so far is
    renumbered densely (a sort) before the next column goes in."""
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    span = 1
    for column in keys:
        if not len(column):
            return packed
        low, high = int(column.min()), int(column.max())
        width = high - low + 1
        if width >= _DENSE_ABOVE:  # ids far apart: the column itself renumbered densely
            uniques, column = np.unique(column, return_inverse=True)
            low, width = 0, len(uniques)
        if span * width >= _INT64_SAFE:
            uniques, packed = np.unique(packed, return_inverse=True)
            span = len(uniques)
            packed = packed.astype(np.int64)
        packed = packed * width + (column - low)
        span *= width
    return packed


def _group(columns: dict[str, Ints], names: Sequence[str], amount: npt.NDArray[Any], count: Ints) -> Summed:
    """Sum ``amount`` and ``count`` over rows with the same values in ``names``."""
    if not len(count):
        # Copies, not slices: a slice would keep a view of the window's columns (see arrays()).
        return Summed({name: columns[name][:0].copy() for name in names}, amount[:0].copy(), count[:0].copy())
    packed = _pack([columns[name] for name in names])
    order = np.argsort(packed)
    ordered = packed[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    first = order[starts]
    return Summed(
        {name: columns[name][first] for name in names},
        np.add.reduceat(amount[order], starts),
        np.add.reduceat(count[order], starts),
    )


def _up(summed: Summed, node_column: str, levels: list[Ints], *, include_self: bool) -> Summed:
    """``summed`` (keyed by ``node_column``) added to every node above, per level, as one table
    with a ``node`` column; the caller groups it again (two nodes of a level share an ancestor)."""
    parts_nodes, parts_index = [], []
    own = summed.columns[node_column]
    if include_self:
        parts_nodes.append(own)
        parts_index.append(np.arange(len(own)))
    for level in levels:
        keep = np.flatnonzero(level >= 0)
        parts_nodes.append(level[keep])
        parts_index.append(keep)
    index = np.concatenate(parts_index) if parts_index else np.zeros(0, dtype=np.int64)
    columns = {name: values[index] for name, values in summed.columns.items() if name != node_column}
    columns["node"] = np.concatenate(parts_nodes) if parts_nodes else np.zeros(0, dtype=np.int64)
    return Summed(columns, summed.amount[index], summed.count[index])


@dataclass
class _Part:
    summed: Summed
    grain: str
    period: str  # the column holding the period: "day" or "month"
    node: int | None  # the node of every row, or None: the rows' "node" column (or "person" for own credits)


@dataclass
class RolledUp:
    """What a window adds, as sums to turn into rows a slice at a time: :class:`Rollup` rows (node,
    grain, measure, period, region, product line, product application, motion, currency, amount,
    count) and :class:`RollupTotal` rows (node, grain, measure, period, motion, currency, amount,
    count), periods as ISO text.

    Each table's rows come in the order of its primary key, all parts merged: PostgreSQL adds keys
    that arrive in index order to the B-tree's rightmost pages, where keys in any other order each
    find their own page (a first load's MERGE of 1.6M rows: 5.1-6.3 s against 7.1-8.1 s)."""

    decoder: _Decoder
    rollup_parts: list[_Part]
    total_parts: list[_Part]

    def rollups(self, *, size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
        """The rollup rows; the parts are let go once merged, so read them once."""
        merged = self.merged(dimensions=True)
        if merged is not None:
            yield from self.decoder.rows(merged, size=size, dimensions=True)

    def totals(self, *, size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
        """The total rows; read them once, like :meth:`rollups`."""
        merged = self.merged(dimensions=False)
        if merged is not None:
            yield from self.decoder.rows(merged, size=size, dimensions=False)

    def merged(self, *, dimensions: bool) -> Summed | None:
        """The rollup rows (``dimensions``) or the total rows as one table in primary-key order, every
        key column an integer: the currency a rank into :attr:`currencies` (see :meth:`_Decoder.merged`),
        the rest as stored. Read them once."""
        parts = self.rollup_parts if dimensions else self.total_parts
        merged = self.decoder.merged(parts, dimensions=dimensions)
        parts.clear()
        return merged

    @property
    def currencies(self) -> list[str]:
        """What the currency ranks of a :meth:`merged` table stand for."""
        return self.decoder.currencies


def roll_up(window: CreditWindow, tree: TreeArrays) -> RolledUp:
    """The rollup rows that the window's credit rows add, by the rule in :mod:`.rollup_nodes`."""
    raw = window.arrays()
    count = raw.pop("count")
    amount: npt.NDArray[Any] = raw.pop("amount")
    if len(amount) and int(np.abs(amount).max()) * len(amount) >= _INT64_SAFE:
        amount = amount.astype(object)  # exact Python integers: slower, never overflows
    raw["month"] = _month_of(raw["day"])
    dimensions = ("region", "product_line", "product_application", "motion", "currency")
    kinds = ("motion", "currency")

    # The company, by dimension, daily then monthly; its totals from those.
    company_days = _group(raw, ("measure", "day", *dimensions), amount, count)
    company_days.columns["month"] = _month_of(company_days.columns["day"])
    company_months = _group(company_days.columns, ("measure", "month", *dimensions), company_days.amount, company_days.count)
    company_day_totals = _group(company_days.columns, ("measure", "day", *kinds), company_days.amount, company_days.count)
    # ... and daily by region alone and by product alone (the other dimension columns 0, "all"):
    # a week by region reads a row per region and day, not one per combination of dimensions.
    company_day_regions = _group(company_days.columns, ("measure", "day", "region", *kinds), company_days.amount, company_days.count)
    company_day_products = _group(
        company_days.columns, ("measure", "day", "product_line", "product_application", *kinds), company_days.amount, company_days.count
    )
    company_month_totals = _group(company_months.columns, ("measure", "month", *kinds), company_months.amount, company_months.count)

    # Every person's own credits monthly; every manager's monthly totals from those.
    own = _group(raw, ("person", "measure", "month", *kinds), amount, count)
    own.columns["node"] = own.columns.pop("person")
    managers = _up(own, "node", tree.above(tree.managers, own.columns["node"]), include_self=False)
    manager_totals = _group(managers.columns, ("node", "measure", "month", *kinds), managers.amount, managers.count)

    # Large subtrees: summed for the nearest large manager, then for every one above them.
    nearest = tree.above(tree.large[:1], raw["person"])[0] if tree.large else np.full(len(count), -1, dtype=np.int64)
    in_large = np.flatnonzero(nearest >= 0)
    if len(in_large) == len(count):  # everyone is under a large manager: no copy of the columns
        large_raw, large_amount, large_count = dict(raw), amount, count
        large_raw["nearest"] = nearest
    else:
        large_raw = {name: values[in_large] for name, values in raw.items()}
        large_raw["nearest"] = nearest[in_large]
        large_amount, large_count = amount[in_large], count[in_large]
    large_months = _group(large_raw, ("nearest", "measure", "month", *dimensions), large_amount, large_count)
    large_days = _group(large_raw, ("nearest", "measure", "day", *kinds), large_amount, large_count)
    del raw, large_raw, amount, count, large_amount, large_count, managers  # what is summed is kept; what it came from, not
    months_up = _up(large_months, "nearest", tree.above(tree.large, large_months.columns["nearest"]), include_self=True)
    del large_months
    large_month_rows = _group(months_up.columns, ("node", "measure", "month", *dimensions), months_up.amount, months_up.count)
    del months_up
    days_up = _up(large_days, "nearest", tree.above(tree.large, large_days.columns["nearest"]), include_self=True)
    del large_days
    large_day_totals = _group(days_up.columns, ("node", "measure", "day", *kinds), days_up.amount, days_up.count)
    del days_up
    del company_days.columns["month"]  # read by period "day"

    return RolledUp(
        decoder=_Decoder(window),
        rollup_parts=[
            _Part(company_months, MONTH, "month", COMPANY_NODE),
            _Part(company_days, DAY, "day", COMPANY_NODE),
            _Part(company_day_regions, DAY, "day", COMPANY_NODE),
            _Part(company_day_products, DAY, "day", COMPANY_NODE),
            _Part(large_month_rows, MONTH, "month", None),
            _Part(own, OWN_MONTH, "month", None),
        ],
        total_parts=[
            _Part(company_month_totals, MONTH, "month", COMPANY_NODE),
            _Part(company_day_totals, DAY, "day", COMPANY_NODE),
            _Part(manager_totals, MONTH, "month", None),
            _Part(large_day_totals, DAY, "day", None),
        ],
    )


def _month_of(days: Ints) -> Ints:
    """The ordinal of the first day of each day's month."""
    months = (days - _EPOCH).astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64) + _EPOCH


class _Decoder:
    """Summed rows back to what the rollup tables store: grain, measure and motion as their stored
    codes (see ``TextCodeField``), currencies as text, ordinals as ISO dates; rows whose sums
    cancel out (a line removed and written again unchanged) are left out.

    In a merged table the currency is a rank among the window's currencies as they sort, so that
    packed integer keys sort rows as the primary key does."""

    def __init__(self, window: CreditWindow) -> None:
        self.currencies = sorted(window.decoder("currency"))
        self._codes = {
            "measure": np.array([MEASURE_CODES.index(name) for name in window.decoder("measure")], dtype=np.int64),
            "motion": np.array([MOTION_CODES.index(name) for name in window.decoder("motion")], dtype=np.int64),
            "currency": np.array([self.currencies.index(name) for name in window.decoder("currency")], dtype=np.int64),
        }
        self._dates: dict[int, str] = {}

    def _iso(self, ordinals: Ints) -> list[str]:
        dates = self._dates
        found = []
        for ordinal in ordinals.tolist():
            text = dates.get(ordinal)
            if text is None:
                text = dates[ordinal] = date.fromordinal(ordinal).isoformat()
            found.append(text)
        return found

    def merged(self, parts: list[_Part], *, dimensions: bool) -> Summed | None:
        """The parts' rows that do not cancel out, as one table in primary-key order: columns node,
        grain, measure, period, (region, product line, product application,) motion and currency
        as integers (see the class). Each part is let go once copied."""
        names = ("node", "grain", "measure", "period", *(DIMENSIONS if dimensions else ()), "motion", "currency")
        pieces: dict[str, list[Ints]] = {name: [] for name in names}
        amounts: list[npt.NDArray[Any]] = []
        counts: list[Ints] = []
        while parts:
            part = parts.pop(0)
            summed = part.summed
            kept: Any = np.flatnonzero((summed.amount != 0) | (summed.count != 0))
            if len(kept) == len(summed.count):
                kept = slice(None)  # every row: the columns as they are, not copies
            columns = summed.columns
            length = len(summed.count[kept])
            pieces["node"].append(np.full(length, part.node, dtype=np.int64) if part.node is not None else columns["node"][kept])
            pieces["grain"].append(np.full(length, GRAIN_CODES.index(part.grain), dtype=np.int64))
            pieces["period"].append(columns[part.period][kept])
            for kind in ("measure", "motion", "currency"):
                pieces[kind].append(self._codes[kind][columns[kind][kept]])
            if dimensions:
                for name in DIMENSIONS:  # a dimension the part is not by is stored as 0: all of them
                    pieces[name].append(columns[name][kept] if name in columns else np.zeros(length, dtype=np.int64))
            amounts.append(summed.amount[kept])
            counts.append(summed.count[kept])
            del summed, columns, kept
        if not sum(len(count) for count in counts):
            return None
        columns = {}
        for name in names:  # a column at a time, each part's copy let go as it is joined
            columns[name] = np.concatenate(pieces.pop(name))
        order = np.argsort(_pack([columns[name] for name in names]), kind="stable")
        for name in names:  # in place of the unordered column, so one more column at most
            columns[name] = columns[name][order]
        return Summed(columns, np.concatenate(amounts)[order], np.concatenate(counts)[order])

    def rows(self, merged: Summed, *, size: int, dimensions: bool) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a :meth:`merged` table as the tables store them, ``size`` at a time."""
        columns = merged.columns
        currencies = self.currencies
        for start in range(0, len(merged.count), size):
            at = slice(start, start + size)
            keys = [
                columns["node"][at].tolist(),
                columns["grain"][at].tolist(),
                columns["measure"][at].tolist(),
                self._iso(columns["period"][at]),
                *([columns[name][at].tolist() for name in DIMENSIONS] if dimensions else []),
                columns["motion"][at].tolist(),
                [currencies[rank] for rank in columns["currency"][at].tolist()],
            ]
            yield list(zip(*keys, merged.amount[at].tolist(), merged.count[at].tolist(), strict=True))

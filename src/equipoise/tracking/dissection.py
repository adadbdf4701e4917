"""What a dissection table shows, as URL parameters, and where a drill goes next. Pure: no ORM.

A :class:`Dissection` is the state of the page (scope, rows, grain, range, measure, filters); the
page, its partial, the exports and the API all parse the same parameters into it, and every link
(drill, breadcrumb, preset) is another :class:`Dissection`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from equipoise.core.errors import ApplicationError
from equipoise.core.periods import month_end
from equipoise.tracking.domain import FINER_GRAIN, MONTHLY_GRAINS, Grain, Period, day_label, parse_grain

# Rows a table can show. "org" is the scope's direct reports.
ROW_DIMENSIONS = ("region", "org", "customer", "motion", "product_line", "product_application")
ROW_LABELS = {
    "region": "Region",
    "org": "Team / seller",
    "customer": "Customer",
    "motion": "Motion",
    "product_line": "Product line",
    "product_application": "Product application",
}
# Dimensions a table can be filtered by (a drill into a row adds one).
FILTER_DIMENSIONS = ("region", "customer", "motion", "product_line", "product_application")


def next_rows(*, filtered: Iterable[str], has_reports: bool, after: str | None = None) -> str | None:
    """The rows one drill level down: the next dimension of the drill order (region → org tree →
    customer → motion → product line → product application, continuing from ``after`` and wrapping
    round) that is not yet filtered; the org tree only while the scope has reports. None at the
    bottom."""
    done = set(filtered)
    order = list(ROW_DIMENSIONS)
    if after in order:
        position = order.index(after) + 1
        order = order[position:] + order[:position]
    for dimension in order:
        if dimension == "org":
            if has_reports:
                return dimension
            continue
        if dimension not in done:
            return dimension
    return None


@dataclass(frozen=True, slots=True)
class Dissection:
    """What a table shows: its URL parameters, parsed (``scope`` as text: ``company``,
    ``team:<id>``, ``seller:<id>``, ``customer:<id>``)."""

    scope: str = ""
    rows: str = ""
    grain: Grain = Grain.MONTH
    start: date | None = None
    end: date | None = None
    measure: str = ""
    show: str = "actual"
    filters: tuple[tuple[str, object], ...] = ()
    # Rows with neither plan nor result in the range are left out unless asked for (``empty=show``).
    show_empty_rows: bool = False

    @property
    def filter_map(self) -> dict[str, object]:
        return dict(self.filters)

    def with_filter(self, dimension: str, value: object) -> Dissection:
        current = {**self.filter_map, dimension: value}
        return replace(self, filters=tuple((d, current[d]) for d in FILTER_DIMENSIONS if d in current))

    def without_filters(self, keep: Iterable[str]) -> Dissection:
        kept = set(keep)
        return replace(self, filters=tuple(item for item in self.filters if item[0] in kept))

    def params(self) -> dict[str, str]:
        """URL parameters, in a stable order, leaving out what is empty."""
        values: dict[str, str] = {}
        if self.scope:
            values["scope"] = self.scope
        if self.rows:
            values["rows"] = self.rows
        values["grain"] = self.grain.value
        if self.start is not None:
            values["from"] = self.start.isoformat()
        if self.end is not None:
            values["to"] = self.end.isoformat()
        if self.measure:
            values["measure"] = self.measure
        if self.show and self.show != "actual":
            values["show"] = self.show
        if self.show_empty_rows:
            values["empty"] = "show"
        for dimension, value in self.filters:
            values[dimension] = str(value)
        return values


def drill_period(view: Dissection, column: Period) -> Dissection | None:
    """The view one grain finer, over ``column`` only; None for a day."""
    finer = FINER_GRAIN.get(column.grain)
    if finer is None:
        return None
    return replace(view, grain=finer, start=column.start, end=column.end)


SHOW_CHOICES = {
    "actual": "Actual",
    "plan": "Plan",
    "variance": "Variance",
    "attainment": "Attainment %",
    "pace": "Pace",
}


def _parse_date(text: str, *, field: str, end_of_month: bool) -> date:
    raw = text.strip()
    try:
        if len(raw) == 7:
            year, month = raw.split("-")
            first = date(int(year), int(month), 1)
            return month_end(first) if end_of_month else first
        return date.fromisoformat(raw)
    except ValueError as error:
        raise ApplicationError(f"{text!r} is not a date: write it as YYYY-MM-DD, for example 2027-01-31.", field=field) from error


EMPTY_ROWS_CHOICES = {"hide": False, "show": True}


def parse_dissection(params: Mapping[str, str]) -> Dissection:
    """URL (or API) parameters to a :class:`Dissection`. Only the form of each value is checked
    here (and that the range does not end before it starts, in the dates as written); whether the
    scope, ids and measure exist and may be seen is the selectors' business."""
    rows = (params.get("rows") or "").strip()
    if rows and rows not in ROW_DIMENSIONS:
        raise ApplicationError(f"{rows!r} is not a row dimension: use one of {', '.join(ROW_DIMENSIONS)}.", field="rows")
    show = (params.get("show") or "actual").strip()
    if show not in SHOW_CHOICES:
        raise ApplicationError(f"{show!r} is not a figure to show: use one of {', '.join(SHOW_CHOICES)}.", field="show")
    empty = (params.get("empty") or "hide").strip()
    if empty not in EMPTY_ROWS_CHOICES:
        raise ApplicationError(f"{empty!r} is not a choice for empty rows: use hide or show.", field="empty")
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    start = _parse_date(raw_from, field="from", end_of_month=False) if raw_from else None
    end = _parse_date(raw_to, field="to", end_of_month=True) if raw_to else None
    if start is not None and end is not None and end < start:
        # Said in the dates as written, before monthly grains widen them to whole months.
        raise ApplicationError(f"The range ends ({day_label(end)}) before it starts ({day_label(start)}): swap the dates.", field="to")
    filters: list[tuple[str, object]] = []
    for dimension in FILTER_DIMENSIONS:
        raw = (params.get(dimension) or "").strip()
        if not raw:
            continue
        if dimension == "motion":
            filters.append((dimension, raw))
        elif raw.isdigit() and 0 < int(raw) < 2**63:
            filters.append((dimension, int(raw)))
        else:
            raise ApplicationError(f"{raw!r} is not an id: {dimension.replace('_', ' ')} takes a record id.", field=dimension)
    return Dissection(
        scope=(params.get("scope") or "").strip(),
        rows=rows,
        grain=parse_grain((params.get("grain") or Grain.MONTH.value).strip()),
        start=start,
        end=end,
        measure=(params.get("measure") or "").strip(),
        show=show,
        filters=tuple(filters),
        show_empty_rows=EMPTY_ROWS_CHOICES[empty],
    )


def widening_notice(view: Dissection, start: date, end: date) -> str:
    """What to say when the range shown is wider than the range asked for (monthly grains show
    whole months); empty when it is the range asked for, or when no range was asked for."""
    asked_start = view.start or start
    asked_end = view.end or end
    if view.grain not in MONTHLY_GRAINS or (asked_start, asked_end) == (start, end):
        return ""
    columns = "The whole-range column covers" if view.grain == Grain.HORIZON else f"{view.grain.label} columns cover"
    return (
        f"{columns} whole months: showing {day_label(start)} – {day_label(end)}"
        f" (you asked for {day_label(asked_start)} – {day_label(asked_end)}). For exact dates, choose day or week columns."
    )


def form_values(params: Mapping[str, str], *, defaults: Mapping[str, str], choices: Mapping[str, Collection[str]]) -> dict[str, str]:
    """What the form shows when the parameters could not make a table: each choice as the user
    made it where it is one of the offered ``choices``, otherwise its default; dates as typed."""
    values = {key: (params.get(key) or "").strip() for key in ("scope", "rows", "grain", "from", "to", "measure", "show")}
    for key, offered in choices.items():
        if values.get(key) not in offered:
            values[key] = defaults.get(key, "")
    return values

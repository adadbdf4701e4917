"""What a plan-vs-actual table is: its rows, columns, charts and filters, as :func:`.selectors.dissect`
builds them and the page, the exports and the API show them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from equipoise.results.models import Measure
from equipoise.tracking.dissection import ROW_LABELS, Dissection
from equipoise.tracking.domain import Figures, Period
from equipoise.tracking.navigation import Crumb
from equipoise.tracking.scopes import Scope

MEASURE_NOUNS = {Measure.BOOKED.value: "bookings", Measure.INVOICED.value: "invoices", Measure.CHURNED.value: "churn"}


@dataclass
class TableRow:
    key: str
    label: str
    figures: list[Figures]
    total: Figures
    drill: Dissection | None = None
    cell_drills: list[Dissection | None] = field(default_factory=list)
    kind: str = "row"  # "row"; "own": a manager's own results; "other": the rest; "total"
    note: str = ""

    @property
    def cells(self) -> list[tuple[Figures, Dissection | None]]:
        return list(zip(self.figures, self.cell_drills, strict=True))

    @property
    def is_empty(self) -> bool:
        """Neither a result nor a plan in any period (a plan of zero is no plan)."""
        return not any(figures.actual_minor or figures.plan_minor for figures in self.figures)


@dataclass
class ChartData:
    """Figures for the two charts, in minor units (the view converts them for drawing)."""

    points: list[date]
    cumulative_plan: list[int] | None
    cumulative_actual: list[int | None]
    months: list[date]
    month_plan: list[int] | None
    month_actual_by_motion: dict[str, list[int]]


@dataclass
class FilterChip:
    dimension: str
    dimension_label: str
    value_label: str
    remove: Dissection


@dataclass
class Table:
    view: Dissection
    scope: Scope
    measure: str
    currency: str
    as_of: date
    start: date
    end: date
    periods: list[Period]
    period_drills: list[Dissection | None]
    rows_dimension: str
    rows: list[TableRow]
    totals: TableRow
    plan_source: str
    plan_note: str
    other_currencies: list[str]
    where: list[Crumb]
    when: list[Crumb]
    filters: list[FilterChip]
    chart: ChartData
    presets: list[tuple[str, Dissection]] = field(default_factory=list)
    # Said when a monthly grain widened the range asked for to whole months.
    range_notice: str = ""
    # Rows left out for having neither plan nor result in the range (see Dissection.show_empty_rows).
    hidden_rows: int = 0
    # The plan's whole horizon, when the range lies entirely outside it.
    plan_horizon_view: Dissection | None = None

    @property
    def measure_label(self) -> str:
        return str(Measure(self.measure).label)

    @property
    def rows_label(self) -> str:
        return ROW_LABELS[self.rows_dimension]

    @property
    def columns(self) -> list[tuple[Period, Dissection | None]]:
        return list(zip(self.periods, self.period_drills, strict=True))

    @property
    def has_plan(self) -> bool:
        return self.totals.total.plan_minor is not None

    @property
    def is_empty(self) -> bool:
        """Nothing to show: no result and no plan anywhere in the range (empty rows included)."""
        return self.totals.is_empty and all(row.is_empty for row in self.rows)

    @property
    def measure_noun(self) -> str:
        """What the measure counts, as a plural noun: "no bookings in this range"."""
        return MEASURE_NOUNS.get(self.measure, "results")

    @property
    def empty_rows_shown(self) -> int:
        return sum(1 for row in self.rows if row.kind == "row" and row.is_empty)

    @property
    def empty_rows_toggle(self) -> Dissection:
        """The same table with empty rows shown (or hidden again)."""
        return replace(self.view, show_empty_rows=not self.view.show_empty_rows)

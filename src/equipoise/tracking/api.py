"""The tracking part of the REST API: the dissection table as JSON.

``GET /api/v1/tracking`` takes the page's parameters and answers with the same table: periods,
rows and totals, each figure in integer minor units with the currency, ratios as exact decimal
strings (1 = 100%). Scope is the selectors': a seller gets only their own figures, a manager
their subtree; any other scope, person or customer answers 404, as if it did not exist.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from equipoise.api.schemas import ERRORS, acting_user
from equipoise.tracking import dissection, selectors
from equipoise.tracking.dissection import Dissection
from equipoise.tracking.domain import Figures
from equipoise.tracking.tables import Table, TableRow

router = Router(tags=["tracking"])

_RATIO_PLACES = Decimal("0.000001")


class TrackingQuery(Schema):
    scope: str = Field("", description="company, team:<person id>, seller:<person id> or customer:<customer id>; yours when absent.")
    rows: str = Field("", description="region, org (the scope's direct reports), customer, motion, product_line or product_application.")
    grain: str = Field("month", description="day, week (ISO), month, quarter (fiscal), year (fiscal) or horizon (one column).")
    date_from: str = Field("", alias="from", description="YYYY-MM-DD (or YYYY-MM); monthly grains widen to whole months.")
    date_to: str = Field("", alias="to", description="YYYY-MM-DD (or YYYY-MM), inclusive.")
    measure: str = Field("", description="booked, invoiced or churned; the company's setting when absent.")
    region: str = Field("", description="Filter: a top-level region id.")
    product_line: str = Field("", description="Filter: a product line id.")
    product_application: str = Field("", description="Filter: a product application id.")
    motion: str = Field("", description="Filter: new, renewal or expansion.")
    customer: str = Field("", description="Filter: a customer id.")
    # "show" by default, as before the parameter existed: an integration that reads every row keeps them.
    empty: str = Field(
        "show", description="show: list every row; hide: leave out rows with neither plan nor result in the range (totals are unchanged)."
    )


class FiguresOut(Schema):
    plan_minor: int | None = Field(description="None: no plan for this cell (the plan does not split this way).")
    actual_minor: int
    variance_minor: int | None = Field(description="Actual − plan.")
    attainment: str | None = Field(description="Actual ÷ plan, a decimal string (1 = 100%).")
    pace: str | None = Field(description="Attainment ÷ share of business days elapsed (1 = on track).")
    projection_minor: int | None = Field(description="Actual ÷ elapsed share: the period's end figure at today's run rate.")


class PeriodOut(Schema):
    key: str
    label: str
    start: str
    end: str
    partial: bool = Field(description="The period is clipped to the range.")


class RowOut(Schema):
    key: str
    label: str
    kind: str = Field(description="row; own (a manager's own results); other (what the rows shown leave out); total.")
    drill: dict[str, str] | None = Field(description="Query parameters of the table one level down from this row.")
    cells: list[FiguresOut]
    total: FiguresOut


class TrackingOut(Schema):
    scope: str
    scope_label: str
    rows_dimension: str
    grain: str
    date_from: str = Field(serialization_alias="from")
    date_to: str = Field(serialization_alias="to")
    measure: str
    currency: str
    as_of: str
    filters: dict[str, str]
    plan_source: str
    plan_note: str
    other_currencies: list[str]
    periods: list[PeriodOut]
    rows: list[RowOut]
    hidden_rows: int = Field(description="Rows left out for having neither plan nor result in the range (see the empty parameter).")
    totals: RowOut


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(_RATIO_PLACES, rounding=ROUND_HALF_EVEN))


def _figures(figures: Figures) -> dict[str, Any]:
    return {
        "plan_minor": figures.plan_minor,
        "actual_minor": figures.actual_minor,
        "variance_minor": figures.variance_minor,
        "attainment": _ratio(figures.attainment),
        "pace": _ratio(figures.pace),
        "projection_minor": figures.projection_minor,
    }


def _drill(view: Dissection | None) -> dict[str, str] | None:
    return None if view is None else view.params()


def _row(row: TableRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "kind": row.kind,
        "drill": _drill(row.drill),
        "cells": [_figures(figures) for figures in row.figures],
        "total": _figures(row.total),
    }


def table_data(table: Table) -> dict[str, Any]:
    return {
        "scope": table.scope.text,
        "scope_label": table.scope.label,
        "rows_dimension": table.rows_dimension,
        "grain": table.view.grain.value,
        "date_from": table.start.isoformat(),
        "date_to": table.end.isoformat(),
        "measure": table.measure,
        "currency": table.currency,
        "as_of": table.as_of.isoformat(),
        "filters": {dimension: str(value) for dimension, value in table.view.filters},
        "plan_source": table.plan_source,
        "plan_note": table.plan_note,
        "other_currencies": table.other_currencies,
        "periods": [
            {
                "key": period.key,
                "label": period.label,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "partial": period.partial,
            }
            for period in table.periods
        ],
        "rows": [_row(row) for row in table.rows],
        "hidden_rows": table.hidden_rows,
        "totals": _row(table.totals),
    }


@router.get("/tracking", response={200: TrackingOut, **ERRORS}, by_alias=True, summary="Plan vs actual for a scope, by rows and periods")
def tracking_table(request: HttpRequest, query: Query[TrackingQuery]) -> Any:
    params = query.model_dump(by_alias=True)
    view = dissection.parse_dissection({key: str(value) for key, value in params.items()})
    return table_data(selectors.dissect(acting_user(request), view))

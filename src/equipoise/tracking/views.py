"""Tracking pages: the dissection view, its HTMX partial, and exports of what it shows.

Every route parses the same URL parameters (see :func:`equipoise.tracking.dissection.parse_dissection`)
and asks :func:`equipoise.tracking.selectors.dissect` as the signed-in user, so the page, the
partial and the exports show exactly the same scope. ``NotFound`` propagates (a 404, as for
something that does not exist); a parameter the user can fix is said above the form.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.core.money import Money
from equipoise.org.models import Motion
from equipoise.tracking import dissection, domain, exports, selectors
from equipoise.tracking.tables import ChartData, Table

# One colour per motion on every chart, so a motion is recognised from chart to chart.
MOTION_COLOURS = {"new": "#1f3a5f", "renewal": "#f4c95d", "expansion": "#4f8fc0"}
MEASURE_OPTIONS = [("booked", "Booked"), ("invoiced", "Invoiced"), ("churned", "Churned")]


def _float(amount_minor: int | None, currency: str) -> float | None:
    """Major units for drawing only; every figure shown as text stays exact."""
    return None if amount_minor is None else float(Money.from_minor(amount_minor, currency).amount)


def _chart_json(chart: ChartData, currency: str) -> dict[str, Any]:
    motion_labels = dict(Motion.choices)
    return {
        "currency": currency,
        "points": [point.isoformat() for point in chart.points],
        "cumulativePlan": [_float(value, currency) for value in chart.cumulative_plan] if chart.cumulative_plan is not None else None,
        "cumulativeActual": [_float(value, currency) for value in chart.cumulative_actual],
        "months": [month.isoformat() for month in chart.months],
        "monthPlan": [_float(value, currency) for value in chart.month_plan] if chart.month_plan is not None else None,
        "motions": [
            {
                "name": str(motion_labels.get(motion, motion)),
                "color": MOTION_COLOURS.get(motion, "#8a96a8"),
                "values": [_float(value, currency) for value in values],
            }
            for motion, values in chart.month_actual_by_motion.items()
        ],
    }


def _chart_rows(chart: ChartData) -> list[dict[str, Any]]:
    """The monthly chart's figures as a table, for people who cannot see the chart."""
    rows = []
    for position, month in enumerate(chart.months):
        rows.append(
            {
                "month": month,
                "plan": chart.month_plan[position] if chart.month_plan is not None else None,
                "motions": [values[position] for values in chart.month_actual_by_motion.values()],
                "actual": sum(values[position] for values in chart.month_actual_by_motion.values()),
            }
        )
    return rows


def page_url(view: dissection.Dissection) -> str:
    return f"{reverse('tracking:dissect')}?{urlencode(view.params())}"


def _context(request: HttpRequest) -> tuple[dict[str, Any], int]:
    user = request.user
    error: ApplicationError | None = None
    table: Table | None = None
    try:
        view = dissection.parse_dissection(request.GET)
        table = selectors.dissect(user, view)
    except (NotFound, AccessDenied):
        raise
    except ApplicationError as problem:
        error = problem
    if table is not None:
        scope = table.scope
        values = table.view.params()
        hidden_filters = [(dimension, str(value)) for dimension, value in table.view.filters]
        if table.view.show_empty_rows:
            hidden_filters.append(("empty", "show"))
    else:
        scope, defaults = selectors.form_defaults(user, request.GET.get("scope", ""))
        hidden_filters = [(dimension, request.GET[dimension]) for dimension in dissection.FILTER_DIMENSIONS if request.GET.get(dimension)]
        if request.GET.get("empty") == "show":
            hidden_filters.append(("empty", "show"))
    scope_options = selectors.scope_options(user, scope)
    row_options = [(key, label) for key, label in dissection.ROW_LABELS.items() if key != "org" or scope.has_reports]
    grain_options = [(grain.value, grain.label) for grain in domain.Grain]
    show_options = list(dissection.SHOW_CHOICES.items())
    if table is None:
        # Keep what the user chose where it can be chosen, and the defaults elsewhere (never the
        # first option of a list, which is not the default: days for the columns).
        offered = {"scope": scope_options, "rows": row_options, "grain": grain_options, "measure": MEASURE_OPTIONS, "show": show_options}
        values = dissection.form_values(
            request.GET, defaults=defaults, choices={key: [value for value, _ in options] for key, options in offered.items()}
        )
        if isinstance(error, domain.RangeTooLong):
            # Dates left blank show the range the defaults made, which the message names.
            values["from"] = values["from"] or error.start.isoformat()
            values["to"] = values["to"] or error.end.isoformat()
    context: dict[str, Any] = {
        "values": values,
        "hidden_filters": hidden_filters,
        "table": table,
        "error": error,
        "scope_options": scope_options,
        "row_options": row_options,
        "grain_options": grain_options,
        "measure_options": MEASURE_OPTIONS,
        "show_options": show_options,
        "imports_url": reverse("results:batches"),
    }
    if table is not None:
        context |= {
            "chart": _chart_json(table.chart, table.currency),
            "chart_rows": _chart_rows(table.chart),
            "chart_motions": [str(dict(Motion.choices).get(motion, motion)) for motion in table.chart.month_actual_by_motion],
            "export_query": urlencode(table.view.params()),
            "column_count": len(table.periods) + 7,
        }
    return context, 400 if error is not None else 200


@login_required
@require_GET
def dissect(request: HttpRequest) -> HttpResponse:
    """Plan vs actual: pick scope, rows, grain, range and measure; drill into rows and periods."""
    if not selectors.results_exist():
        selectors.home_scope(request.user)  # a login outside the organisation hears why, as on every route
        return render(request, "tracking/dissect.html", {"results_exist": False, "imports_url": reverse("results:batches")})
    context, status = _context(request)
    context["results_exist"] = True
    return render(request, "tracking/dissect.html", context, status=status)


@login_required
@require_GET
def table_partial(request: HttpRequest) -> HttpResponse:
    """The results part of the page, for HTMX swaps; pushes the page's own URL so back and refresh work.

    A fixable error answers 200 with the message: HTMX does not swap error responses in."""
    context, _ = _context(request)
    response = render(request, "tracking/_results.html", context)
    if context["table"] is not None:
        push_url(response, page_url(context["table"].view))
    return response


def _export_name(table: Table, extension: str) -> str:
    scope = table.scope.text.replace(":", "-")
    return f"tracking-{scope}-{table.rows_dimension}-{table.view.grain.value}-{table.start:%Y%m%d}-{table.end:%Y%m%d}.{extension}"


def _export_table(request: HttpRequest) -> Table:
    return selectors.dissect(request.user, dissection.parse_dissection(request.GET))


@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    table = _export_table(request)
    response = HttpResponse(exports.to_csv(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(table, "csv")}"'
    return response


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    table = _export_table(request)
    response = HttpResponse(exports.to_xlsx(table), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(table, "xlsx")}"'
    return response

"""The retention page: GRR, NRR and logo churn for a scope and period, against the plan's objectives.

The view parses the URL parameters, asks :func:`.retention_selectors.retention_report` as the
signed-in user and renders. A scope outside the user's is NotFound (404, as if it did not exist); a
parameter the user can fix is said above the form (HTTP 400).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.results import retention_selectors as selectors
from equipoise.results.retention import Basis, Category, Ratio, RetentionFigures, RetentionGrain
from equipoise.results.retention_objectives import ObjectiveCheck, ObjectiveFit, ObjectiveStatus
from equipoise.results.retention_selectors import RetentionReport
from equipoise.results.services import user_may_import
from equipoise.web.templatetags.equipoise import money_cur

CUSTOMERS_PER_PAGE = 25
PARAMS = ("scope", "grain", "period", "product_line")


def _percent(ratio: Ratio | None) -> str:
    return "—" if ratio is None else ratio.percent_text()


def _drawn(ratio: Ratio | None) -> float | None:
    """A percentage for drawing only; every figure shown as text stays exact."""
    return None if ratio is None else float(ratio.quantized(6) * 100)


def _bp_percent(basis_points: int) -> str:
    return f"{basis_points / 100:.2f}".rstrip("0").rstrip(".")


def _plan_months(report: RetentionReport) -> str:
    first, last = report.plan_first_month, report.plan_last_month
    return "" if first is None or last is None else f"{first:%b %Y} – {last:%b %Y}"


def _mark(status: ObjectiveStatus, *, higher_is_better: bool) -> dict[str, str]:
    """How a judgement reads: its css class, the symbol beside the words (hidden from screen readers,
    which read the words), and the words. A period in progress is judged "so far", without the final
    ✓ / ✗: its figures are to date and can still move."""
    if status == ObjectiveStatus.MET:
        return {"css": "variance-good", "symbol": "✓", "words": "Met"}
    if status == ObjectiveStatus.MISSED:
        return {"css": "variance-bad", "symbol": "✗", "words": "Missed"}
    if status == ObjectiveStatus.ON_TRACK:
        return {"css": "variance-provisional", "symbol": "", "words": "On track so far"}
    return {
        "css": "variance-provisional variance-provisional-bad",
        "symbol": "",
        "words": "Below objective so far" if higher_is_better else "Above maximum so far",
    }


def _objective(report: RetentionReport, check: ObjectiveCheck, *, higher_is_better: bool) -> dict[str, Any]:
    """The objective's line on a card: what it is (or why there is none for this period) and, when the
    period is judged, the mark: ``status`` met / missed / on_track / off_track, in words."""
    fit = report.objective_fit
    unjudged = None
    if fit == ObjectiveFit.NO_PLAN:
        unjudged = "No approved plan, so no objective"
    elif check.objective_bp is None:
        unjudged = "No objective in the approved plan"
    elif fit == ObjectiveFit.NOT_A_FISCAL_YEAR:
        unjudged = "Annual objective: judged per fiscal year"
    elif fit == ObjectiveFit.OUTSIDE_PLAN:
        unjudged = f"No objective for {report.period.label} (outside the plan)"
    if unjudged is not None or check.objective_bp is None:
        return {"text": unjudged, "met": None, "status": None, "mark": None}
    text = f"Objective {'at least' if higher_is_better else 'at most'} {_bp_percent(check.objective_bp)}%"
    status = check.status
    mark = None if status is None else _mark(status, higher_is_better=higher_is_better)
    return {"text": text, "met": check.met if check.final else None, "status": status, "mark": mark}


def retention_cards(report: RetentionReport) -> list[dict[str, Any]]:
    """GRR, NRR and logo churn, each against its objective: the retention page's cards, and the home page's."""
    figures = report.figures
    currency = report.currency
    return [
        {
            "key": "grr",
            "short": "GRR",
            "label": "Gross revenue retention",
            "value": _percent(figures.grr),
            "note": f"{money_cur(figures.kept_minor, currency)} kept of {money_cur(figures.start_minor, currency)}",
            "objective": _objective(report, report.objectives["grr"], higher_is_better=True),
        },
        {
            "key": "nrr",
            "short": "NRR",
            "label": "Net revenue retention",
            "value": _percent(figures.nrr),
            "note": f"{money_cur(figures.end_minor, currency)} now, from {money_cur(figures.start_minor, currency)}",
            "objective": _objective(report, report.objectives["nrr"], higher_is_better=True),
        },
        {
            "key": "logo_churn",
            "short": "Logo churn",
            "label": "Logo churn",
            "value": _percent(figures.logo_churn),
            "note": f"{figures.churned_count:,} of {figures.cohort_count:,} customers lost",
            "objective": _objective(report, report.objectives["logo_churn"], higher_is_better=False),
        },
    ]


def _figures_row(figures: RetentionFigures) -> dict[str, Any]:
    return {
        "figures": figures,
        "grr": _percent(figures.grr),
        "nrr": _percent(figures.nrr),
        "logo_churn": _percent(figures.logo_churn),
    }


def report_query(report: RetentionReport, **changes: str) -> str:
    """The retention page's URL parameters for ``report``, with ``changes``."""
    values = {
        "scope": report.scope.text,
        "grain": report.period.grain.value,
        "period": report.period.key,
        "product_line": str(report.product_line.pk) if report.product_line else "",
    }
    values.update(changes)
    return urlencode({key: value for key, value in values.items() if value})


def fitted_axis(values: Sequence[float | None], *, from_zero: bool, step: float = 5.0, min_padding: float = 2.0) -> list[float] | None:
    """A y-axis range (in percentage points) around the values drawn, padded by a tenth of their
    spread (at least ``min_padding``) and widened out to multiples of ``step``; from 0 when
    ``from_zero`` (or when the values come near it), never below 0. None without values: Plotly's own."""
    drawn = [value for value in values if value is not None]
    if not drawn:
        return None
    low, high = min(drawn), max(drawn)
    padding = max((high - low) / 10, min_padding)
    bottom = 0.0 if from_zero else max(0.0, math.floor((low - padding) / step) * step)
    top = math.ceil((high + padding) / step) * step
    return [bottom, top]


def _chart(report: RetentionReport) -> dict[str, Any]:
    """The trend's lines, and each objective only at the periods it judges (fiscal years the plan
    covers): a monthly figure is never drawn against an annual rate."""

    def objective(key: str) -> list[float | None]:
        basis_points = report.objectives[key].objective_bp
        return [
            basis_points / 100 if basis_points is not None and report.objective_fit_of(point.period) == ObjectiveFit.APPLIES else None
            for point in report.trend
        ]

    grr = [_drawn(point.figures.grr) for point in report.trend]
    nrr = [_drawn(point.figures.nrr) for point in report.trend]
    churn = [_drawn(point.figures.logo_churn) for point in report.trend]
    objectives = {"grr": objective("grr"), "nrr": objective("nrr"), "logoChurn": objective("logo_churn")}
    # GRR and NRR sit near 100%, logo churn near 0: on one axis both lines are squashed flat, so
    # each gets its own, fitted to what it draws.
    return {
        "labels": [point.period.label for point in report.trend],
        "grr": grr,
        "nrr": nrr,
        "logoChurn": churn,
        "objectives": objectives,
        "ranges": {
            "rates": fitted_axis([*grr, *nrr, *objectives["grr"], *objectives["nrr"]], from_zero=False),
            "churn": fitted_axis([*churn, *objectives["logoChurn"]], from_zero=True),
        },
    }


def _widen(report: RetentionReport) -> list[tuple[str, str]]:
    """Where to look instead when the scope and period have no customers: (link text, query)."""
    options = []
    if report.product_line is not None:
        options.append(("All product lines", report_query(report, product_line="")))
    if report.scope.kind == "region":
        options.append(("Your whole scope, every region", report_query(report, scope="")))
    if report.period.grain != RetentionGrain.YEAR:
        options.append(("The whole fiscal year", report_query(report, grain=RetentionGrain.YEAR.value)))
    return options


def _context(request: HttpRequest, report: RetentionReport) -> dict[str, Any]:
    show = request.GET.get("show", "all") or "all"
    customers = selectors.filter_balances(report.balances, show)
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    labels = selectors.customer_labels(balance.customer_id for balance in page.object_list)
    counts = {category: sum(1 for balance in report.balances if balance.category == category) for category in Category}
    tabs = [("all", "All", len(report.balances))] + [(category.value, category.label, counts[category]) for category in Category]
    return {
        "report": report,
        "is_activity": report.basis == Basis.ACTIVITY,
        "amount_label": "Trailing 12-month revenue" if report.basis == Basis.ACTIVITY else "ARR",
        "cards": retention_cards(report),
        "trend_rows": [{"point": point, **_figures_row(point.figures)} for point in report.trend],
        "breakdown": [
            {"row": row, "query": report_query(report, scope=row.scope_text or ""), **_figures_row(row.figures)} for row in report.breakdown
        ],
        "breakdown_total": _figures_row(report.figures),
        "chart": _chart(report),
        "plan_months": _plan_months(report),
        "objectives_judged": report.objective_fit == ObjectiveFit.APPLIES,
        "year_query": report_query(report, grain=RetentionGrain.YEAR.value),
        "widen": _widen(report),
        "page": page,
        "customers": [
            {"balance": balance, "code": labels.get(balance.customer_id, ("", ""))[0], "name": labels.get(balance.customer_id, ("", ""))[1]}
            for balance in page.object_list
        ],
        "show": show,
        "tabs": [(value, label, count, report_query(report, show=value)) for value, label, count in tabs],
    }


@login_required
@require_GET
def retention_page(request: HttpRequest) -> HttpResponse:
    """Retention for a scope and period: cards against objectives, the trend, the breakdown and the customers."""
    user = request.user
    values = {key: request.GET.get(key, "") for key in PARAMS}
    base: dict[str, Any] = {
        "values": values,
        "imports_url": reverse("results:batches"),
        "may_import": user_may_import(user),
        "section": "retention",
    }
    if not selectors.data_exists():
        selectors.home_scope(user)  # a login outside the organisation hears why, as on every route
        return render(request, "results/retention.html", {**base, "data_exists": False})
    base |= {"data_exists": True, "grain_options": [(grain.value, grain.label) for grain in RetentionGrain]}
    try:
        report = selectors.retention_report(
            user, scope=values["scope"], grain=values["grain"], period=values["period"], product_line=values["product_line"]
        )
        context = _context(request, report)
    except (NotFound, AccessDenied):
        raise
    except ApplicationError as error:
        current = None
        with contextlib.suppress(ApplicationError):  # a scope that cannot be read is just not preselected
            current = selectors.access_retention_scope(user, values["scope"])
        base["error"] = error
        base["scope_options"], base["product_line_options"] = selectors.picker_options(user, current, None)
        return render(request, "results/retention.html", base, status=400)
    base["values"] = {
        "scope": report.scope.text,
        "grain": report.period.grain.value,
        "period": report.period.key,
        "product_line": values["product_line"],
    }
    base["scope_options"], base["product_line_options"] = selectors.picker_options(user, report.scope, report.product_line)
    return render(request, "results/retention.html", {**base, **context})

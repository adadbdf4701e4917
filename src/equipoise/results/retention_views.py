"""The retention page: GRR, NRR and logo churn for a scope and period, against the plan's objectives.

The view parses the URL parameters, asks :func:`.retention_selectors.retention_report` as the
signed-in user and renders. A scope outside the user's is NotFound (404, as if it did not exist); a
parameter the user can fix is said above the form (HTTP 400).
"""

from __future__ import annotations

import contextlib
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
from equipoise.results.retention import Basis, Category, ObjectiveCheck, Ratio, RetentionFigures, RetentionGrain
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


def _objective(check: ObjectiveCheck, *, higher_is_better: bool) -> dict[str, Any]:
    if check.objective_bp is None:
        return {"text": "No objective in the approved plan", "met": None}
    percent = f"{check.objective_bp / 100:.2f}".rstrip("0").rstrip(".")
    text = f"Objective {'at least' if higher_is_better else 'at most'} {percent}%"
    return {"text": text, "met": check.met}


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
            "objective": _objective(report.objectives["grr"], higher_is_better=True),
        },
        {
            "key": "nrr",
            "short": "NRR",
            "label": "Net revenue retention",
            "value": _percent(figures.nrr),
            "note": f"{money_cur(figures.end_minor, currency)} now, from {money_cur(figures.start_minor, currency)}",
            "objective": _objective(report.objectives["nrr"], higher_is_better=True),
        },
        {
            "key": "logo_churn",
            "short": "Logo churn",
            "label": "Logo churn",
            "value": _percent(figures.logo_churn),
            "note": f"{figures.churned_count:,} of {figures.cohort_count:,} customers lost",
            "objective": _objective(report.objectives["logo_churn"], higher_is_better=False),
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


def _chart(report: RetentionReport) -> dict[str, Any]:
    def objective(key: str) -> float | None:
        basis_points = report.objectives[key].objective_bp
        return None if basis_points is None else basis_points / 100

    return {
        "labels": [point.period.label for point in report.trend],
        "grr": [_drawn(point.figures.grr) for point in report.trend],
        "nrr": [_drawn(point.figures.nrr) for point in report.trend],
        "logoChurn": [_drawn(point.figures.logo_churn) for point in report.trend],
        "objectives": {"grr": objective("grr"), "nrr": objective("nrr"), "logoChurn": objective("logo_churn")},
    }


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
    base["product_line_options"] = selectors.product_line_options()
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
        base |= {"error": error, "scope_options": selectors.scope_options(user, current)}
        return render(request, "results/retention.html", base, status=400)
    base["values"] = {
        "scope": report.scope.text,
        "grain": report.period.grain.value,
        "period": report.period.key,
        "product_line": values["product_line"],
    }
    base["scope_options"] = selectors.scope_options(user, report.scope)
    return render(request, "results/retention.html", {**base, **context})

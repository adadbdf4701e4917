"""The plan grid: buckets × months with fiscal-year subtotals, the HTMX month cell, the chart and history."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max
from django.db.models.functions import TruncMinute
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.core.http import HtmxHttpRequest
from equipoise.core.money import Money
from equipoise.core.periods import parse_month
from equipoise.planning import services
from equipoise.planning.forms import (
    CellForm,
    amount_text,
    percent_text,
)
from equipoise.planning.models import PlanBucket, PlanKind, PlanMonth, PlanVersion
from equipoise.planning.selectors import (
    MOTION_LABELS,
    PlanGrid,
    access_plan_by_id,
    approved_plan,
    plan_grid,
)
from equipoise.planning.views.common import (
    HISTORY_ENTRIES,
    MOTION_ORDER,
    _can_approve,
    _can_edit,
    _error_text,
    _grid_url,
    _read_only_message,
    _user_name,
)
from equipoise.web.templatetags.equipoise import money


def _month_key(month: date) -> str:
    return f"{month:%Y-%m}"


def _cell(plan: PlanVersion, bucket: PlanBucket, month: date, amount_minor: int, base_url: str) -> dict[str, Any]:
    key = _month_key(month)
    text = money(amount_minor, plan.currency)
    return {
        "id": f"cell-{bucket.pk}-{key}",
        "key": key,
        "text": text,
        "url": f"{base_url}{bucket.pk}/{key}/",
        "label": f"{bucket.label}, {month:%b %Y}: {text} {plan.currency}. Edit",
        "input_label": f"Plan for {bucket.label}, {month:%B %Y}, in {plan.currency}",
        "amount_minor": amount_minor,
    }


def _grid_rows(plan: PlanVersion, grid: PlanGrid, *, only_bucket: int | None = None) -> list[dict[str, Any]]:
    """Every figure of the grid formatted once here, so the template does no per-cell work."""
    base_url = f"{_grid_url(plan.pk)}cells/"  # + "<bucket>/<yyyy-mm>/": the "planning:cell" route
    position = {month: index for index, month in enumerate(grid.months)}
    rows = []
    for row in grid.rows:
        if only_bucket is not None and row.bucket.pk != only_bucket:
            continue
        groups = []
        for year_index, (label, year_months) in enumerate(grid.years):
            cells = [_cell(plan, row.bucket, month, row.months[position[month]], base_url) for month in year_months]
            groups.append({"index": year_index, "label": label, "cells": cells, "total": money(row.year_totals[year_index], plan.currency)})
        rows.append({"bucket": row.bucket, "groups": groups, "total": money(row.total, plan.currency)})
    return rows


def _grid_footer(plan: PlanVersion, grid: PlanGrid) -> dict[str, Any]:
    position = {month: index for index, month in enumerate(grid.months)}
    groups = []
    for year_index, (label, year_months) in enumerate(grid.years):
        cells = [{"key": _month_key(month), "text": money(grid.month_totals[position[month]], plan.currency)} for month in year_months]
        groups.append({"index": year_index, "label": label, "cells": cells, "total": money(grid.year_totals[year_index], plan.currency)})
    return {"groups": groups, "total": money(grid.total, plan.currency)}


def _grid_header(grid: PlanGrid) -> list[dict[str, Any]]:
    return [
        {"label": label, "months": [{"short": f"{month:%b}", "year": f"{month:%Y}", "key": _month_key(month)} for month in year_months]}
        for label, year_months in grid.years
    ]


def _motion_chart(plan: PlanVersion, grid: PlanGrid) -> dict[str, Any]:
    """Chart data in major units. Floats only here, for drawing; every figure shown as text is exact."""
    series = [
        {"name": str(MOTION_LABELS[motion]), "values": [float(Money.from_minor(value, plan.currency).amount) for value in values]}
        for motion, values in sorted(grid.motion_totals.items(), key=lambda item: MOTION_ORDER.index(item[0]))
    ]
    return {"months": [month.isoformat() for month in grid.months], "currency": plan.currency, "series": series}


def _motion_years(plan: PlanVersion, grid: PlanGrid) -> list[dict[str, Any]]:
    """Motion × fiscal year: the chart's figures as a table, for people who cannot see the chart."""
    position = {month: index for index, month in enumerate(grid.months)}
    rows = []
    for motion in MOTION_ORDER:
        values = grid.motion_totals.get(motion)
        if values is None:
            continue
        years = [money(sum(values[position[month]] for month in year_months), plan.currency) for _, year_months in grid.years]
        rows.append({"label": MOTION_LABELS[motion], "years": years, "total": money(sum(values), plan.currency)})
    return rows


def _reconciliation(plan: PlanVersion, grid: PlanGrid) -> dict[str, Any]:
    check = grid.reconciliation
    unassigned = check.unassigned_minor
    if not grid.rows:
        status = "empty"
    elif check.share_total_bp is not None and check.share_total_bp != 10_000:
        status = "shares"
    elif check.is_reconciled:
        status = "ok"
    else:
        status = "under" if unassigned > 0 else "over"
    return {
        "status": status,
        "currency": plan.currency,
        "total_target": money(check.total_target_minor, plan.currency),
        "months": money(check.months_minor, plan.currency),
        "difference": money(abs(unassigned), plan.currency),
        "share_total": f"{check.share_total_bp / 100:.2f}%" if check.share_total_bp is not None else "",
        "bucket_count": len(grid.rows),
    }


def _plan_history(plan: PlanVersion) -> list[dict[str, Any]]:
    """The newest audit entries for the plan, its buckets and its months.

    Buckets and months change in bulk (a re-phase writes a record per month), so their records are
    grouped by who, why, what and minute: "24 monthly amounts changed" rather than 24 lines.
    """
    verbs = {"+": "added", "~": "changed", "-": "removed"}
    entries: list[dict[str, Any]] = []
    for record in plan.history.order_by("-history_date")[:HISTORY_ENTRIES]:
        entries.append(
            {
                "when": record.history_date,
                "user_id": record.history_user_id,
                "what": "Plan " + ("created" if record.history_type == "+" else verbs.get(record.history_type, "changed")),
                "reason": record.history_change_reason or "",
            }
        )
    for model, noun, plural in ((PlanBucket, "bucket", "buckets"), (PlanMonth, "monthly amount", "monthly amounts")):
        groups = (
            model.history.filter(plan_id=plan.pk)
            .annotate(minute=TruncMinute("history_date"))
            .values("minute", "history_user_id", "history_change_reason", "history_type")
            .annotate(latest=Max("history_date"), count=Count("history_id"))
            .order_by("-latest")[:HISTORY_ENTRIES]
        )
        for group in groups:
            count = group["count"]
            entries.append(
                {
                    "when": group["latest"],
                    "user_id": group["history_user_id"],
                    "what": f"{count} {noun if count == 1 else plural} {verbs.get(group['history_type'], 'changed')}",
                    "reason": group["history_change_reason"] or "",
                }
            )
    entries.sort(key=lambda entry: entry["when"], reverse=True)
    entries = entries[:HISTORY_ENTRIES]
    user_ids = {entry["user_id"] for entry in entries if entry["user_id"] is not None}
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=user_ids).select_related("person")} if user_ids else {}
    for entry in entries:
        entry["who"] = _user_name(users.get(entry["user_id"])) or "System"
    return entries


@login_required
@require_GET
def plan_grid_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    grid = plan_grid(plan)
    context = {
        "plan": plan,
        "grid": grid,
        "editable": plan.is_editable and _can_edit(request.user),
        "can_edit": _can_edit(request.user),
        "can_approve": _can_approve(request.user),
        "header": _grid_header(grid),
        "rows": _grid_rows(plan, grid),
        "footer": _grid_footer(plan, grid),
        "recon": _reconciliation(plan, grid),
        "chart": _motion_chart(plan, grid),
        "motion_years": _motion_years(plan, grid),
        "history": _plan_history(plan),
        "created_by": _user_name(plan.created_by),
        "approved_by": _user_name(plan.approved_by),
        "growth_percent": percent_text(plan.growth_bp_per_month),
        "compare": _compare_link(plan),
    }
    return render(request, "planning/grid.html", context)


def _compare_link(plan: PlanVersion) -> dict[str, str] | None:
    """A bottom-up plan compares against the approved top-down one; any other plan against bottom-up."""
    if plan.kind != PlanKind.BOTTOM_UP:
        return {"url": reverse("planning:gap", args=[plan.pk]), "label": "Compare with bottom-up"}
    top_down = approved_plan(PlanKind.TOP_DOWN)
    if top_down is None:
        return None
    return {"url": f"{reverse('planning:gap', args=[top_down.pk])}?bottom_up={plan.pk}", "label": "Compare with the approved top-down"}


def _grid_cell(plan: PlanVersion, grid: PlanGrid, bucket_id: int, month: date) -> tuple[dict[str, Any], dict[str, Any]]:
    """The formatted row and cell of one bucket and month, or NotFound when the plan has neither."""
    rows = _grid_rows(plan, grid, only_bucket=bucket_id)
    key = _month_key(month)
    for group in rows[0]["groups"] if rows else []:
        for cell in group["cells"]:
            if cell["key"] == key:
                return rows[0], cell
    raise NotFound("That month of that bucket", field="month")


def _cell_month(month_text: str) -> date:
    try:
        return parse_month(month_text)
    except ApplicationError as error:
        raise NotFound("That month", field="month") from error


@login_required
@require_http_methods(["GET", "POST"])
def plan_cell(request: HtmxHttpRequest, plan_id: int, bucket_id: int, month_text: str) -> HttpResponse:
    """One month of one bucket: GET shows it (``?edit=1``: as an input), POST saves it.

    A saved month answers with the cell plus out-of-band swaps of everything its value feeds:
    the row's fiscal-year subtotals and total, the footer totals, the reconciliation and the chart.
    """
    plan = access_plan_by_id(request.user, plan_id)
    month = _cell_month(month_text)
    grid = plan_grid(plan)
    row, cell = _grid_cell(plan, grid, bucket_id, month)
    editable = plan.is_editable and _can_edit(request.user)
    context: dict[str, Any] = {"plan": plan, "cell": cell, "editable": editable}
    if request.method == "GET":
        if request.GET.get("edit") and not editable:
            context["error"] = _error_text(ApplicationError(_read_only_message(plan), field="state"))
            return render(request, "planning/_cell.html", context, status=400)
        if request.GET.get("edit"):
            return render(request, "planning/_cell_input.html", {**context, "value": amount_text(cell["amount_minor"], plan.currency)})
        return render(request, "planning/_cell.html", {**context, "autofocus": True})

    form = CellForm(request.POST, currency=plan.currency)
    if not form.is_valid():
        error = form.errors["amount"][0]
        return render(
            request, "planning/_cell_input.html", {**context, "value": request.POST.get("amount", ""), "error": error}, status=400
        )
    try:
        services.plan_month_set(actor=request.user, plan=plan, bucket_id=bucket_id, month=month, amount_minor=form.cleaned_data["amount"])
    except AccessDenied:
        raise
    except ApplicationError as error:
        if error.field == "state":  # approved or archived: nothing to edit, say why in the cell
            return render(request, "planning/_cell.html", {**context, "editable": False, "error": _error_text(error)}, status=400)
        return render(
            request, "planning/_cell_input.html", {**context, "value": request.POST.get("amount", ""), "error": error.message}, status=400
        )
    grid = plan_grid(plan)
    row, cell = _grid_cell(plan, grid, bucket_id, month)
    context = {
        **context,
        "cell": cell,
        "row": row,
        "autofocus": True,
        "footer": _grid_footer(plan, grid),
        "recon": _reconciliation(plan, grid),
        "chart": _motion_chart(plan, grid),
    }
    return render(request, "planning/_cell_saved.html", context)

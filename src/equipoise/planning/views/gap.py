"""Top-down vs bottom-up: the gap by bucket, month and team."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from equipoise.core.errors import NotFound
from equipoise.core.money import Money
from equipoise.core.periods import month_range
from equipoise.org.selectors import company_get
from equipoise.planning.domain import fiscal_year_columns
from equipoise.planning.models import PlanKind, PlanState, PlanVersion
from equipoise.planning.selectors import (
    GapRow,
    access_plan_by_id,
    approved_plan,
    plan_gap_by_bucket,
    plan_gap_by_month,
    plans_visible,
)
from equipoise.quotas.selectors import allocations_visible, commit_gap, committed_months


def _bottom_up_choice(request: HttpRequest, top_down: PlanVersion) -> tuple[PlanVersion | None, list[PlanVersion]]:
    """The version to compare with: ``?bottom_up=<id>``, else the approved bottom-up, else the newest."""
    candidates = list(plans_visible(request.user).filter(kind=PlanKind.BOTTOM_UP).exclude(pk=top_down.pk))
    chosen_text = request.GET.get("bottom_up", "").strip()
    if chosen_text:
        if not chosen_text.isdigit():
            raise NotFound("That bottom-up version", field="bottom_up")
        chosen = access_plan_by_id(request.user, int(chosen_text))
        if chosen.pk == top_down.pk:  # a plan against itself shows a gap of zero that means nothing
            raise NotFound("That bottom-up version", field="bottom_up")
        if chosen not in candidates:
            candidates.insert(0, chosen)
        return chosen, candidates
    approved = next((plan for plan in candidates if plan.state == PlanState.APPROVED), None)
    return approved or (candidates[0] if candidates else None), candidates


def _gap_totals(rows: list[GapRow], label: str) -> GapRow:
    return GapRow(label=label, top_down=sum(row.top_down for row in rows), bottom_up=sum(row.bottom_up for row in rows))


def _team_gap(request: HttpRequest, top_down: PlanVersion) -> dict[str, Any]:
    """Quota vs commit per team (people with reports), when quotas were allocated from this plan.

    Only over the months someone committed for: the quota of months without any commit yet would
    otherwise count as a shortfall of the teams.
    """
    allocation = allocations_visible(request.user).filter(plan=top_down).first()
    if allocation is None:
        return {"allocation": None, "rows": [], "months": []}
    months = committed_months(request.user, months=month_range(top_down.start_month, top_down.horizon_months))
    if not months:
        return {"allocation": allocation, "rows": [], "months": []}
    rows = commit_gap(request.user, allocation=allocation, months=months, team=None)
    managers = {row.person.manager_id for row in rows if row.person.manager_id is not None}
    return {"allocation": allocation, "rows": [row for row in rows if row.person.pk in managers], "months": months}


@login_required
@require_GET
def plan_gap(request: HttpRequest, plan_id: int) -> HttpResponse:
    top_down = access_plan_by_id(request.user, plan_id)
    if top_down.kind == PlanKind.BOTTOM_UP and "bottom_up" not in request.GET:
        # Opened from a bottom-up plan: it is the side being compared, against the approved ask.
        approved_top_down = approved_plan(PlanKind.TOP_DOWN)
        if approved_top_down is not None:
            return redirect(f"{reverse('planning:gap', args=[approved_top_down.pk])}?{urlencode({'bottom_up': top_down.pk})}")
    bottom_up, candidates = _bottom_up_choice(request, top_down)
    context: dict[str, Any] = {"plan": top_down, "bottom_up": bottom_up, "candidates": candidates, "currency": top_down.currency}
    if bottom_up is None or bottom_up.currency != top_down.currency:
        return render(request, "planning/gap.html", context)
    bucket_rows = plan_gap_by_bucket(top_down, bottom_up)
    month_rows = plan_gap_by_month(top_down, bottom_up)
    years = []
    by_month = dict(month_rows)
    for label, year_months in fiscal_year_columns([month for month, _ in month_rows], company_get().fiscal_year_start_month):
        rows = [by_month[month] for month in year_months]
        years.append({"label": label, "rows": rows, "total": _gap_totals(rows, label)})
    to_major = Money.from_minor
    chart = {
        "months": [month.isoformat() for month, _ in month_rows],
        "currency": top_down.currency,
        "top_down": [float(to_major(row.top_down, top_down.currency).amount) for _, row in month_rows],
        "bottom_up": [float(to_major(row.bottom_up, top_down.currency).amount) for _, row in month_rows],
        "gap": [float(to_major(row.gap, top_down.currency).amount) for _, row in month_rows],
        "top_down_name": top_down.name,
        "bottom_up_name": bottom_up.name,
    }
    context.update(
        {
            "bucket_rows": bucket_rows,
            "bucket_total": _gap_totals(bucket_rows, "Total"),
            "years": years,
            "horizon_total": _gap_totals([row for _, row in month_rows], "Horizon"),
            "chart": chart,
            "team": _team_gap(request, top_down),
        }
    )
    return render(request, "planning/gap.html", context)

"""The quota table, a person's per-bucket breakdown, and hand adjustments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.core.http import HtmxHttpRequest
from equipoise.org.models import Person
from equipoise.org.selectors import (
    access_person_by_id,
    managers_visible,
    sellers_visible,
)
from equipoise.planning.models import PlanBucket, PlanVersion
from equipoise.planning.selectors import approved_plan, plan_buckets
from equipoise.quotas import selectors, services
from equipoise.quotas.forms import (
    AdjustForm,
    PeriodForm,
    QuotaTableFilterForm,
)
from equipoise.quotas.models import AllocationState, QuotaAllocation
from equipoise.quotas.views.common import (
    AllocationSummary,
    _allocation_for,
    _can_allocate,
    _default_period,
    _hidden_filter_errors,
    _horizon,
    _page_context,
    _paginate,
    _require_allocator,
    _show_error,
)


@dataclass
class PersonRow:
    person: Person
    months: list[int]
    total: int
    indent: int
    is_team: bool


@login_required
@require_GET
def quota_table(request: HttpRequest) -> HttpResponse:
    """People in scope in tree order × months of the period, for the current (or chosen) allocation."""
    user = request.user
    allocation = _allocation_for(request)
    if allocation is None:
        can_allocate = _can_allocate(user)
        context = _page_context(request, "table", allocation=None, approved_plan=approved_plan() if can_allocate else None)
        return render(request, "quotas/table.html", context)

    plan = allocation.plan
    horizon = _horizon(plan)
    teams = list(managers_visible(user))
    form = QuotaTableFilterForm(
        request.GET,
        horizon=horizon,
        default=_default_period(horizon),
        teams=teams,
        sellers=list(sellers_visible(user)),
        buckets=list(plan_buckets(plan)),
    )
    months = form.months
    team, seller, bucket = form.selected_team, form.selected_seller, form.selected_bucket
    # First the people in scope (no months: one query), then amounts only for the page shown.
    everyone = selectors.quota_table(user, allocation=allocation, months=[], team=team, seller=seller)
    page = _paginate(everyone, request)
    amounts = selectors.quota_table(
        user,
        allocation=allocation,
        months=months,
        team=team,
        seller=seller,
        bucket_id=bucket.pk if bucket else None,
        people_ids=[row.person.pk for row in page.object_list],
    )
    root_depth = min((row.person.depth for row in everyone), default=0)
    team_ids = {manager.pk for manager in teams}
    page.object_list = [
        PersonRow(
            person=row.person,
            months=row.months,
            total=row.total,
            indent=row.person.depth - root_depth,
            is_team=row.person.pk in team_ids,
        )
        for row in amounts
    ]
    allocations = list(selectors.allocations_visible(user))
    context = _page_context(
        request,
        "table",
        allocation=allocation,
        summary=AllocationSummary.of(allocation),
        plan=plan,
        currency=plan.currency,
        form=form,
        months=months,
        page=page,
        rows=page.object_list,
        people_count=len(everyone),
        bucket=bucket,
        other_allocations=[other for other in allocations if other.pk != allocation.pk],
        show_team_filter=len(teams) > 1,
        show_seller_filter=len(form.sellers) > 1,
        hidden_errors=_hidden_filter_errors(form, {"team": len(teams) > 1, "seller": len(form.sellers) > 1}),
        filtered=team is not None or seller is not None,
        period_query=urlencode({"from": f"{months[0]:%Y-%m}", "to": f"{months[-1]:%Y-%m}"}),
    )
    return render(request, "quotas/table.html", context)


@dataclass
class BucketRow:
    bucket: PlanBucket
    months: list[int]
    total: int


def _breakdown_context(
    request: HttpRequest, *, allocation: QuotaAllocation, person: Person, months: list[date], adjust_form: AdjustForm | None
) -> dict[str, Any]:
    user = request.user
    plan = allocation.plan
    buckets = list(plan_buckets(plan))
    index = {month: position for position, month in enumerate(months)}
    per_bucket: dict[int, list[int]] = {}
    for bucket_id, month, amount in (
        selectors.quotas_visible(user, allocation).filter(person=person, month__in=months).values_list("bucket_id", "month", "amount_minor")
    ):
        per_bucket.setdefault(bucket_id, [0] * len(months))[index[month]] = amount
    rows = [BucketRow(bucket=b, months=per_bucket[b.pk], total=sum(per_bucket[b.pk])) for b in buckets if b.pk in per_bucket]
    month_totals = [sum(row.months[position] for row in rows) for position in range(len(months))]
    can_adjust = _can_allocate(user) and allocation.state == AllocationState.DRAFT and person.pk != allocation.root_id
    if can_adjust and adjust_form is None:
        adjust_form = AdjustForm(
            buckets=[row.bucket for row in rows] or buckets,
            months=_horizon(plan),
            currency=plan.currency,
            auto_id=f"adjust-{person.pk}-%s",
            initial={"month": f"{months[0]:%Y-%m}"},
        )
    adjustments = (
        allocation.adjustments.filter(person=person)
        .select_related("bucket__region", "bucket__product_line", "bucket__product_application", "bucket__customer", "changed_by__person")
        .order_by("-changed_at", "-id")
    )
    return _page_context(
        request,
        "table",
        allocation=allocation,
        summary=AllocationSummary.of(allocation),
        plan=plan,
        currency=plan.currency,
        person=person,
        months=months,
        rows=rows,
        month_totals=month_totals,
        total=sum(month_totals),
        can_adjust=can_adjust,
        is_root=person.pk == allocation.root_id,
        adjust_form=adjust_form if can_adjust else None,
        # A refused adjustment of quotas that can no longer be adjusted: say why, without the form.
        adjust_refusal=list(adjust_form.non_field_errors()) if adjust_form is not None and not can_adjust else [],
        adjustments=list(adjustments),
        period_query=urlencode({"from": f"{months[0]:%Y-%m}", "to": f"{months[-1]:%Y-%m}"}),
    )


def _breakdown_period(request: HttpRequest, plan: PlanVersion) -> list[date]:
    horizon = _horizon(plan)
    return PeriodForm(request.GET, horizon=horizon, default=_default_period(horizon)).months


@login_required
@require_GET
def person_breakdown(request: HtmxHttpRequest, allocation_id: int, person_id: int) -> HttpResponse:
    """One person's quota per bucket and month; the HTMX partial expands a row of the quota table."""
    allocation = selectors.access_allocation_by_id(request.user, allocation_id)
    person = access_person_by_id(request.user, person_id)
    months = _breakdown_period(request, allocation.plan)
    context = _breakdown_context(request, allocation=allocation, person=person, months=months, adjust_form=None)
    template = "quotas/_breakdown.html" if request.htmx else "quotas/breakdown.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def quota_adjust(request: HttpRequest, allocation_id: int, person_id: int) -> HttpResponse:
    """Set one month's quota of one bucket by hand, with a reason; peers absorb the difference."""
    user = request.user
    allocation = selectors.access_allocation_by_id(user, allocation_id)
    person = access_person_by_id(user, person_id)
    _require_allocator(user, "adjust quotas")
    plan = allocation.plan
    months = _breakdown_period(request, plan)
    form = AdjustForm(
        request.POST, buckets=list(plan_buckets(plan)), months=_horizon(plan), currency=plan.currency, auto_id=f"adjust-{person.pk}-%s"
    )
    if form.is_valid():
        try:
            services.quota_adjust(
                actor=user,
                allocation=allocation,
                person=person,
                bucket=form.selected_bucket,
                month=form.selected_month,
                amount_minor=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except (NotFound, AccessDenied):
            raise
        except ApplicationError as error:
            _show_error(form, error)
        else:
            messages.success(
                request, f"{person.full_name}'s quota for {form.selected_bucket.label}, {form.selected_month:%b %Y}, is set by hand."
            )
            url = reverse("quotas:breakdown", args=[allocation.pk, person.pk])
            return HttpResponseRedirect(f"{url}?{urlencode({'from': f'{months[0]:%Y-%m}', 'to': f'{months[-1]:%Y-%m}'})}")
    allocation.refresh_from_db()  # a failed adjustment changed nothing; show the state as it is
    context = _breakdown_context(request, allocation=allocation, person=person, months=months, adjust_form=form)
    return render(request, "quotas/breakdown.html", context, status=400)

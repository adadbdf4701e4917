"""Allocating an approved plan, and locking the quotas."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.planning.models import PlanState
from equipoise.planning.selectors import access_plan_by_id, approved_plan, plans_visible
from equipoise.quotas import selectors, services
from equipoise.quotas.forms import (
    AllocateForm,
    LockForm,
    percent_list_text,
)
from equipoise.quotas.models import AllocationState, QuotaAdjustment
from equipoise.quotas.views.common import AllocationSummary, _page_context, _require_allocator, _show_error


@login_required
@require_http_methods(["GET", "POST"])
def allocate(request: HttpRequest) -> HttpResponse:
    """Allocate an approved plan down the org tree (executive and sales ops only)."""
    user = request.user
    _require_allocator(user, "allocate quotas")
    plans = list(plans_visible(user).filter(state=PlanState.APPROVED))
    default_plan = approved_plan()
    status = 200
    if request.method == "POST":
        form = AllocateForm(request.POST, plans=plans)
        if form.is_valid():
            plan = access_plan_by_id(user, form.cleaned_data["plan"])
            try:
                allocation = services.quota_allocate(
                    actor=user,
                    plan=plan,
                    method=form.cleaned_data["method"],
                    cushion_bp_by_level=form.cleaned_data["cushion"],
                    ramp_bp=form.cleaned_data["ramp"],
                    reason=form.cleaned_data["reason"],
                )
            except (NotFound, AccessDenied):
                raise
            except ApplicationError as error:
                _show_error(form, error)
            else:
                messages.success(
                    request,
                    f"Quotas allocated from “{plan.name}” by {allocation.get_method_display().lower()}. "
                    "Review them, adjust by hand where needed, then lock them.",
                )
                return HttpResponseRedirect(f"{reverse('quotas:table')}?{urlencode({'allocation': allocation.pk})}")
        status = 400
    else:
        existing = selectors.current_allocation(user)
        initial: dict[str, Any] = {"plan": default_plan.pk if default_plan else None}
        if existing is not None and default_plan is not None and existing.plan_id == default_plan.pk:
            initial |= {
                "method": existing.method,
                "cushion": percent_list_text(existing.cushion_bp_by_level or []),
                "ramp": percent_list_text(existing.ramp_bp or []),
            }
        form = AllocateForm(initial=initial, plans=plans)
    allocations = list(selectors.allocations_visible(user))
    allocation_by_plan = {a.plan_id: a for a in allocations}
    current = next((a for a in allocations if a.state != AllocationState.ARCHIVED), None)
    adjustments: list[QuotaAdjustment] = []
    if current is not None:
        adjustments = list(
            current.adjustments.select_related(
                "person",
                "bucket__region",
                "bucket__product_line",
                "bucket__product_application",
                "bucket__customer",
                "changed_by__person",
            ).order_by("-changed_at", "-id")[:100]
        )
    context = _page_context(
        request,
        "allocate",
        form=form,
        plans=plans,
        approved_plans=[(plan, allocation_by_plan.get(plan.pk)) for plan in plans],
        allocations=[AllocationSummary.of(a) for a in allocations],
        current=current,
        adjustments=adjustments,
    )
    return render(request, "quotas/allocate.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def allocation_lock(request: HttpRequest, allocation_id: int) -> HttpResponse:
    """Ask to confirm, then lock an allocation: its quotas can no longer be adjusted."""
    user = request.user
    allocation = selectors.access_allocation_by_id(user, allocation_id)
    _require_allocator(user, "lock quotas")
    form = LockForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.allocation_lock(actor=user, allocation=allocation, reason=form.cleaned_data["reason"])
            except (NotFound, AccessDenied):
                raise
            except ApplicationError as error:
                _show_error(form, error)
            else:
                messages.success(request, f"Quotas of “{allocation.plan.name}” are locked.")
                return HttpResponseRedirect(f"{reverse('quotas:table')}?{urlencode({'allocation': allocation.pk})}")
        status = 400
    context = _page_context(request, "allocate", allocation=allocation, summary=AllocationSummary.of(allocation), form=form)
    return render(request, "quotas/lock_confirm.html", context, status=status)

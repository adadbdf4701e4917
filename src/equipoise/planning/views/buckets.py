"""Buckets of a draft plan: add one, change its target, remove it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.planning import services
from equipoise.planning.forms import (
    BucketAddForm,
    BucketTargetForm,
    PlanActionForm,
    add_service_error,
    amount_text,
    percent_text,
)
from equipoise.planning.models import PlanBucket, PlanVersion
from equipoise.planning.selectors import (
    access_bucket_by_id,
    access_plan_by_id,
    plan_buckets,
)
from equipoise.planning.views.common import _grid_url, _read_only_message, _run_action
from equipoise.web.templatetags.equipoise import money


@login_required
@require_http_methods(["GET", "POST"])
def bucket_add(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    if not plan.is_editable:
        messages.warning(request, _read_only_message(plan))
        return redirect(_grid_url(plan.pk))
    if request.method == "POST":
        form = BucketAddForm(request.POST, currency=plan.currency)
        if form.is_valid():
            data = form.cleaned_data
            try:
                bucket = services.bucket_add(
                    actor=request.user,
                    plan=plan,
                    region=data["region"],
                    product_line=data["product_line"],
                    product_application=data["product_application"],
                    customer=data["customer"],
                    motion=data["motion"],
                    target_minor=data["target"],
                    target_share_bp=data["target_share"],
                    reason=data["reason"],
                )
            except AccessDenied:
                raise
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Added the bucket {bucket.label} and phased its target over {plan.horizon_months} months.")
                return redirect(_grid_url(plan.pk))
        return render(request, "planning/bucket_form.html", {"form": form, **_bucket_form_context(plan)}, status=400)
    return render(request, "planning/bucket_form.html", {"form": BucketAddForm(currency=plan.currency), **_bucket_form_context(plan)})


def _bucket_form_context(plan: PlanVersion) -> dict[str, Any]:
    """The plan and its buckets so far, so the person adding one sees what is left to assign."""
    existing = list(plan_buckets(plan))
    unassigned = plan.total_target_minor - sum(bucket.target_minor for bucket in existing)
    return {"plan": plan, "existing": existing, "over_assigned": unassigned < 0, "unassigned": money(abs(unassigned), plan.currency)}


def _plan_bucket(request: HttpRequest, plan_id: int, bucket_id: int) -> tuple[PlanVersion, PlanBucket]:
    plan = access_plan_by_id(request.user, plan_id)
    bucket = access_bucket_by_id(request.user, bucket_id)
    if bucket.plan_id != plan.pk:
        raise NotFound("That bucket", field="bucket")
    return plan, bucket


@login_required
@require_http_methods(["GET", "POST"])
def bucket_edit(request: HttpRequest, plan_id: int, bucket_id: int) -> HttpResponse:
    plan, bucket = _plan_bucket(request, plan_id, bucket_id)
    if not plan.is_editable:
        messages.warning(request, _read_only_message(plan))
        return redirect(_grid_url(plan.pk))
    context: dict[str, Any] = {"plan": plan, "bucket": bucket}
    if request.method == "POST":
        form = BucketTargetForm(request.POST, currency=plan.currency)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.bucket_set_target(
                    actor=request.user,
                    bucket=bucket,
                    target_minor=data["target"],
                    target_share_bp=data["target_share"],
                    reason=data["reason"],
                )
            except AccessDenied:
                raise
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Changed the target of {bucket.label} and re-phased it.")
                return redirect(_grid_url(plan.pk))
        return render(request, "planning/bucket_form.html", {**context, "form": form}, status=400)
    initial = (
        {"target_share": percent_text(bucket.target_share_bp)}
        if bucket.target_share_bp is not None
        else {"target": amount_text(bucket.target_minor, plan.currency)}
    )
    return render(request, "planning/bucket_form.html", {**context, "form": BucketTargetForm(currency=plan.currency, initial=initial)})


@login_required
@require_POST
def bucket_delete(request: HttpRequest, plan_id: int, bucket_id: int) -> HttpResponse:
    plan, bucket = _plan_bucket(request, plan_id, bucket_id)
    label = bucket.label
    form = PlanActionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _run_action(
        request, plan, lambda: services.bucket_delete(actor=request.user, bucket=bucket, reason=reason), f"Removed the bucket {label}."
    )

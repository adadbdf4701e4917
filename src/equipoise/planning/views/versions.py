"""Plan versions: the list, the create and header forms, and approve, archive, re-phase and revise."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from equipoise.core.errors import AccessDenied, ApplicationError
from equipoise.org.selectors import company_get
from equipoise.planning import services
from equipoise.planning.forms import (
    PlanCreateForm,
    PlanUpdateForm,
    add_service_error,
)
from equipoise.planning.models import PlanKind
from equipoise.planning.selectors import (
    access_plan_by_id,
    plans_visible,
)
from equipoise.planning.views.common import (
    PLANS_PER_PAGE,
    _action_form,
    _can_edit,
    _grid_url,
    _read_only_message,
    _require_plan_reader,
    _run_action,
    _user_name,
)


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    _require_plan_reader(request.user)
    plans = plans_visible(request.user).select_related("created_by__person", "approved_by__person")
    page = Paginator(plans, PLANS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {"plan": plan, "created_by": _user_name(plan.created_by), "approved_by": _user_name(plan.approved_by)} for plan in page.object_list
    ]
    return render(request, "planning/list.html", {"page": page, "rows": rows, "can_edit": _can_edit(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    _require_plan_reader(request.user)
    currency = company_get().reporting_currency
    if request.method == "POST":
        form = PlanCreateForm(request.POST, reporting_currency=currency)
        if form.is_valid():
            try:
                plan = services.plan_create(actor=request.user, **form.service_arguments())
            except AccessDenied:
                raise
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Draft “{plan.name}” created. Add revenue buckets to spread its target over the months.")
                return redirect(_grid_url(plan.pk))
        return render(request, "planning/plan_form.html", {"form": form, "creating": True}, status=400)
    kind = request.GET.get("kind", "")
    form = PlanCreateForm(reporting_currency=currency, initial={"kind": kind} if kind in PlanKind.values else None)
    return render(request, "planning/plan_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    if not plan.is_editable:
        messages.warning(request, _read_only_message(plan))
        return redirect(_grid_url(plan.pk))
    if request.method == "POST":
        form = PlanUpdateForm(request.POST, plan=plan)
        if form.is_valid():
            changes = form.changes()
            if not changes:
                messages.info(request, "Nothing changed.")
                return redirect(_grid_url(plan.pk))
            try:
                services.plan_update(actor=request.user, plan=plan, reason=form.cleaned_data["reason"], **changes)
            except AccessDenied:
                raise
            except ApplicationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Saved the header of “{form.cleaned_data['name']}”.")
                return redirect(_grid_url(plan.pk))
        return render(request, "planning/plan_form.html", {"form": form, "plan": plan}, status=400)
    return render(request, "planning/plan_form.html", {"form": PlanUpdateForm(plan=plan), "plan": plan})


@login_required
@require_POST
def plan_approve(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    reason = _action_form(request).cleaned_data.get("reason", "")
    return _run_action(
        request,
        plan,
        lambda: services.plan_approve(actor=request.user, plan=plan, reason=reason),
        f"Approved “{plan.name}”. It is now read-only; allocate quotas from it next.",
    )


@login_required
@require_POST
def plan_archive(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    reason = _action_form(request).cleaned_data.get("reason", "")
    return _run_action(
        request, plan, lambda: services.plan_archive(actor=request.user, plan=plan, reason=reason), f"Archived “{plan.name}”."
    )


@login_required
@require_POST
def plan_rephase(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    reason = _action_form(request).cleaned_data.get("reason", "")
    return _run_action(
        request,
        plan,
        lambda: services.plan_rephase(actor=request.user, plan=plan, reason=reason),
        "Re-phased every bucket from its target; hand edits to months were replaced.",
    )


@login_required
@require_POST
def plan_revise(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access_plan_by_id(request.user, plan_id)
    data = _action_form(request).cleaned_data
    return _run_action(
        request,
        plan,
        lambda: services.plan_revise(actor=request.user, plan=plan, name=data.get("name", ""), reason=data.get("reason", "")),
        f"Copied “{plan.name}” into a new draft. Edit it, then approve it to replace the current version.",
    )

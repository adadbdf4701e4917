"""Planning pages: the plan list, the plan grid with inline month edits, its forms and actions, the gap.

Views parse input, call :mod:`~equipoise.planning.services` or
:mod:`~equipoise.planning.selectors`, and render. Plans are company-level: anyone else gets a 404
from ``access_plan_by_id`` (and from :func:`_require_plan_reader` for pages without a plan yet).
A service's :class:`ApplicationError` becomes a form error or a message naming the field; an
:class:`AccessDenied` escapes to the middleware (403).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.db.models.functions import TruncMinute
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from equipoise.core.access import PLAN_APPROVER_ROLES, PLAN_EDITOR_ROLES
from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.core.money import Money
from equipoise.core.periods import month_range, parse_month
from equipoise.org.models import Motion
from equipoise.org.selectors import company_get, user_role, user_sees_company
from equipoise.planning import services
from equipoise.planning.domain import fiscal_year_columns
from equipoise.planning.forms import (
    BucketAddForm,
    BucketTargetForm,
    CellForm,
    PlanActionForm,
    PlanCreateForm,
    PlanUpdateForm,
    add_service_error,
    amount_text,
    percent_text,
)
from equipoise.planning.models import PlanBucket, PlanKind, PlanMonth, PlanState, PlanVersion
from equipoise.planning.selectors import (
    MOTION_LABELS,
    GapRow,
    PlanGrid,
    access_bucket_by_id,
    access_plan_by_id,
    approved_plan,
    plan_buckets,
    plan_gap_by_bucket,
    plan_gap_by_month,
    plan_grid,
    plans_visible,
)
from equipoise.quotas.selectors import allocations_visible, commit_gap
from equipoise.web.templatetags.equipoise import money

PLANS_PER_PAGE = 25
HISTORY_ENTRIES = 20
MOTION_ORDER = [Motion.NEW.value, Motion.RENEWAL.value, Motion.EXPANSION.value, "unassigned"]
# What people call the fields services name in their errors.
FIELD_LABELS = {
    "total_target": "Total target",
    "target": "Target",
    "target_share": "Bucket shares",
    "buckets": "Buckets",
    "state": "State",
    "amount": "Amount",
    "month": "Month",
    "bucket": "Bucket",
    "horizon_months": "Horizon",
}


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _error_text(error: ApplicationError) -> str:
    """The service's message, prefixed by the field it is about, so nobody has to guess."""
    label = FIELD_LABELS.get(error.field or "", (error.field or "").replace("_", " ").capitalize())
    return f"{label}: {error.message}" if label else error.message


def _require_plan_reader(user: Any) -> None:
    if not user_sees_company(user):
        raise Http404("Plans are not part of your view.")


def _can_edit(user: Any) -> bool:
    return user_role(user) in PLAN_EDITOR_ROLES


def _can_approve(user: Any) -> bool:
    return user_role(user) in PLAN_APPROVER_ROLES


def _user_name(user: Any) -> str:
    if user is None:
        return ""
    person = getattr(user, "person", None)  # a missing person raises a subclass of AttributeError
    return str(person.full_name) if person is not None else str(user.get_username())


def _grid_url(plan_id: int) -> str:
    return reverse("planning:grid", args=[plan_id])


# --- Plan list and create -------------------------------------------------------------------------


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


# --- Plan grid ------------------------------------------------------------------------------------


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


# --- Inline month edit (HTMX) ---------------------------------------------------------------------


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


def _read_only_message(plan: PlanVersion) -> str:
    return f"“{plan.name}” is {plan.get_state_display().lower()} and read-only: revise it to make a new draft."


# --- Header, buckets and actions --------------------------------------------------------------------


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


def _run_action(request: HttpRequest, plan: PlanVersion, action: Callable[[], Any], success: str) -> HttpResponse:
    """Run a state change; on a user-fixable error say what was wrong (naming the field) on the grid."""
    try:
        result = action()
    except AccessDenied:
        raise
    except ApplicationError as error:
        messages.error(request, _error_text(error))
        return redirect(_grid_url(plan.pk))
    messages.success(request, success)
    target = result.pk if isinstance(result, PlanVersion) else plan.pk
    return redirect(_grid_url(target))


def _action_form(request: HttpRequest) -> PlanActionForm:
    form = PlanActionForm(request.POST)
    form.is_valid()  # both fields are optional and only truncated: cleaned_data holds what is usable
    return form


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


# --- Gap: top-down vs bottom-up -------------------------------------------------------------------


def _bottom_up_choice(request: HttpRequest, top_down: PlanVersion) -> tuple[PlanVersion | None, list[PlanVersion]]:
    """The version to compare with: ``?bottom_up=<id>``, else the approved bottom-up, else the newest."""
    candidates = list(plans_visible(request.user).filter(kind=PlanKind.BOTTOM_UP).exclude(pk=top_down.pk))
    chosen_text = request.GET.get("bottom_up", "").strip()
    if chosen_text:
        if not chosen_text.isdigit():
            raise NotFound("That bottom-up version", field="bottom_up")
        chosen = access_plan_by_id(request.user, int(chosen_text))
        if chosen not in candidates:
            candidates.insert(0, chosen)
        return chosen, candidates
    approved = next((plan for plan in candidates if plan.state == PlanState.APPROVED), None)
    return approved or (candidates[0] if candidates else None), candidates


def _gap_totals(rows: list[GapRow], label: str) -> GapRow:
    return GapRow(label=label, top_down=sum(row.top_down for row in rows), bottom_up=sum(row.bottom_up for row in rows))


def _team_gap(request: HttpRequest, top_down: PlanVersion) -> dict[str, Any]:
    """Quota vs commit per team (people with reports), when quotas were allocated from this plan."""
    allocation = allocations_visible(request.user).filter(plan=top_down).first()
    if allocation is None:
        return {"allocation": None, "rows": []}
    months = month_range(top_down.start_month, top_down.horizon_months)
    rows = commit_gap(request.user, allocation=allocation, months=months, team=None)
    managers = {row.person.manager_id for row in rows if row.person.manager_id is not None}
    return {"allocation": allocation, "rows": [row for row in rows if row.person.pk in managers]}


@login_required
@require_GET
def plan_gap(request: HttpRequest, plan_id: int) -> HttpResponse:
    top_down = access_plan_by_id(request.user, plan_id)
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

"""Quota pages: the quota table and per-bucket breakdown, allocation and locking, hand adjustments,
commit entry and the commit gap.

Views parse input, call the quota, org and planning selectors and services, and render. Errors a
user can fix (``ApplicationError``) become form errors under the field they name; ``NotFound``
propagates and the error middleware turns it into a 404, exactly as for a record that does not
exist; ``AccessDenied`` propagates to a 403 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from equipoise.core.access import PLAN_APPROVER_ROLES, Role
from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.core.periods import month_range
from equipoise.org.models import Motion, Person
from equipoise.org.selectors import (
    access_person_by_id,
    company_get,
    managers_visible,
    person_for_user,
    sellers_visible,
    user_role,
)
from equipoise.planning.models import PlanBucket, PlanState, PlanVersion
from equipoise.planning.selectors import access_plan_by_id, approved_plan, plan_buckets, plans_visible
from equipoise.quotas import selectors, services
from equipoise.quotas.forms import (
    AdjustForm,
    AllocateForm,
    CommitGrid,
    GapFilterForm,
    LockForm,
    PeriodForm,
    QuotaTableFilterForm,
    default_period,
    percent_list_text,
    person_option_label,
)
from equipoise.quotas.models import AllocationState, QuotaAdjustment, QuotaAllocation

PEOPLE_PER_PAGE = 50


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# --- shared helpers -------------------------------------------------------------------------------


def _can_allocate(user: Any) -> bool:
    return user_role(user) in PLAN_APPROVER_ROLES


def _require_allocator(user: Any, action: str) -> None:
    if not _can_allocate(user):
        raise AccessDenied(f"Your role may not {action}: ask an executive or sales ops.")


def _page_context(request: HttpRequest, section: str, **context: Any) -> dict[str, Any]:
    return {"section": section, "can_allocate": _can_allocate(request.user), **context}


def _show_error(form: forms.Form, error: ApplicationError) -> None:
    """Attach a fixable error to the field it names, or to the form with the field's name in front."""
    if error.field and error.field in form.fields:
        form.add_error(error.field, error.message)
    elif error.field:
        form.add_error(None, f"{error.field.replace('_', ' ').capitalize()}: {error.message}")
    else:
        form.add_error(None, error.message)


def _allocation_for(request: HttpRequest) -> QuotaAllocation | None:
    """``?allocation=<id>`` if given (404 when not visible), else the user's current allocation."""
    raw = request.GET.get("allocation", "").strip()
    if raw:
        if not raw.isdigit():
            raise NotFound("That allocation", field="allocation")
        return selectors.access_allocation_by_id(request.user, int(raw))
    return selectors.current_allocation(request.user)


def _horizon(plan: PlanVersion) -> list[date]:
    return month_range(plan.start_month, plan.horizon_months)


def _default_period(horizon: list[date]) -> tuple[date, date]:
    return default_period(horizon, timezone.localdate(), company_get().fiscal_year_start_month)


@dataclass
class AllocationSummary:
    """What the page header says about an allocation: state, method, cushion per level, ramp."""

    allocation: QuotaAllocation
    cushions: list[tuple[int, int]]
    ramp: list[int]

    @classmethod
    def of(cls, allocation: QuotaAllocation) -> AllocationSummary:
        cushions = list(enumerate(allocation.cushion_bp_by_level or [], start=1))
        return cls(allocation=allocation, cushions=cushions, ramp=list(allocation.ramp_bp or []))


def _hidden_filter_errors(form: forms.Form, shown: dict[str, bool]) -> list[str]:
    """Errors of filters not offered to this user (one team, one seller): still said, never swallowed."""
    return [f"{form[name].label}: {error}" for name, is_shown in shown.items() if not is_shown for error in form.errors.get(name, [])]


def _paginate(items: list[Any], request: HttpRequest) -> Page[Any]:
    return Paginator(items, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))


@dataclass
class PersonRow:
    person: Person
    months: list[int]
    total: int
    indent: int
    is_team: bool


# --- quota table ----------------------------------------------------------------------------------


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


# --- per-bucket breakdown and hand adjustment -----------------------------------------------------


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


# --- allocation and locking -----------------------------------------------------------------------


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


# --- commits --------------------------------------------------------------------------------------


class _DiscardCommits(Exception):
    """Raised inside the commit transaction to roll every cell back when any cell failed."""


def _commit_person(request: HttpRequest) -> Person | None:
    """The person whose commits are shown: the posted or asked-for one (404 outside scope), else oneself."""
    raw = (request.POST.get("person") if request.method == "POST" else request.GET.get("person")) or ""
    raw = raw.strip()
    if raw:
        if not raw.isdigit():
            raise NotFound("That person", field="person")
        return access_person_by_id(request.user, int(raw))
    return person_for_user(request.user)


@login_required
@require_http_methods(["GET", "POST"])
def commits(request: HttpRequest) -> HttpResponse:
    """Bottom-up commits per month and motion for oneself, or (managers) someone in one's subtree."""
    user = request.user
    role = user_role(user)
    allocation = selectors.current_allocation(user)
    plan = allocation.plan if allocation is not None else approved_plan()
    person = _commit_person(request)
    can_enter = role is not None and role != Role.FINANCE
    choices: list[tuple[int, str]] = []
    if role is not None and role != Role.SELLER:
        people = {p.pk: p for p in managers_visible(user)} | {p.pk: p for p in sellers_visible(user)}
        ordered = sorted(people.values(), key=lambda p: p.path)
        root_depth = min((p.depth for p in ordered), default=0)
        choices = [(p.pk, person_option_label(p, root_depth)) for p in ordered]
    context = _page_context(
        request, "commits", allocation=allocation, plan=plan, person=person, person_choices=choices, can_enter=can_enter
    )
    if plan is None or person is None:
        return render(request, "quotas/commits.html", context)

    months = _horizon(plan)
    saved = {
        (commit.month, commit.motion): commit.amount_minor
        for commit in selectors.commits_visible(user).filter(person=person, month__in=months)
    }
    quota_by_motion = (
        selectors.quota_by_motion(user, allocation=allocation, person=person, months=months) if allocation is not None else None
    )
    grid = CommitGrid.build(currency=plan.currency, months=months, saved=saved, quota_by_motion=quota_by_motion)
    status = 200
    if request.method == "POST":
        if not can_enter:
            raise AccessDenied("Finance reviews commits but does not enter them.")
        grid.bind(request.POST)
        changed = grid.changed_cells
        try:
            # One transaction for the whole grid: if any cell is refused, no cell is saved. Cells
            # that parsed still go through the service, so every refused cell is reported at once.
            with transaction.atomic():
                for cell in changed:
                    assert cell.amount_minor is not None
                    try:
                        services.commit_upsert(
                            actor=user,
                            person_id=person.pk,
                            month=cell.month,
                            motion=cell.motion,
                            amount_minor=cell.amount_minor,
                            currency=plan.currency,
                        )
                    except (NotFound, AccessDenied):
                        raise
                    except ApplicationError as error:
                        cell.error = error.message
                if grid.errors:
                    raise _DiscardCommits
        except _DiscardCommits:
            pass
        else:
            if changed:
                noun = "commit" if len(changed) == 1 else "commits"
                messages.success(request, f"Saved {len(changed)} {noun} for {person.full_name}.")
            else:
                messages.info(request, "Nothing changed: every commit was already saved with these amounts.")
            return HttpResponseRedirect(f"{reverse('quotas:commits')}?{urlencode({'person': person.pk})}")
        status = 400
    # Buckets without a motion: their quota is shown in a column of its own, beside the motions.
    unassigned_quota = quota_by_motion.get("") if quota_by_motion else None
    other_quotas: list[int | None] = list(unassigned_quota) if unassigned_quota else [None] * len(months)
    context |= {
        "grid": grid,
        "currency": plan.currency,
        "motions": grid.motions,
        "unassigned_quota": unassigned_quota,
        "rows": list(zip(months, grid.rows, other_quotas, strict=True)),
        "is_self": person == person_for_user(user),
    }
    return render(request, "quotas/commits.html", context, status=status)


# --- commit vs quota gap --------------------------------------------------------------------------


@dataclass
class GapTotals:
    quota: list[int]
    commit: list[int]

    @property
    def gaps(self) -> list[int]:
        return [c - q for q, c in zip(self.quota, self.commit, strict=True)]

    @property
    def quota_total(self) -> int:
        return sum(self.quota)

    @property
    def commit_total(self) -> int:
        return sum(self.commit)

    @property
    def gap_total(self) -> int:
        return self.commit_total - self.quota_total


@login_required
@require_GET
def commit_gap(request: HttpRequest) -> HttpResponse:
    """Commit vs quota per person and month; a manager without their own number rolls up their team's."""
    user = request.user
    allocation = _allocation_for(request)
    if allocation is None:
        return render(request, "quotas/gap.html", _page_context(request, "gap", allocation=None))
    plan = allocation.plan
    horizon = _horizon(plan)
    teams = list(managers_visible(user))
    form = GapFilterForm(request.GET, horizon=horizon, default=_default_period(horizon), teams=teams)
    months = form.months
    rows = selectors.commit_gap(user, allocation=allocation, months=months, team=form.selected_team, motion=form.selected_motion)
    root_depth = min((row.person.depth for row in rows), default=0)
    team_ids = {manager.pk for manager in teams}
    managers_in_view = {row.person.manager_id for row in rows}
    # Sellers (people no one in view reports to) carry the quotas; adding managers too would count twice.
    leaves = [row for row in rows if row.person.pk not in managers_in_view]
    totals = GapTotals(
        quota=[sum(row.quota[i] for row in leaves) for i in range(len(months))],
        commit=[sum(row.commit[i] for row in leaves) for i in range(len(months))],
    )
    page = _paginate(rows, request)
    context = _page_context(
        request,
        "gap",
        allocation=allocation,
        summary=AllocationSummary.of(allocation),
        plan=plan,
        currency=plan.currency,
        form=form,
        months=months,
        page=page,
        rows=[(row, row.person.depth - root_depth, row.person.pk in team_ids) for row in page.object_list],
        totals=totals,
        leaves_count=len(leaves),
        motion_label=Motion(form.selected_motion).label if form.selected_motion else "",
        show_team_filter=len(teams) > 1,
        hidden_errors=_hidden_filter_errors(form, {"team": len(teams) > 1}),
    )
    return render(request, "quotas/gap.html", context)

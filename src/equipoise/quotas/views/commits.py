"""Bottom-up commits: entry, and commit vs quota."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from equipoise.core.access import Role
from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.org.models import Motion, Person
from equipoise.org.selectors import (
    access_person_by_id,
    managers_visible,
    person_for_user,
    sellers_visible,
    user_role,
)
from equipoise.planning.selectors import approved_plan
from equipoise.quotas import selectors, services
from equipoise.quotas.forms import (
    CommitGrid,
    GapFilterForm,
    person_option_label,
)
from equipoise.quotas.views.common import (
    AllocationSummary,
    _allocation_for,
    _default_period,
    _hidden_filter_errors,
    _horizon,
    _page_context,
    _paginate,
)


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
        "unassigned_total": sum(unassigned_quota) if unassigned_quota else 0,
        "months_count": len(months),
        "rows": list(zip(months, grid.rows, other_quotas, strict=True)),
        "is_self": person == person_for_user(user),
    }
    return render(request, "quotas/commits.html", context, status=status)


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

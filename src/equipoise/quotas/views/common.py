"""Helpers the quota pages share: roles, the current allocation, periods, pagination, errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils import timezone

from equipoise.core.access import PLAN_APPROVER_ROLES
from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.core.periods import month_range
from equipoise.org.selectors import (
    company_get,
    user_role,
)
from equipoise.planning.models import PlanVersion
from equipoise.quotas import selectors
from equipoise.quotas.forms import (
    default_period,
)
from equipoise.quotas.models import QuotaAllocation

PEOPLE_PER_PAGE = 50


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

"""Helpers the planning pages share: roles, URLs, messages and the action runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from equipoise.core.access import PLAN_APPROVER_ROLES, PLAN_EDITOR_ROLES
from equipoise.core.errors import AccessDenied, ApplicationError
from equipoise.org.models import Motion
from equipoise.org.selectors import user_role, user_sees_company
from equipoise.planning.forms import (
    PlanActionForm,
)
from equipoise.planning.models import PlanVersion

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


def _read_only_message(plan: PlanVersion) -> str:
    return f"“{plan.name}” is {plan.get_state_display().lower()} and read-only: revise it to make a new draft."


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

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from equipoise.org.selectors import person_for_user, user_sees_company
from equipoise.planning.models import PlanKind
from equipoise.planning.selectors import approved_plan, plans_visible
from equipoise.quotas.selectors import current_allocation


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where the cycle starts for this user: the approved plan, the current quotas, next steps."""
    sees_company = user_sees_company(request.user)
    top_down = approved_plan(PlanKind.TOP_DOWN) if sees_company else None
    bottom_up = approved_plan(PlanKind.BOTTOM_UP) if sees_company else None
    context = {
        "person": person_for_user(request.user),
        "sees_company": sees_company,
        "top_down": top_down,
        "bottom_up": bottom_up,
        "gap_minor": bottom_up.total_target_minor - top_down.total_target_minor if top_down and bottom_up else 0,
        "draft_count": plans_visible(request.user).filter(state="draft").count() if sees_company else 0,
        "allocation": current_allocation(request.user),
    }
    return render(request, "web/home.html", context)

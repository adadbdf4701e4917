from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from equipoise.core.errors import AccessDenied
from equipoise.org.selectors import person_for_user, user_sees_company
from equipoise.planning.models import PlanKind
from equipoise.planning.selectors import approved_plan, plans_visible
from equipoise.quotas.selectors import current_allocation
from equipoise.results import retention_selectors
from equipoise.results.retention_views import report_query, retention_cards
from equipoise.results.services import user_may_import
from equipoise.tracking.glance import Glance, at_a_glance


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where the cycle starts for this user: results against plan this month and this year, and
    retention this fiscal year (both sides of the balance); the approved plan, the quotas, next steps.

    The retention card is fetched after the page (:func:`home_retention`): it is worked out from the
    contracts or, without them, from every result line of the last two years, which takes seconds
    for a company of 200,000 customers; the rest of the page costs a fixed number of queries."""
    glances: list[Glance] = []
    linked = True
    try:
        glances = at_a_glance(request.user)
    except AccessDenied:  # a login linked to nobody in the organisation has no figures of its own
        linked = False
    sees_company = user_sees_company(request.user)
    top_down = approved_plan(PlanKind.TOP_DOWN) if sees_company else None
    bottom_up = approved_plan(PlanKind.BOTTOM_UP) if sees_company else None
    context = {
        "person": person_for_user(request.user),
        "glances": glances,
        "retention_follows": linked and retention_selectors.data_exists(),
        "linked": linked,
        "may_import": user_may_import(request.user),
        "sees_company": sees_company,
        "top_down": top_down,
        "bottom_up": bottom_up,
        "gap_minor": bottom_up.total_target_minor - top_down.total_target_minor if top_down and bottom_up else 0,
        "draft_count": plans_visible(request.user).filter(state="draft").count() if sees_company else 0,
        "allocation": current_allocation(request.user),
    }
    return render(request, "web/home.html", context)


@login_required
@require_GET
def home_retention(request: HttpRequest) -> HttpResponse:
    """The home page's retention card, for the user's own scope over the fiscal year to date
    (HTMX fetches it once the page is shown). A login linked to nobody is refused (403) with the reason."""
    if not retention_selectors.data_exists():
        retention_selectors.home_scope(request.user)  # a login outside the organisation hears why
        return render(request, "web/_retention_card.html", {"retention": None})
    report = retention_selectors.retention_report(request.user, grain="year")
    retention = {"report": report, "cards": retention_cards(report), "query": report_query(report)}
    return render(request, "web/_retention_card.html", {"retention": retention})

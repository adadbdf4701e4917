"""Template context shared by every page: the navigation, which follows the sales cycle."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from equipoise.core.access import Role
from equipoise.org.selectors import person_for_user, user_role, user_sees_company

PLAN_NOT_YOURS = "The company plan is for executives, finance and sales ops; your part of it is your quota."


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    path = request.path
    sees_company = user_sees_company(user)
    items: list[dict[str, Any]] = [
        {
            "label": "Plan",
            "url": reverse("planning:list") if sees_company else None,
            "prefixes": ("/plans/",),
            "why_disabled": "" if sees_company else PLAN_NOT_YOURS,
        },
        {"label": "Quotas", "url": reverse("quotas:table"), "prefixes": ("/quotas/",)},
        {"label": "Results", "url": reverse("tracking:dissect"), "prefixes": ("/tracking/", "/results/")},
        {"label": "Variances", "url": None, "prefixes": ("/variances/",)},
        {"label": "Report cards", "url": None, "prefixes": ("/report-cards/",)},
        {"label": "Compensation", "url": None, "prefixes": ("/compensation/",)},
    ]
    for step, item in enumerate(items, start=1):
        item["step"] = step
        item["active"] = path.startswith(item["prefixes"])
    role = user_role(user)
    return {
        "nav_items": items,
        "nav_person": person_for_user(user),
        "nav_role": role.label if role else "",
        "nav_sees_company": sees_company,
        "nav_can_import": role in (Role.EXECUTIVE, Role.ADMIN),
    }

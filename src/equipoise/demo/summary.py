"""What the demo command prints about a loaded company, and a fingerprint for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Max, Min, Sum

from equipoise.demo import catalog
from equipoise.org.models import Customer, Person, Territory
from equipoise.planning.models import PlanMonth, PlanVersion, SeasonalityProfile
from equipoise.quotas.models import Commit, Quota, QuotaAllocation
from equipoise.results.models import Contract, ImportBatch, ResultLine, Rollup


@dataclass
class Login:
    username: str
    full_name: str
    role: str
    description: str


def demo_logins() -> list[Login]:
    descriptions = {
        "executive": "VP of sales: sees and approves everything",
        "manager": "manages a team: sees their team only",
        "seller": "a seller in that team: sees their own numbers",
        "finance": "finance: plans and compensation",
        "admin": "sales ops / admin, also Django admin at /admin/",
    }
    people = {
        person.user.get_username(): person
        for person in Person.objects.filter(user__username__in=catalog.LOGINS).select_related("user")
        if person.user is not None
    }
    logins = []
    for username in catalog.LOGINS:
        person = people.get(username)
        if person is None:
            continue
        description = descriptions[username]
        if username == "manager" and person.team_name:
            description = f"manages team {person.team_name}: sees their team only"
        logins.append(Login(username=username, full_name=person.full_name, role=person.role, description=description))
    return logins


def demo_results_until() -> date | None:
    """The last day with demo results: the ``as_of`` the demo was loaded for, or the business day before it."""
    last: date | None = ResultLine.objects.filter(source=catalog.RESULTS_SOURCE).aggregate(last=Max("occurred_on"))["last"]
    return last


def demo_counts() -> dict[str, int]:
    batches = ImportBatch.objects.filter(source=catalog.RESULTS_SOURCE).aggregate(batches=Count("id"), lines=Sum("lines_created"))
    return {
        "sellers": Person.objects.filter(carries_quota=True, is_active=True).count(),
        "people": Person.objects.count(),
        "customers": Customer.objects.count(),
        "result_lines": batches["lines"] or 0,
        "import_batches": batches["batches"],
        "contracts": Contract.objects.filter(source=catalog.RESULTS_SOURCE).count(),
        "plans": PlanVersion.objects.count(),
        "quota_rows": Quota.objects.count(),
        "commits": Commit.objects.count(),
    }


def demo_fingerprint() -> dict[str, Any]:
    """Everything that should be the same for the same seed and ``as_of``, without database ids."""
    plans = {}
    for plan in PlanVersion.objects.order_by("kind", "name"):
        plans[f"{plan.kind}:{plan.name}"] = {
            "state": plan.state,
            "start_month": plan.start_month,
            "total_target_minor": plan.total_target_minor,
            "months_minor": PlanMonth.objects.filter(plan=plan).aggregate(total=Sum("amount_minor"))["total"],
            "buckets": [
                (bucket.label, bucket.target_minor) for bucket in plan.buckets.select_related("region", "product_line", "customer")
            ],
        }
    quotas_by_depth = {
        depth: total
        for depth, total in Quota.objects.values("person__depth").annotate(total=Sum("amount_minor")).values_list("person__depth", "total")
    }
    return {
        "counts": demo_counts(),
        "territories": Territory.objects.count(),
        "named_accounts": Customer.objects.filter(is_named_account=True).count(),
        "results_by_kind_and_motion": sorted(
            ResultLine.objects.values("kind", "motion")
            .annotate(total=Sum("amount_minor"), credits=Count("id"))
            .values_list("kind", "motion", "total", "credits")
        ),
        "results_by_seller": sorted(
            ResultLine.objects.values("seller__full_name").annotate(total=Sum("amount_minor")).values_list("seller__full_name", "total")
        ),
        "rollups": Rollup.objects.aggregate(rows=Count("node_id"), total=Sum("amount_minor")),
        "contracts": sorted(
            Contract.objects.values_list(
                "external_id", "customer__code", "starts_on", "ends_on", "billing_period", "amount_minor", "renews__external_id"
            )
        ),
        "first_result": ResultLine.objects.aggregate(first=Min("occurred_on"))["first"],
        "seasonality": [profile.weights for profile in SeasonalityProfile.objects.order_by("name")],
        "plans": plans,
        "quota_minor_by_depth": quotas_by_depth,
        "allocations": list(QuotaAllocation.objects.values_list("state", "method")),
        "commit_minor": Commit.objects.aggregate(total=Sum("amount_minor"))["total"],
        "people": sorted(Person.objects.values_list("full_name", "role", "depth", "hire_date", "is_active")),
        "customer_segments": dict(Customer.objects.values("segment").annotate(n=Count("id")).values_list("segment", "n")),
        "customer_owners": sorted(Customer.objects.values_list("code", "owner__full_name")),
    }

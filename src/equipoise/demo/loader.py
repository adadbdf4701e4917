"""Write the demo company into the database, once.

:func:`load_demo` runs in one transaction: a failed load leaves nothing behind, and a database
that already holds the demo is reused untouched (detected by the company's name). Dimensions,
people, customers and history are bulk-inserted (history is what the results app will later
derive from result lines); plans, seasonality, quotas and their approval go through the
planning and quotas services, acting as the VP, so they carry the same checks and audit trail as
any other plan.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count, Sum

from equipoise.core.access import Role
from equipoise.core.audit import bulk_create_audited, stamp
from equipoise.core.errors import ApplicationError
from equipoise.core.periods import add_months, month_range
from equipoise.demo import catalog
from equipoise.demo.bulk import insert_rows
from equipoise.demo.generator import DemoSpec, build_spec
from equipoise.demo.spec import DEFAULT_CUSTOMERS, DEFAULT_SEED, DEFAULT_SELLERS, PersonSpec
from equipoise.org.models import Company, Customer, Person, ProductApplication, ProductLine, Region, Territory
from equipoise.org.services import rebuild_paths
from equipoise.planning import history as revenue_history
from equipoise.planning.models import PlanKind, PlanMonth, PlanVersion, RevenueHistory, SeasonalityKind, SeasonalityProfile
from equipoise.planning.services import bucket_add, plan_approve, plan_create, seasonality_create
from equipoise.quotas.models import AllocationMethod, Commit, Quota, QuotaAllocation
from equipoise.quotas.services import allocation_lock, quota_allocate

LOAD_STEPS = (
    "Generating the company",
    "Regions and products",
    "People and logins",
    "Customers and territories",
    "Revenue history",
    "Top-down and bottom-up plans",
    "Quotas",
    "Commits",
)
Progress = Callable[[int, str], None]  # (steps done so far, step starting now)

_REASON = "demo company loaded"
_BATCH = 2_000


@dataclass
class Login:
    username: str
    full_name: str
    role: str
    description: str


@dataclass
class LoadResult:
    created: bool
    company: str
    logins: list[Login] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def demo_present() -> bool:
    return Company.objects.filter(name=catalog.COMPANY_NAME).exists()


def _refuse_foreign_data() -> None:
    """The demo goes only into an empty database, never on top of a real company."""
    if Person.objects.exists() or PlanVersion.objects.exists():
        company = Company.objects.order_by("id").first()
        raise ApplicationError(
            f"This database already holds {company.name if company else 'a company'}; the demo is loaded only into an "
            "empty database. Point EQUIPOISE_DATA_DIR (or DATABASE_URL) at a new location, or use `equipoise serve`.",
            field="database",
        )
    taken = sorted(get_user_model().objects.filter(username__in=catalog.LOGINS).values_list("username", flat=True))
    if taken:
        raise ApplicationError(
            f"The demo logins {', '.join(taken)} exist already in this database; use an empty database.", field="database"
        )


def load_demo(
    *,
    seed: int = DEFAULT_SEED,
    sellers: int = DEFAULT_SELLERS,
    customers: int = DEFAULT_CUSTOMERS,
    progress: Progress | None = None,
) -> LoadResult:
    """Load the demo company unless it is there already; return its logins and row counts."""
    report = progress or (lambda done, label: None)
    if demo_present():
        return LoadResult(created=False, company=catalog.COMPANY_NAME, logins=demo_logins(), counts=demo_counts())
    if sellers < 1:
        raise ApplicationError("The demo needs at least one seller.", field="sellers")
    if customers < 0:
        raise ApplicationError("The number of customers cannot be negative.", field="customers")
    _refuse_foreign_data()
    report(0, LOAD_STEPS[0])
    spec = build_spec(seed=seed, sellers=sellers, customers=customers)
    with transaction.atomic():
        # Checked again inside the transaction: on SQLite it holds the write lock from its start,
        # so of two `equipoise demo` started together the second finds the first one's company.
        created = not demo_present()
        if created:
            _write(spec, report)
    return LoadResult(created=created, company=catalog.COMPANY_NAME, logins=demo_logins(), counts=demo_counts())


def _write(spec: DemoSpec, report: Progress) -> None:
    report(1, LOAD_STEPS[1])
    company = Company.objects.order_by("id").first() or Company()
    company.name = catalog.COMPANY_NAME
    company.fiscal_year_start_month = catalog.FISCAL_YEAR_START_MONTH
    company.reporting_currency = catalog.CURRENCY
    company.save()
    regions = _write_regions()
    lines, applications = _write_products()

    report(2, LOAD_STEPS[2])
    people = _write_people(spec)
    actor = people["vp"].user
    assert actor is not None

    report(3, LOAD_STEPS[3])
    customers = {
        customer.code: customer
        for customer in Customer.objects.bulk_create(
            [
                Customer(
                    code=c.code,
                    name=c.name,
                    is_named_account=c.is_named_account,
                    segment=c.segment,
                    home_region=regions[c.country_code],
                    owner=people[c.owner_key],
                )
                for c in spec.customers
            ],
            batch_size=_BATCH,
        )
    }
    territories = [
        stamp(
            Territory(
                seller=people[t.seller_key],
                region=regions[t.region_code] if t.region_code else None,
                customer=customers[t.customer_code] if t.customer_code else None,
                starts_on=t.starts_on,
                ends_on=t.ends_on,
                potential_minor=t.potential_minor,
            ),
            actor=actor,
            reason=_REASON,
        )
        for t in spec.territories
    ]
    bulk_create_audited(Territory, territories, actor=actor, reason=_REASON)

    report(4, LOAD_STEPS[4])
    insert_rows(
        RevenueHistory,
        ["month", "seller", "region", "product_line", "product_application", "customer", "motion", "currency", "amount_minor"],
        [
            (
                row.month,
                people[row.seller_key].pk,
                regions[row.country_code].pk,
                applications[row.application_code].product_line_id,
                applications[row.application_code].pk,
                customers[row.customer_code].pk if row.customer_code else None,
                row.motion,
                catalog.CURRENCY,
                row.amount_minor,
            )
            for row in spec.history
        ],
    )

    report(5, LOAD_STEPS[5])
    top_down = _write_plans(
        spec, actor=actor, regions=regions, lines_by_code={line.code: line for line in lines.values()}, customers=customers
    )

    report(6, LOAD_STEPS[6])
    allocation = quota_allocate(
        actor=actor,
        plan=top_down,
        method=AllocationMethod.HISTORY,
        cushion_bp_by_level=catalog.CUSHION_BP_BY_LEVEL,
        ramp_bp=catalog.RAMP_BP,
        root=people["vp"],
        reason="Allocated by each seller's share of their territory's history; 5% cushion at each level below the VP's direct reports; "
        "new sellers ramp 25/50/75%.",
    )
    allocation_lock(actor=actor, allocation=allocation, reason="Quotas for FY2027–FY2028 locked with the plan.")

    report(7, LOAD_STEPS[7])
    _write_commits(spec, allocation=allocation, people=people)


def _write_regions() -> dict[str, Region]:
    parents = Region.objects.bulk_create([Region(code=region.code, name=region.name) for region in catalog.REGIONS])
    countries = Region.objects.bulk_create(
        [
            Region(code=country.code, name=country.name, parent=parent)
            for region, parent in zip(catalog.REGIONS, parents, strict=True)
            for country in region.countries
        ]
    )
    return {region.code: region for region in (*parents, *countries)}


def _write_products() -> tuple[dict[int, ProductLine], dict[str, ProductApplication]]:
    lines = ProductLine.objects.bulk_create([ProductLine(code=line.code, name=line.name) for line in catalog.PRODUCT_LINES])
    applications = ProductApplication.objects.bulk_create(
        [
            ProductApplication(code=app.code, name=app.name, product_line=line)
            for info, line in zip(catalog.PRODUCT_LINES, lines, strict=True)
            for app in info.applications
        ]
    )
    return {line.pk: line for line in lines}, {app.code: app for app in applications}


def _write_people(spec: DemoSpec) -> dict[str, Person]:
    """Users and people, level by level so each manager exists before their reports; then paths."""
    password = make_password(catalog.PASSWORD)  # hashed once: every demo login shares the one known password
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [
            user_model(
                username=person.username,
                email=person.email,
                first_name=person.full_name.split(" ", 1)[0],
                last_name=person.full_name.split(" ", 1)[-1],
                password=password,
                is_active=person.is_active,
                is_staff=person.role == Role.ADMIN,
                is_superuser=person.role == Role.ADMIN,
            )
            for person in spec.org.people
        ],
        batch_size=_BATCH,
    )
    user_by_name = {user.get_username(): user for user in users}
    actor = user_by_name[spec.org.people[0].username]
    created: dict[str, Person] = {}
    levels: dict[int, list[PersonSpec]] = defaultdict(list)
    depth: dict[str, int] = {}
    for person in spec.org.people:  # managers always come before their reports in the spec
        depth[person.key] = depth[person.manager_key] + 1 if person.manager_key else 0
        levels[depth[person.key]].append(person)
    for level in sorted(levels):
        batch = [
            stamp(
                Person(
                    user=user_by_name[person.username],
                    full_name=person.full_name,
                    email=person.email,
                    role=person.role,
                    manager=created[person.manager_key] if person.manager_key else None,
                    team_name=person.team_name,
                    carries_quota=person.carries_quota,
                    hire_date=person.hire_date,
                    is_active=person.is_active,
                ),
                actor=actor,
                reason=_REASON,
            )
            for person in levels[level]
        ]
        for person, row in zip(levels[level], bulk_create_audited(Person, batch, actor=actor, reason=_REASON), strict=True):
            created[person.key] = row
    rebuild_paths()
    fresh = Person.objects.select_related("user").in_bulk([person.pk for person in created.values()])
    return {key: fresh[person.pk] for key, person in created.items()}


def _write_plans(
    spec: DemoSpec,
    *,
    actor: Any,
    regions: dict[str, Region],
    lines_by_code: dict[str, ProductLine],
    customers: dict[str, Customer],
) -> PlanVersion:
    """The learned seasonality, and the approved top-down and bottom-up plans; returns the top-down one."""
    history_end = add_months(catalog.PLAN_START, -1)
    history_start = add_months(catalog.PLAN_START, -catalog.HISTORY_MONTHS)
    seasonality = seasonality_create(
        actor=actor,
        name=f"Learned from {history_start:%b %Y}–{history_end:%b %Y} revenue",
        kind=SeasonalityKind.LEARNED,
        history=revenue_history.monthly_totals(start=history_start, end=history_end),
    )
    approved: dict[str, PlanVersion] = {}
    # Bottom-up first, so the top-down plan (the one quotas come from) heads the newest-first plan list.
    for kind, total, name, notes in (
        (
            PlanKind.BOTTOM_UP,
            spec.bottom_up_total_minor,
            "FY2027–FY2028 sales commit (bottom-up)",
            "What the regional teams commit to, bucket by bucket: the gap to the top-down plan is what we must close.",
        ),
        (
            PlanKind.TOP_DOWN,
            spec.top_down_total_minor,
            "FY2027–FY2028 plan (top-down)",
            "The CFO's ask: the last twelve months' revenue × 2 years × 115%, by bucket from each bucket's history and growth.",
        ),
    ):
        plan = plan_create(
            actor=actor,
            name=name,
            kind=kind,
            start_month=catalog.PLAN_START,
            horizon_months=catalog.PLAN_HORIZON_MONTHS,
            currency=catalog.CURRENCY,
            total_target_minor=total,
            seasonality=seasonality,
            growth_bp_per_month=catalog.PLAN_GROWTH_BP_PER_MONTH,
            notes=notes,
            **catalog.OBJECTIVES_BP,
        )
        for bucket in spec.buckets:
            bucket_add(
                actor=actor,
                plan=plan,
                region=regions[bucket.region_code] if bucket.region_code else None,
                product_line=lines_by_code[bucket.product_line_code] if bucket.product_line_code else None,
                customer=customers[bucket.customer_code] if bucket.customer_code else None,
                motion=bucket.motion,
                target_minor=bucket.top_down_minor if kind == PlanKind.TOP_DOWN else bucket.bottom_up_minor,
                reason=_REASON,
            )
        approved[kind] = plan_approve(actor=actor, plan=plan, reason="Approved for the demo company.")
    return approved[PlanKind.TOP_DOWN]


def _write_commits(spec: DemoSpec, *, allocation: QuotaAllocation, people: dict[str, Person]) -> None:
    """Commits for the first plan months per motion: sellers near their quota (mostly a little below),
    managers their team's commits with their own judgement on top. Entered by each person."""
    rng = random.Random(spec.seed + 1)  # its own stream: commits never shift the rest of the company
    months = month_range(catalog.PLAN_START, catalog.COMMIT_MONTHS)
    quota: dict[tuple[int, date, str], int] = defaultdict(int)
    for person_id, month, motion, total in (
        Quota.objects.filter(allocation=allocation, month__in=months)
        .values("person_id", "month", "bucket__motion")
        .annotate(total=Sum("amount_minor"))
        .values_list("person_id", "month", "bucket__motion", "total")
    ):
        quota[(person_id, month, motion)] += total
    by_pk = {person.pk: person for person in people.values()}
    motions = ("new", "renewal", "expansion")
    commits: dict[tuple[int, date, str], int] = {}
    sellers = [p for p in people.values() if p.carries_quota and p.is_active]
    for seller in sorted(sellers, key=lambda p: p.path):
        for motion in motions:
            low, high = {"new": (7_800, 10_600), "renewal": (9_300, 10_100), "expansion": (8_200, 10_400)}[motion]
            for month in months:
                amount = quota[(seller.pk, month, motion)]
                if amount:
                    commits[(seller.pk, month, motion)] = _round_hundreds(amount * rng.randint(low, high) // 10_000)
    reports_of: dict[int, list[int]] = defaultdict(list)
    for person in sorted(by_pk.values(), key=lambda p: p.path):
        if person.manager_id is not None:
            reports_of[person.manager_id].append(person.pk)
    managers = [p for p in people.values() if p.role == Role.MANAGER and p.is_active]
    for manager in sorted(managers, key=lambda p: (-p.depth, p.path)):  # deepest first: directors see their managers' numbers
        reports = reports_of[manager.pk]
        for motion in motions:
            for month in months:
                below = sum(commits.get((report, month, motion), 0) for report in reports)
                if below:
                    commits[(manager.pk, month, motion)] = _round_hundreds(below * rng.randint(9_700, 10_200) // 10_000)
    rows = [
        stamp(
            Commit(
                person=by_pk[person_id],
                month=month,
                motion=motion,
                currency=catalog.CURRENCY,
                amount_minor=amount,
                note="Demo commit",
                entered_by=by_pk[person_id].user,
            ),
            actor=by_pk[person_id].user,
            reason="commit entered",
        )
        for (person_id, month, motion), amount in commits.items()
    ]
    bulk_create_audited(Commit, rows, actor=people["vp"].user, reason="commit entered")


def _round_hundreds(amount_minor: int) -> int:
    """Commits are round numbers: whole hundreds of euros."""
    return (amount_minor + 5_000) // 10_000 * 10_000


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


def demo_counts() -> dict[str, int]:
    return {
        "sellers": Person.objects.filter(carries_quota=True, is_active=True).count(),
        "people": Person.objects.count(),
        "customers": Customer.objects.count(),
        "history_rows": RevenueHistory.objects.count(),
        "plans": PlanVersion.objects.count(),
        "quota_rows": Quota.objects.count(),
        "commits": Commit.objects.count(),
    }


def demo_fingerprint() -> dict[str, Any]:
    """Everything that should be the same for the same seed, without database ids."""
    plans = {}
    for plan in PlanVersion.objects.order_by("kind", "name"):
        plans[f"{plan.kind}:{plan.name}"] = {
            "state": plan.state,
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
        "history_minor": RevenueHistory.objects.aggregate(total=Sum("amount_minor"))["total"],
        "history_by_motion": dict(
            RevenueHistory.objects.values("motion").annotate(total=Sum("amount_minor")).values_list("motion", "total")
        ),
        "seasonality": [profile.weights for profile in SeasonalityProfile.objects.order_by("name")],
        "plans": plans,
        "quota_minor_by_depth": quotas_by_depth,
        "allocations": list(QuotaAllocation.objects.values_list("state", "method")),
        "commit_minor": Commit.objects.aggregate(total=Sum("amount_minor"))["total"],
        "people": sorted(Person.objects.values_list("full_name", "role", "depth", "hire_date", "is_active")),
        "customer_segments": dict(Customer.objects.values("segment").annotate(n=Count("id")).values_list("segment", "n")),
    }

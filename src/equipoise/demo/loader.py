"""Write the demo company into the database, once.

:func:`load_demo` runs in one transaction: a failed load leaves nothing behind, and a database
that already holds the demo is reused untouched (detected by the company's name). The order is
the order things happened: dimensions, people, customers and territories (bulk inserts); the
24 months of history as weekly result batches (through the results app's ingestor, rollups
included); the plans learned from that history, quotas and commits (through the planning and
quotas services, see :mod:`.plans`); then the current plan's weeks up to ``as_of``, and the
contracts behind the recurring revenue (bulk inserts, see :mod:`.contracts`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from equipoise.core.access import Role
from equipoise.core.audit import bulk_create_audited, stamp
from equipoise.core.errors import ApplicationError
from equipoise.demo import catalog
from equipoise.demo.contracts import write_contracts
from equipoise.demo.generator import DemoSpec, build_spec
from equipoise.demo.plans import REASON, write_commits, write_plans, write_quotas
from equipoise.demo.results import Dimensions, weeks_of, write_weekly_batches
from equipoise.demo.spec import DEFAULT_CUSTOMERS, DEFAULT_SEED, DEFAULT_SELLERS, PersonSpec
from equipoise.demo.summary import Login, demo_counts, demo_logins, demo_results_until
from equipoise.org.models import Company, Customer, Person, ProductApplication, ProductLine, Region, Territory
from equipoise.org.services import rebuild_paths
from equipoise.planning.models import PlanVersion

LOAD_STEPS = (
    "Generating the company",
    "Regions and products",
    "People and logins",
    "Customers and territories",
    "Results: 24 months of history, week by week",
    "Top-down and bottom-up plans",
    "Quotas",
    "Commits",
    "Results: the plan so far, week by week",
    "Contracts and renewals",
)
Progress = Callable[[int, str], None]  # (steps done so far, step starting now)

_BATCH = 2_000


@dataclass
class LoadResult:
    created: bool
    company: str
    results_until: date | None = None  # the last day with results
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
    as_of: date | None = None,
    seed: int = DEFAULT_SEED,
    sellers: int = DEFAULT_SELLERS,
    customers: int = DEFAULT_CUSTOMERS,
    progress: Progress | None = None,
) -> LoadResult:
    """Load the demo company as of ``as_of`` (default: today) unless it is there already; return
    its logins and row counts. The same seed and ``as_of`` load the same company."""
    report = progress or (lambda done, label: None)
    if demo_present():
        return LoadResult(
            created=False, company=catalog.COMPANY_NAME, results_until=demo_results_until(), logins=demo_logins(), counts=demo_counts()
        )
    if sellers < 1:
        raise ApplicationError("The demo needs at least one seller.", field="sellers")
    if customers < 1:
        raise ApplicationError("The demo needs at least one customer.", field="customers")
    _refuse_foreign_data()
    report(0, LOAD_STEPS[0])
    spec = build_spec(as_of=as_of or timezone.localdate(), seed=seed, sellers=sellers, customers=customers)
    with transaction.atomic():
        # Checked again inside the transaction: on SQLite it holds the write lock from its start,
        # so of two `equipoise demo` started together the second finds the first one's company.
        created = not demo_present()
        if created:
            _write(spec, report)
    return LoadResult(
        created=created, company=catalog.COMPANY_NAME, results_until=demo_results_until(), logins=demo_logins(), counts=demo_counts()
    )


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
    admin = people["admin"].user
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
            reason=REASON,
        )
        for t in spec.territories
    ]
    bulk_create_audited(Territory, territories, actor=actor, reason=REASON)

    # The history's weeks go in before the plans are made, the plan's weeks after: plans and
    # quotas learn from the history only (the ISO week in which the plan starts counts as history).
    dimensions = Dimensions(people=people, customers=customers, regions=regions, applications=applications)
    weeks = weeks_of(spec.results)
    plan_start = spec.timeline.plan_start
    report(4, LOAD_STEPS[4])
    write_weekly_batches({week: lines for week, lines in weeks.items() if week < plan_start}, dimensions=dimensions, actor=admin)

    report(5, LOAD_STEPS[5])
    top_down = write_plans(
        spec, actor=actor, regions=regions, lines_by_code={line.code: line for line in lines.values()}, customers=customers
    )

    report(6, LOAD_STEPS[6])
    allocation = write_quotas(spec, actor=actor, plan=top_down, root=people["vp"])

    report(7, LOAD_STEPS[7])
    write_commits(spec, allocation=allocation, people=people)

    report(8, LOAD_STEPS[8])
    write_weekly_batches({week: lines for week, lines in weeks.items() if week >= plan_start}, dimensions=dimensions, actor=admin)

    report(9, LOAD_STEPS[9])
    write_contracts(spec.contracts, people=people, customers=customers, applications=applications)


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
                reason=REASON,
            )
            for person in levels[level]
        ]
        for person, row in zip(levels[level], bulk_create_audited(Person, batch, actor=actor, reason=REASON), strict=True):
            created[person.key] = row
    rebuild_paths()
    fresh = Person.objects.select_related("user").in_bulk([person.pk for person in created.values()])
    return {key: fresh[person.pk] for key, person in created.items()}

"""Loading the demo company into the database: once, reconciled, and the same for the same seed."""

from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum

from equipoise.core.errors import ApplicationError
from equipoise.core.periods import month_range
from equipoise.demo import catalog
from equipoise.demo.bench import check_reconciliation
from equipoise.demo.loader import demo_fingerprint, load_demo
from equipoise.org.models import Company, Person
from equipoise.planning.domain import annual_totals
from equipoise.planning.models import PlanKind, PlanMonth, PlanState, PlanVersion, RevenueHistory
from equipoise.quotas import domain as quota_domain
from equipoise.quotas.models import AllocationState, Commit, Quota, QuotaAllocation

SMALL = {"seed": 5, "sellers": 16, "customers": 200}


@pytest.fixture
def small_demo(db):
    return load_demo(**SMALL)


def test_same_seed_loads_the_same_company(db):
    # given the demo loaded once, fingerprinted, and rolled back
    with transaction.atomic():
        load_demo(**SMALL)
        first = demo_fingerprint()
        transaction.set_rollback(True)
    assert not Company.objects.exists()

    # when it is loaded again with the same seed
    load_demo(**SMALL)

    # then everything, down to each bucket target and quota level, is the same
    assert demo_fingerprint() == first
    assert first["history_minor"] > 0
    assert first["counts"]["quota_rows"] > 0


def test_loading_twice_duplicates_nothing(small_demo):
    before = demo_fingerprint()
    users = get_user_model().objects.count()

    again = load_demo(**SMALL)

    assert small_demo.created is True
    assert again.created is False
    assert demo_fingerprint() == before
    assert get_user_model().objects.count() == users
    assert Company.objects.count() == 1


def test_both_plans_are_approved_and_reconcile_by_month_year_and_bucket(small_demo):
    company = Company.objects.get()
    for kind in (PlanKind.TOP_DOWN, PlanKind.BOTTOM_UP):
        plan = PlanVersion.objects.get(kind=kind)
        months = dict(PlanMonth.objects.filter(plan=plan).values("month").annotate(total=Sum("amount_minor")).values_list("month", "total"))
        years = annual_totals(months, company.fiscal_year_start_month)

        assert plan.state == PlanState.APPROVED
        assert sorted(months) == month_range(catalog.PLAN_START, 24)
        assert sum(months.values()) == plan.total_target_minor
        assert list(years) == ["FY2027", "FY2028"]
        assert sum(years.values()) == plan.total_target_minor
        for bucket in plan.buckets.all():
            assert PlanMonth.objects.filter(bucket=bucket).aggregate(total=Sum("amount_minor"))["total"] == bucket.target_minor
        assert plan.seasonality.kind == "learned"
        assert (plan.grr_objective_bp, plan.nrr_objective_bp, plan.max_logo_churn_bp) == (9200, 10800, 800)


def test_bottom_up_is_5_to_10_percent_below_top_down(small_demo):
    top_down = PlanVersion.objects.get(kind=PlanKind.TOP_DOWN)
    bottom_up = PlanVersion.objects.get(kind=PlanKind.BOTTOM_UP)

    gap_bp = (top_down.total_target_minor - bottom_up.total_target_minor) * 10_000 // top_down.total_target_minor

    assert 500 <= gap_bp <= 1_000
    assert sorted(top_down.buckets.values_list("key", flat=True)) == sorted(bottom_up.buckets.values_list("key", flat=True))


def test_quotas_are_locked_and_sum_to_the_plan_plus_cushion_at_every_level(small_demo):
    allocation = QuotaAllocation.objects.get()
    plan = allocation.plan
    months = month_range(plan.start_month, plan.horizon_months)
    index = {month: i for i, month in enumerate(months)}
    people = {p.pk: p for p in Person.objects.filter(path__startswith=allocation.root.path, is_active=True)}
    children = defaultdict(list)
    for person in people.values():
        if person.pk != allocation.root_id:
            children[person.manager_id].append(person.pk)
    tree = quota_domain.Tree(
        root_id=allocation.root_id, children=dict(children), depth={pk: p.depth - allocation.root.depth for pk, p in people.items()}
    )

    assert allocation.state == AllocationState.LOCKED
    assert allocation.cushion_bp_by_level == list(catalog.CUSHION_BP_BY_LEVEL)
    for bucket in plan.buckets.all():
        amounts = defaultdict(lambda: [0] * len(months))
        for person_id, month, amount in Quota.objects.filter(allocation=allocation, bucket=bucket).values_list(
            "person_id", "month", "amount_minor"
        ):
            amounts[person_id][index[month]] = amount
        assert amounts[allocation.root_id] == list(
            PlanMonth.objects.filter(bucket=bucket).order_by("month").values_list("amount_minor", flat=True)
        )
        assert (
            quota_domain.reconciliation_errors(
                tree=tree, amounts=amounts, cushion_bp_by_level=allocation.cushion_bp_by_level, currency="EUR"
            )
            == []
        )
    check = check_reconciliation(allocation)
    assert check.errors == []
    assert check.reconciled is True
    # sellers carry the plan plus 5% (the managers' level cushion), to the cent
    seller_total = Quota.objects.filter(allocation=allocation, person__carries_quota=True).aggregate(total=Sum("amount_minor"))["total"]
    assert seller_total == quota_domain.cushioned_months([plan.total_target_minor], 500, "EUR")[0]


def test_new_hires_ramp_and_carry_nothing_before_they_start(small_demo):
    allocation = QuotaAllocation.objects.get()
    future_hire = Person.objects.filter(carries_quota=True, hire_date__gt=catalog.PLAN_START).order_by("hire_date").first()
    assert future_hire is not None
    by_month = dict(
        Quota.objects.filter(allocation=allocation, person=future_hire)
        .values("month")
        .annotate(total=Sum("amount_minor"))
        .values_list("month", "total")
    )
    hire_month = future_hire.hire_date.replace(day=1)
    assert all(total == 0 for month, total in by_month.items() if month < hire_month)
    assert by_month[hire_month] > 0


def test_commits_for_every_seller_and_manager_for_six_months_per_motion(small_demo):
    months = month_range(catalog.PLAN_START, catalog.COMMIT_MONTHS)
    allocation = QuotaAllocation.objects.get()
    committers = Person.objects.filter(is_active=True, role__in=["seller", "manager"])

    for person in committers:
        commits = Commit.objects.filter(person=person)
        expected_cells = {
            (month, motion)
            for month, motion, total in Quota.objects.filter(allocation=allocation, person=person, month__in=months)
            .values("month", "bucket__motion")
            .annotate(total=Sum("amount_minor"))
            .values_list("month", "bucket__motion", "total")
            if total
        }
        assert set(commits.values_list("month", "motion")) == expected_cells
        assert all(commit.entered_by_id == person.user_id for commit in commits)
    assert Commit.objects.values("person").distinct().count() == committers.filter(quotas__month__in=months).distinct().count()
    seller_quota = Quota.objects.filter(allocation=allocation, month__in=months, person__carries_quota=True).aggregate(
        t=Sum("amount_minor")
    )["t"]
    seller_commits = Commit.objects.filter(person__carries_quota=True).aggregate(t=Sum("amount_minor"))["t"]
    assert seller_quota * 85 // 100 < seller_commits < seller_quota


def test_demo_logins_share_the_published_password(small_demo):
    users = {user.username: user for user in get_user_model().objects.filter(username__in=catalog.LOGINS)}

    assert sorted(users) == sorted(catalog.LOGINS)
    assert all(user.check_password(catalog.PASSWORD) for user in users.values())
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert not users["executive"].is_superuser
    assert users["executive"].person.role == "executive"
    assert users["seller"].person.manager == users["manager"].person
    assert [login.username for login in small_demo.logins] == list(catalog.LOGINS)


def test_refuses_to_load_on_top_of_another_company(org):
    people = Person.objects.count()

    with pytest.raises(ApplicationError, match="already holds Test Co"):
        load_demo(**SMALL)

    assert Person.objects.count() == people
    assert not RevenueHistory.objects.exists()
    assert not Company.objects.filter(name=catalog.COMPANY_NAME).exists()


@pytest.mark.parametrize("sellers", [1, 3, 9])
def test_tiny_companies_load_and_reconcile(db, sellers):
    # a company smaller than its regions sells only where it has sellers, so every bucket is covered
    result = load_demo(seed=sellers, sellers=sellers, customers=40)

    assert result.counts["sellers"] == sellers
    assert check_reconciliation(QuotaAllocation.objects.get()).reconciled is True

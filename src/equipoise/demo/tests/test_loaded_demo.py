"""The loaded demo company: plans, quotas and commits learned from its results; results, rollups and contracts."""

from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from equipoise.core.periods import iso_week_start, month_range, month_start
from equipoise.demo import catalog
from equipoise.demo.bench import check_reconciliation
from equipoise.demo.loader import load_demo
from equipoise.demo.timeline import demo_timeline
from equipoise.org.models import Company, Person
from equipoise.planning import history
from equipoise.planning.domain import annual_totals, learn_seasonality
from equipoise.planning.models import PlanKind, PlanMonth, PlanState, PlanVersion
from equipoise.quotas import domain as quota_domain
from equipoise.quotas.models import AllocationState, Commit, Quota, QuotaAllocation
from equipoise.results.models import Contract, ImportBatch, ResultLine
from equipoise.results.rollups import rollups_compare

AS_OF = date(2026, 11, 18)
SMALL = {"as_of": AS_OF, "seed": 5, "sellers": 16, "customers": 200}
TIMELINE = demo_timeline(AS_OF)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The small demo, loaded once for this module's read-only tests and rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        result = load_demo(**SMALL)
        yield result
        transaction.set_rollback(True)


@pytest.fixture
def small_demo(loaded, db):
    return loaded


def test_both_plans_are_approved_start_with_the_fiscal_year_and_reconcile(small_demo):
    company = Company.objects.get()
    for kind in (PlanKind.TOP_DOWN, PlanKind.BOTTOM_UP):
        plan = PlanVersion.objects.get(kind=kind)
        months = dict(PlanMonth.objects.filter(plan=plan).values("month").annotate(total=Sum("amount_minor")).values_list("month", "total"))
        years = annual_totals(months, company.fiscal_year_start_month)

        assert plan.state == PlanState.APPROVED
        assert plan.start_month == date(2026, 1, 1)
        assert plan.name.startswith("FY2026–FY2027 ")
        assert sorted(months) == month_range(date(2026, 1, 1), 24)
        assert sum(months.values()) == plan.total_target_minor
        assert list(years) == ["FY2026", "FY2027"]
        assert sum(years.values()) == plan.total_target_minor
        for bucket in plan.buckets.all():
            assert PlanMonth.objects.filter(bucket=bucket).aggregate(total=Sum("amount_minor"))["total"] == bucket.target_minor
        assert plan.seasonality.kind == "learned"
        assert (plan.grr_objective_bp, plan.nrr_objective_bp, plan.max_logo_churn_bp) == (9200, 10800, 800)


def test_seasonality_is_learned_from_the_booked_history(small_demo):
    booked = defaultdict(int)
    for day, amount in ResultLine.objects.filter(measure="booked", occurred_on__lt=TIMELINE.plan_start).values_list(
        "occurred_on", "amount_minor"
    ):
        booked[month_start(day)] += amount

    plan = PlanVersion.objects.get(kind=PlanKind.TOP_DOWN)

    assert sorted(booked) == TIMELINE.history_months
    assert [str(weight) for weight in learn_seasonality(booked)] == plan.seasonality.weights


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
    seller_total = Quota.objects.filter(allocation=allocation, person__carries_quota=True).aggregate(total=Sum("amount_minor"))["total"]
    assert seller_total == quota_domain.cushioned_months([plan.total_target_minor], 500, "EUR")[0]


def test_quotas_follow_each_sellers_booked_history(small_demo):
    # the seller with the most booked history in the largest renewal bucket carries its largest quota there
    allocation = QuotaAllocation.objects.get()
    bucket = max(allocation.plan.buckets.filter(motion="renewal"), key=lambda b: b.target_minor)
    averages = history.seller_monthly_averages(condition=history.bucket_filter(bucket))
    quotas = dict(
        Quota.objects.filter(allocation=allocation, bucket=bucket, person__carries_quota=True)
        .values("person_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("person_id", "total")
    )
    established = {seller: average for seller, (average, months) in averages.items() if months >= 12 and seller in quotas}

    assert established
    assert max(quotas, key=quotas.get) == max(established, key=established.get)


def test_new_hires_ramp_and_carry_nothing_before_they_start(small_demo):
    allocation = QuotaAllocation.objects.get()
    future_hire = Person.objects.filter(carries_quota=True, hire_date__gt=TIMELINE.plan_start).order_by("hire_date").first()
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


def test_commits_for_every_seller_and_manager_for_the_plan_so_far_and_three_months_ahead(small_demo):
    months = TIMELINE.commit_months
    allocation = QuotaAllocation.objects.get()
    committers = Person.objects.filter(is_active=True, role__in=["seller", "manager"])

    assert months == month_range(TIMELINE.plan_start, 14)
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
    seller_quota = Quota.objects.filter(allocation=allocation, month__in=months, person__carries_quota=True).aggregate(
        t=Sum("amount_minor")
    )["t"]
    seller_commits = Commit.objects.filter(person__carries_quota=True).aggregate(t=Sum("amount_minor"))["t"]
    assert seller_quota * 85 // 100 < seller_commits < seller_quota


def test_results_cover_every_plan_month_to_as_of_and_none_after(small_demo):
    booked_months = {
        month_start(day) for day in ResultLine.objects.filter(measure="booked").values_list("occurred_on", flat=True).distinct()
    }
    span = ResultLine.objects.aggregate(first=Min("occurred_on"), last=Max("occurred_on"))

    assert booked_months == {*TIMELINE.history_months, *month_range(TIMELINE.plan_start, 11)}
    assert span["first"] >= TIMELINE.history_start
    assert span["last"] <= AS_OF
    assert set(ResultLine.objects.values_list("kind", flat=True).distinct()) == {"booking", "renewal", "invoice", "credit_note", "churn"}
    assert ResultLine.objects.filter(share_bp__lt=10_000).exists()  # split credits


def test_results_arrive_in_one_committed_batch_per_iso_week(small_demo):
    batches = ImportBatch.objects.filter(source=catalog.RESULTS_SOURCE)
    weeks = defaultdict(set)
    for batch_id, day in ResultLine.objects.values_list("batch_id", "occurred_on").distinct():
        weeks[batch_id].add(iso_week_start(day))

    assert set(batches.values_list("status", "channel").distinct()) == {("committed", "api")}
    assert all(len(mondays) == 1 for mondays in weeks.values())
    assert len({next(iter(mondays)) for mondays in weeks.values()}) == batches.count() == len(weeks)
    assert batches.aggregate(total=Sum("lines_created"))["total"] == ResultLine.objects.values("external_id").distinct().count()
    # received on the Monday after the week, never in the future
    for batch in batches:
        monday = next(iter(weeks[batch.pk]))
        assert batch.created_at.date() <= monday + timedelta(days=7)
        assert batch.created_at.date() > monday or monday == iso_week_start(timezone.localdate())


def test_rollups_match_a_rebuild_from_the_lines(small_demo):
    assert rollups_compare() == []


def test_history_reads_the_booked_result_lines(small_demo):
    by_month = defaultdict(int)
    for day, amount in ResultLine.objects.filter(measure="booked").values_list("occurred_on", "amount_minor"):
        by_month[month_start(day)] += amount
    bucket = PlanVersion.objects.get(kind=PlanKind.TOP_DOWN).buckets.filter(motion="new", region__isnull=False).first()
    in_bucket = defaultdict(int)
    for day, amount in (
        ResultLine.objects.filter(measure="booked").filter(history.bucket_filter(bucket)).values_list("occurred_on", "amount_minor")
    ):
        in_bucket[month_start(day)] += amount

    assert history.monthly_totals() == dict(by_month)
    assert history.monthly_totals(start=TIMELINE.history_start, end=TIMELINE.history_end) == {
        month: by_month[month] for month in TIMELINE.history_months
    }
    assert history.monthly_totals(condition=history.bucket_filter(bucket)) == {m: a for m, a in in_bucket.items() if a}


def test_contracts_hold_their_constraints_and_renewals_link(small_demo):
    contracts = Contract.objects.select_related("renews")
    renewals = [contract for contract in contracts if contract.renews_id]
    renewed = {contract.renews_id for contract in renewals}
    lost = [c for c in contracts if c.ends_on <= AS_OF and c.pk not in renewed]
    churn = {
        (customer_id, day, -amount)
        for customer_id, day, amount in ResultLine.objects.filter(kind="churn")
        .values("external_id")
        .annotate(customer=Min("customer_id"), day=Min("occurred_on"), amount=Min("line_amount_minor"))
        .values_list("customer", "day", "amount")
    }

    assert contracts.count() > 300
    assert contracts.values("source", "external_id").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert all(c.ends_on >= c.starts_on and c.amount_minor > 0 and c.source == catalog.RESULTS_SOURCE for c in contracts)
    assert {c.billing_period for c in contracts} == {"annual", "monthly"}
    assert renewals
    for contract in renewals:
        assert contract.renews.customer_id == contract.customer_id
        assert contract.renews.product_line_id == contract.product_line_id
        assert contract.starts_on == contract.renews.ends_on + timedelta(days=1)
    assert {(c.customer_id, c.ends_on, c.amount_minor * (12 if c.billing_period == "monthly" else 1)) for c in lost} == churn
    assert any(r.amount_minor > r.renews.amount_minor for r in renewals)  # upgraded at renewal
    assert any(r.amount_minor < r.renews.amount_minor for r in renewals)  # downgraded


def test_demo_logins_share_the_published_password(small_demo):
    users = {user.username: user for user in get_user_model().objects.filter(username__in=catalog.LOGINS)}

    assert sorted(users) == sorted(catalog.LOGINS)
    assert all(user.check_password(catalog.PASSWORD) for user in users.values())
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert not users["executive"].is_superuser
    assert users["executive"].person.role == "executive"
    assert users["seller"].person.manager == users["manager"].person
    assert [login.username for login in small_demo.logins] == list(catalog.LOGINS)

from datetime import date

import pytest
from django.db.models import Sum

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.planning.services import plan_create, plan_revise
from equipoise.quotas.models import AllocationState, Commit, Quota, QuotaAdjustment, QuotaAllocation
from equipoise.quotas.services import allocation_lock, commit_upsert, quota_adjust, quota_allocate


def _total(allocation, person, **filters):
    return Quota.objects.filter(allocation=allocation, person=person, **filters).aggregate(total=Sum("amount_minor"))["total"] or 0


def test_allocating_a_draft_plan_is_refused(org):
    draft = plan_create(actor=org.executive, name="Draft", start_month=date(2027, 1, 1))
    with pytest.raises(ApplicationError, match="only an approved plan") as error:
        quota_allocate(actor=org.executive, plan=draft)
    assert error.value.field == "plan"
    assert QuotaAllocation.objects.count() == 0


def test_ramp_longer_than_the_horizon_is_refused(org, approved_plan):
    with pytest.raises(ApplicationError, match="longer than") as error:
        quota_allocate(actor=org.executive, plan=approved_plan, ramp_bp=[5000] * 25)
    assert error.value.field == "ramp"
    assert QuotaAllocation.objects.count() == 0
    assert Quota.objects.count() == 0


def test_only_executives_and_admins_allocate(org, approved_plan):
    for user in (org.manager, org.seller, org.finance):
        with pytest.raises(AccessDenied):
            quota_allocate(actor=user, plan=approved_plan)
    assert QuotaAllocation.objects.count() == 0


def test_territories_decide_who_carries_a_bucket(org, approved_plan):
    allocation = quota_allocate(actor=org.executive, plan=approved_plan)
    south_new = approved_plan.buckets.get(region=org.south)
    assert _total(allocation, org.olga, bucket=south_new) == 40_000_000
    assert _total(allocation, org.sam, bucket=south_new) == 0
    sam, sara = _total(allocation, org.sam), _total(allocation, org.sara)
    assert sam + sara == 80_000_000
    assert abs(sam - sara) <= 48  # at most a cent per bucket-month apart


def test_ramp_shifts_quota_to_ramped_sellers_peers(org, approved_plan):
    org.sara.hire_date = date(2027, 1, 15)
    org.sara.save()
    allocation = quota_allocate(actor=org.executive, plan=approved_plan, ramp_bp=[2500, 5000])
    january = date(2027, 1, 1)
    sam, sara = _total(allocation, org.sam, month=january), _total(allocation, org.sara, month=january)
    assert sam + sara == _total(allocation, org.maria, month=january)
    assert sara * 4 == sam or abs(sara * 4 - sam) <= 4  # 25% of a full share, to the cent
    assert _total(allocation, org.sara, month=date(2027, 3, 1)) == _total(allocation, org.sam, month=date(2027, 3, 1))


def test_manual_adjustment_needs_a_reason_and_keeps_the_team_total(org, approved_plan):
    allocation = quota_allocate(actor=org.executive, plan=approved_plan, cushion_bp_by_level=[0, 1000])
    bucket = approved_plan.buckets.get(region=org.north, motion="new")
    month = date(2027, 2, 1)
    team_before = _total(allocation, org.maria, bucket=bucket, month=month)
    sellers_before = _total(allocation, org.sam, bucket=bucket, month=month) + _total(allocation, org.sara, bucket=bucket, month=month)
    with pytest.raises(ApplicationError, match="reason is required"):
        quota_adjust(actor=org.executive, allocation=allocation, person=org.sam, bucket=bucket, month=month, amount_minor=1, reason=" ")
    quota_adjust(
        actor=org.executive,
        allocation=allocation,
        person=org.sam,
        bucket=bucket,
        month=month,
        amount_minor=1_000_000,
        reason="Big renewal moved",
    )
    assert _total(allocation, org.sam, bucket=bucket, month=month) == 1_000_000
    assert (
        _total(allocation, org.sam, bucket=bucket, month=month) + _total(allocation, org.sara, bucket=bucket, month=month) == sellers_before
    )
    assert _total(allocation, org.maria, bucket=bucket, month=month) == team_before
    adjustment = QuotaAdjustment.objects.get()
    assert (adjustment.changed_by, adjustment.reason, adjustment.new_amount_minor) == (org.executive, "Big renewal moved", 1_000_000)


def test_adjusting_a_manager_resplits_their_team(org, approved_plan):
    allocation = quota_allocate(actor=org.executive, plan=approved_plan)
    bucket = approved_plan.buckets.get(region=org.north, motion="new")
    month = date(2027, 1, 1)
    # Omar's team has no North quota, so moving Maria's North quota is refused rather than invented.
    with pytest.raises(ApplicationError, match="only one carrying"):
        quota_adjust(
            actor=org.executive, allocation=allocation, person=org.maria, bucket=bucket, month=month, amount_minor=1, reason="test"
        )


def test_locked_quotas_cannot_be_adjusted_and_archive_with_the_plan(org, approved_plan):
    allocation = quota_allocate(actor=org.executive, plan=approved_plan)
    allocation_lock(actor=org.executive, allocation=allocation)
    bucket = approved_plan.buckets.first()
    with pytest.raises(ApplicationError, match="locked"):
        quota_adjust(
            actor=org.executive, allocation=allocation, person=org.sam, bucket=bucket, month=date(2027, 1, 1), amount_minor=1, reason="x"
        )
    with pytest.raises(ApplicationError, match="locked"):
        quota_allocate(actor=org.executive, plan=approved_plan)
    from equipoise.planning.services import plan_approve

    plan_approve(actor=org.executive, plan=plan_revise(actor=org.executive, plan=approved_plan))
    allocation.refresh_from_db()
    assert allocation.state == AllocationState.ARCHIVED


def test_commits_are_scoped(org):
    commit = commit_upsert(actor=org.seller, person_id=org.sam.pk, month=date(2027, 1, 9), motion="new", amount_minor=500, currency="EUR")
    assert commit.month == date(2027, 1, 1)
    again = commit_upsert(actor=org.seller, person_id=org.sam.pk, month=date(2027, 1, 1), motion="new", amount_minor=700, currency="EUR")
    assert again.pk == commit.pk and Commit.objects.count() == 1
    with pytest.raises(NotFound) as error:
        commit_upsert(actor=org.seller, person_id=org.olga.pk, month=date(2027, 1, 1), motion="new", amount_minor=1, currency="EUR")
    assert error.value.field == "person"
    with pytest.raises(NotFound):
        commit_upsert(actor=org.manager, person_id=org.olga.pk, month=date(2027, 1, 1), motion="new", amount_minor=1, currency="EUR")
    commit_upsert(actor=org.manager, person_id=org.sara.pk, month=date(2027, 1, 1), motion="renewal", amount_minor=1, currency="EUR")
    with pytest.raises(ApplicationError, match="cannot be negative"):
        commit_upsert(actor=org.seller, person_id=org.sam.pk, month=date(2027, 2, 1), motion="new", amount_minor=-1, currency="EUR")
    assert Commit.objects.count() == 2
    assert not Commit.objects.filter(person=org.olga).exists()

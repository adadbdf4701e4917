from datetime import date

import pytest

from equipoise.core.errors import AccessDenied, ApplicationError
from equipoise.planning.models import PlanMonth, PlanState, PlanVersion
from equipoise.planning.services import (
    bucket_add,
    bucket_delete,
    plan_approve,
    plan_archive,
    plan_create,
    plan_month_set,
    plan_reconciliation,
    plan_revise,
    plan_update,
    seasonality_create,
)


def _draft(org, total=1_200_000):
    return plan_create(actor=org.executive, name="Draft", start_month=date(2027, 1, 1), total_target_minor=total)


def test_share_buckets_phase_into_24_months_that_reconcile(org):
    plan = _draft(org, total=1_000_001)
    bucket_add(actor=org.executive, plan=plan, region=org.north, target_share_bp=3333)
    bucket_add(actor=org.executive, plan=plan, region=org.south, target_share_bp=6667)
    check = plan_reconciliation(plan)
    assert check.is_reconciled
    assert PlanMonth.objects.filter(plan=plan).count() == 48
    assert sum(PlanMonth.objects.filter(plan=plan).values_list("amount_minor", flat=True)) == 1_000_001


def test_changing_the_total_rephases_share_buckets(org):
    plan = _draft(org)
    bucket = bucket_add(actor=org.executive, plan=plan, region=org.north, target_share_bp=10_000)
    plan_update(actor=org.executive, plan=plan, total_target_minor=2_400_000)
    bucket.refresh_from_db()
    assert bucket.target_minor == 2_400_000
    assert set(bucket.months.values_list("amount_minor", flat=True)) == {100_000}


def test_editing_a_month_moves_the_bucket_target_and_unreconciles_the_plan(org):
    plan = _draft(org)
    bucket = bucket_add(actor=org.executive, plan=plan, region=org.north, target_minor=1_200_000)
    plan_month_set(actor=org.executive, plan=plan, bucket_id=bucket.pk, month=date(2027, 3, 1), amount_minor=150_000)
    bucket.refresh_from_db()
    assert bucket.target_minor == 1_300_000  # 23 × 50,000 + 150,000
    check = plan_reconciliation(plan)
    assert (check.is_reconciled, check.unassigned_minor) == (False, -100_000)
    with pytest.raises(ApplicationError, match=r"add up to EUR 13,000\.00 but the total target is EUR 12,000\.00") as error:
        plan_approve(actor=org.executive, plan=plan)
    assert error.value.field == "total_target"
    plan.refresh_from_db()
    assert plan.state == PlanState.DRAFT


def test_shares_must_sum_to_100_percent_to_approve(org):
    plan = _draft(org)
    bucket_add(actor=org.executive, plan=plan, region=org.north, target_share_bp=4000)
    bucket_add(actor=org.executive, plan=plan, region=org.south, target_share_bp=5000)
    with pytest.raises(ApplicationError, match=r"add up to 90\.00%") as error:
        plan_approve(actor=org.executive, plan=plan)
    assert error.value.field == "target_share"
    with pytest.raises(ApplicationError, match="more than 100%"):
        bucket_add(actor=org.executive, plan=plan, motion="new", target_share_bp=2000)
    assert plan.buckets.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"horizon_months": 40}, "horizon_months"),
        ({"horizon_months": 6}, "horizon_months"),
        ({"total_target_minor": -1}, "total_target"),
        ({"currency": "euro"}, "currency"),
        ({"name": "  "}, "name"),
        ({"kind": "wishful"}, "kind"),
    ],
)
def test_bad_plan_headers_are_refused_and_nothing_is_created(org, kwargs, field):
    arguments = {"actor": org.executive, "name": "Bad", "start_month": date(2027, 1, 1), **kwargs}
    with pytest.raises(ApplicationError) as error:
        plan_create(**arguments)
    assert error.value.field == field
    assert PlanVersion.objects.count() == 0


def test_negative_bucket_target_is_refused(org):
    plan = _draft(org)
    with pytest.raises(ApplicationError, match="cannot be negative") as error:
        bucket_add(actor=org.executive, plan=plan, region=org.north, target_minor=-5)
    assert error.value.field == "target"
    assert plan.buckets.count() == 0


def test_approved_plans_are_read_only_and_revise_copies_them(org, approved_plan):
    bucket = approved_plan.buckets.first()
    with pytest.raises(ApplicationError, match="read-only") as error:
        plan_month_set(actor=org.executive, plan=approved_plan, bucket_id=bucket.pk, month=date(2027, 1, 1), amount_minor=1)
    assert error.value.field == "state"
    with pytest.raises(ApplicationError, match="read-only"):
        bucket_delete(actor=org.executive, bucket=bucket)
    months_before = list(PlanMonth.objects.filter(plan=approved_plan).values_list("amount_minor", flat=True))
    draft = plan_revise(actor=org.executive, plan=approved_plan)
    assert draft.state == PlanState.DRAFT
    assert draft.revised_from == approved_plan
    assert list(PlanMonth.objects.filter(plan=draft).values_list("amount_minor", flat=True)) == months_before
    assert draft.buckets.count() == approved_plan.buckets.count()


def test_approving_a_new_version_archives_the_previous_one(org, approved_plan):
    draft = plan_revise(actor=org.executive, plan=approved_plan)
    plan_approve(actor=org.executive, plan=draft)
    approved_plan.refresh_from_db()
    assert approved_plan.state == PlanState.ARCHIVED
    assert PlanVersion.objects.filter(state=PlanState.APPROVED).get() == draft


def test_sellers_managers_cannot_edit_plans(org, approved_plan):
    for user in (org.seller, org.manager, org.outsider):
        with pytest.raises(AccessDenied):
            plan_create(actor=user, name="Mine", start_month=date(2027, 1, 1))
    with pytest.raises(AccessDenied):
        plan_archive(actor=org.finance, plan=approved_plan)
    assert PlanVersion.objects.count() == 1


def test_history_records_who_changed_what_and_why(org):
    plan = _draft(org)
    bucket = bucket_add(actor=org.executive, plan=plan, region=org.north, target_minor=1_200_000)
    plan_month_set(actor=org.executive, plan=plan, bucket_id=bucket.pk, month=date(2027, 2, 1), amount_minor=0, reason="Deal slipped")
    record = PlanMonth.history.filter(bucket_id=bucket.pk, month=date(2027, 2, 1)).order_by("-history_date").first()
    assert (record.history_user, record.history_change_reason, record.amount_minor) == (org.executive, "Deal slipped", 0)
    assert plan.history.first().history_user == org.executive


def test_seasonality_learned_needs_enough_history(org):
    with pytest.raises(ApplicationError, match="at least 12 months"):
        seasonality_create(actor=org.executive, name="Too short", kind="learned", history={date(2026, 1, 1): 1})
    profile = seasonality_create(actor=org.executive, name="Q4 heavy", kind="manual", weights=[1] * 9 + [2, 2, 3])
    assert profile.weights[-1] == "2.2500"  # 3 of 16 weight units, normalised to average 1


@pytest.mark.parametrize("amount_minor", [10**16 + 1, 10**30])
def test_amounts_beyond_the_limit_are_refused_everywhere_and_change_nothing(org, amount_minor):
    # given a draft with one bucket
    plan = _draft(org)
    bucket = bucket_add(actor=org.executive, plan=plan, region=org.north, target_minor=1_200_000)
    months_before = list(PlanMonth.objects.filter(plan=plan).order_by("id").values_list("amount_minor", flat=True))
    # when someone sets a total, a bucket target or a month beyond the limit, then each is refused by field
    with pytest.raises(ApplicationError) as create_error:
        plan_create(actor=org.executive, name="Typo", start_month=date(2027, 1, 1), total_target_minor=amount_minor)
    assert create_error.value.field == "total_target"
    with pytest.raises(ApplicationError) as update_error:
        plan_update(actor=org.executive, plan=plan, total_target_minor=amount_minor)
    assert update_error.value.field == "total_target"
    with pytest.raises(ApplicationError) as bucket_error:
        bucket_add(actor=org.executive, plan=plan, region=org.south, target_minor=amount_minor)
    assert bucket_error.value.field == "target"
    with pytest.raises(ApplicationError) as month_error:
        plan_month_set(actor=org.executive, plan=plan, bucket_id=bucket.pk, month=date(2027, 1, 1), amount_minor=amount_minor)
    assert month_error.value.field == "amount"
    # and nothing changed
    plan.refresh_from_db()
    assert PlanVersion.objects.count() == 1
    assert plan.total_target_minor == 1_200_000
    assert plan.buckets.count() == 1
    assert list(PlanMonth.objects.filter(plan=plan).order_by("id").values_list("amount_minor", flat=True)) == months_before


def test_the_largest_allowed_amount_is_accepted(org):
    plan = plan_create(actor=org.executive, name="Big", start_month=date(2027, 1, 1), total_target_minor=10**16)
    assert plan.total_target_minor == 10**16

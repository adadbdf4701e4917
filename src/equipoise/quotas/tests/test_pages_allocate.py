"""Allocating, locking and adjusting quotas by hand through the pages; bad input changes nothing."""

from datetime import date

import pytest
from django.db.models import Sum

from equipoise.planning.services import plan_create
from equipoise.quotas.models import AllocationState, Quota, QuotaAdjustment, QuotaAllocation
from equipoise.quotas.services import allocation_lock, quota_allocate

JANUARY = date(2027, 1, 1)


def _post_allocate(client, plan, **fields):
    data = {"plan": plan.pk, "method": "equal", "cushion": "", "ramp": "", "reason": "", **fields}
    return client.post("/quotas/allocate/", data)


def _quota(allocation, person, **filters):
    return Quota.objects.filter(allocation=allocation, person=person, **filters).aggregate(total=Sum("amount_minor"))["total"] or 0


def _cell(allocation, person, bucket, month=JANUARY):
    return Quota.objects.get(allocation=allocation, person=person, bucket=bucket, month=month).amount_minor


def _snapshot():
    return sorted(Quota.objects.values_list("person_id", "bucket_id", "month", "amount_minor"))


@pytest.fixture
def north_new(org, approved_plan):
    return approved_plan.buckets.get(region=org.north, motion="new")


@pytest.fixture
def allocation(org, approved_plan):
    return quota_allocate(actor=org.executive, plan=approved_plan)


# --- allocate -------------------------------------------------------------------------------------


def test_allocate_page_offers_the_approved_plan(client, org, approved_plan):
    client.force_login(org.executive)

    response = client.get("/quotas/allocate/")

    assert response.status_code == 200
    assert response.context["form"]["plan"].value() == approved_plan.pk
    assert "FY27-28 plan — Top-down, from Jan 2027" in response.content.decode()


@pytest.mark.parametrize("persona", ["manager", "seller", "finance", "outsider"])
def test_only_executives_and_admins_may_allocate(client, org, approved_plan, persona):
    client.force_login(getattr(org, persona))

    page = client.get("/quotas/allocate/")
    post = _post_allocate(client, approved_plan)

    assert page.status_code == 403
    assert post.status_code == 403
    assert QuotaAllocation.objects.count() == 0
    assert 'href="/quotas/allocate/"' not in client.get("/quotas/").content.decode()


def test_admin_allocates_with_cushion_and_ramp(client, org, approved_plan):
    client.force_login(org.admin)

    response = _post_allocate(client, approved_plan, method="potential", cushion="0, 10", ramp="25, 50, 75")

    allocation = QuotaAllocation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/quotas/?allocation={allocation.pk}"
    assert allocation.method == "potential"
    assert allocation.cushion_bp_by_level == [0, 1000]
    assert allocation.ramp_bp == [2500, 5000, 7500]
    assert _quota(allocation, org.vp) == 120_000_000
    assert _quota(allocation, org.sam) + _quota(allocation, org.sara) == 88_000_000
    assert "Quotas allocated from “FY27-28 plan” by territory potential." in client.get(response["Location"]).content.decode()


def test_allocating_a_draft_plan_names_the_plan_and_creates_nothing(client, org, approved_plan):
    draft = plan_create(actor=org.executive, name="Draft idea", start_month=JANUARY)
    client.force_login(org.executive)

    response = _post_allocate(client, draft)

    assert response.status_code == 400
    assert response.context["form"].errors["plan"] == ["“Draft idea” is draft: only an approved plan can be allocated."]
    assert QuotaAllocation.objects.count() == 0
    assert Quota.objects.count() == 0


def test_a_ramp_longer_than_the_horizon_is_refused_and_creates_nothing(client, org, approved_plan):
    client.force_login(org.executive)

    response = _post_allocate(client, approved_plan, ramp=", ".join(["10"] * 25))

    assert response.status_code == 400
    assert response.context["form"].errors["ramp"] == ["The ramp lasts 25 months, longer than the plan's 24-month horizon."]
    assert QuotaAllocation.objects.count() == 0
    assert Quota.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"cushion": "five"}, "cushion", "Level 1 is “five”, not a percentage: write numbers such as 0, 5 or 2.5."),
        ({"cushion": "0, 150"}, "cushion", "Cushion at level 2 is 150%; it must be from 0% to 100%."),
        ({"cushion": "2.555"}, "cushion", "Level 1 is 2.555: use at most two decimals, such as 2.25."),
        ({"ramp": "25, 50, 120"}, "ramp", "Ramp month 3 is 120%; each month must be from 0% to 100%."),
        ({"ramp": "-25"}, "ramp", "Ramp month 1 is -25%; each month must be from 0% to 100%."),
        ({"method": "gut-feeling"}, "method", "Select a valid choice. gut-feeling is not one of the available choices."),
    ],
)
def test_bad_numbers_are_named_and_change_nothing(client, org, approved_plan, fields, field, message):
    client.force_login(org.executive)

    response = _post_allocate(client, approved_plan, **fields)

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert QuotaAllocation.objects.count() == 0


def test_a_failed_reallocation_keeps_the_draft_quotas(client, org, approved_plan, allocation):
    before = _snapshot()
    client.force_login(org.executive)

    response = _post_allocate(client, approved_plan, ramp=", ".join(["50"] * 30))

    assert response.status_code == 400
    assert _snapshot() == before
    assert QuotaAllocation.objects.get().ramp_bp == []


def test_an_unknown_plan_id_is_404(client, org, approved_plan):
    client.force_login(org.executive)

    response = client.post("/quotas/allocate/", {"plan": approved_plan.pk + 1000, "method": "equal"})

    assert response.status_code == 404
    assert QuotaAllocation.objects.count() == 0


# --- lock -----------------------------------------------------------------------------------------


def test_lock_asks_for_confirmation_then_locks(client, org, allocation):
    client.force_login(org.executive)

    confirm = client.get(f"/quotas/allocations/{allocation.pk}/lock/")
    allocation.refresh_from_db()
    assert allocation.state == AllocationState.DRAFT
    response = client.post(f"/quotas/allocations/{allocation.pk}/lock/", {"reason": "Board approved"})

    assert confirm.status_code == 200
    assert "Lock the quotas of “FY27-28 plan”?" in confirm.content.decode()
    assert response.status_code == 302
    allocation.refresh_from_db()
    assert allocation.state == AllocationState.LOCKED
    assert allocation.history.first().history_change_reason == "Board approved"


def test_locking_twice_says_so(client, org, allocation):
    allocation_lock(actor=org.executive, allocation=allocation)
    client.force_login(org.executive)

    response = client.post(f"/quotas/allocations/{allocation.pk}/lock/", {})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["State: These quotas are already locked."]


def test_a_manager_cannot_lock(client, org, allocation):
    client.force_login(org.manager)

    response = client.post(f"/quotas/allocations/{allocation.pk}/lock/", {})

    assert response.status_code == 403
    allocation.refresh_from_db()
    assert allocation.state == AllocationState.DRAFT


def test_locked_allocation_cannot_be_reallocated(client, org, approved_plan, allocation):
    allocation_lock(actor=org.executive, allocation=allocation)
    before = _snapshot()
    client.force_login(org.executive)

    response = _post_allocate(client, approved_plan, cushion="5")

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["State: Quotas for this plan are locked; revise the plan to allocate again."]
    assert _snapshot() == before


# --- manual adjustment ----------------------------------------------------------------------------


def _adjust(client, allocation, person, bucket, **fields):
    data = {"bucket": bucket.pk, "month": "2027-01", "amount": "20,000.00", "reason": "", **fields}
    return client.post(f"/quotas/allocations/{allocation.pk}/people/{person.pk}/adjust/", data)


def test_manual_adjustment_requires_a_reason_and_changes_nothing_without_one(client, org, allocation, north_new):
    before = _snapshot()
    client.force_login(org.executive)

    response = _adjust(client, allocation, org.sam, north_new, reason="   ")

    assert response.status_code == 400
    assert response.context["adjust_form"].errors["reason"] == ["Say why this quota is set by hand: a reason is required."]
    assert QuotaAdjustment.objects.count() == 0
    assert _snapshot() == before


def test_manual_adjustment_keeps_the_managers_total_and_is_logged(client, org, allocation, north_new):
    maria_before = _cell(allocation, org.maria, north_new)
    sam_before = _cell(allocation, org.sam, north_new)
    client.force_login(org.executive)

    response = _adjust(client, allocation, org.sam, north_new, amount="20,000.00", reason="Acme moves to Sam's patch")

    assert response.status_code == 302
    assert response["Location"] == f"/quotas/allocations/{allocation.pk}/people/{org.sam.pk}/?from=2027-01&to=2027-03"
    assert _cell(allocation, org.sam, north_new) == 2_000_000
    assert _cell(allocation, org.maria, north_new) == maria_before
    assert _cell(allocation, org.sam, north_new) + _cell(allocation, org.sara, north_new) == maria_before
    adjustment = QuotaAdjustment.objects.get()
    assert (adjustment.person, adjustment.old_amount_minor, adjustment.new_amount_minor) == (org.sam, sam_before, 2_000_000)
    assert adjustment.changed_by == org.executive
    page = client.get(response["Location"]).content.decode()
    assert "Acme moves to Sam&#x27;s patch" in page
    assert "20,000.00" in page
    assert "Vera VP" in page


def test_adjustment_log_is_on_the_allocate_page(client, org, allocation, north_new):
    client.force_login(org.executive)
    _adjust(client, allocation, org.sam, north_new, reason="Territory swap")

    page = client.get("/quotas/allocate/").content.decode()

    assert "Territory swap" in page
    assert "→ 20,000.00" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "lots"}, "amount", "'lots' is not an amount: write digits such as 1250000 or 1,250,000.00."),
        ({"amount": "1.234"}, "amount", "'1.234' has more than 2 decimals, the most EUR allows."),
        ({"amount": "-1"}, "amount", "A quota cannot be negative."),
        ({"amount": "900000"}, "amount", None),  # more than the team holds: the service's message
        ({"month": "2031-01"}, "month", "Select a valid choice. 2031-01 is not one of the available choices."),
    ],
)
def test_bad_adjustments_are_named_and_change_nothing(client, org, allocation, north_new, fields, field, message):
    before = _snapshot()
    client.force_login(org.executive)

    response = _adjust(client, allocation, org.sam, north_new, reason="Because", **fields)

    assert response.status_code == 400
    errors = response.context["adjust_form"].errors[field]
    if message is None:
        assert errors[0].startswith("The new quota exceeds what the team holds in total")
    else:
        assert errors == [message]
    assert _snapshot() == before
    assert QuotaAdjustment.objects.count() == 0


# A seller does not see a draft allocation at all (see test_a_seller_sees_quotas_once_locked).
@pytest.mark.parametrize(("persona", "status"), [("manager", 403), ("finance", 403), ("seller", 404)])
def test_only_executives_and_admins_adjust(client, org, allocation, north_new, persona, status):
    before = _snapshot()
    client.force_login(getattr(org, persona))

    response = _adjust(client, allocation, org.sam, north_new, reason="I want more")

    assert response.status_code == status
    assert _snapshot() == before


def test_a_seller_adjusting_someone_else_gets_404(client, org, allocation, north_new):
    before = _snapshot()
    client.force_login(org.seller)

    response = _adjust(client, allocation, org.olga, north_new, reason="Because")

    assert response.status_code == 404
    assert _snapshot() == before


def test_locked_quotas_offer_no_adjustment_and_refuse_one(client, org, allocation, north_new):
    allocation_lock(actor=org.executive, allocation=allocation)
    before = _snapshot()
    client.force_login(org.executive)

    page = client.get(f"/quotas/allocations/{allocation.pk}/people/{org.sam.pk}/")
    response = _adjust(client, allocation, org.sam, north_new, reason="Late change")

    assert page.context["adjust_form"] is None
    assert "These quotas are locked and can no longer be set by hand." in page.content.decode()
    assert response.status_code == 400
    assert response.context["adjust_form"] is None
    assert "State: These quotas are locked and cannot be adjusted." in response.content.decode()
    assert _snapshot() == before

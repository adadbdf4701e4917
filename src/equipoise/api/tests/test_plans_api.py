"""Plans through the API: list, detail with exact monthly amounts, create with buckets, approve, edit; bad input and scope."""

from datetime import date

import pytest

from equipoise.org.models import Customer
from equipoise.planning.models import PlanBucket, PlanMonth, PlanState, PlanVersion
from equipoise.planning.services import bucket_add, plan_create


@pytest.fixture
def draft(org):
    """A draft that reconciles: 600,000.00 EUR over 12 months, North new 2/3 and South new 1/3 by share."""
    plan = plan_create(
        actor=org.executive, name="Draft FY27", start_month=date(2027, 1, 1), horizon_months=12, total_target_minor=60_000_000
    )
    bucket_add(actor=org.executive, plan=plan, region=org.north, motion="new", target_share_bp=6_667)
    bucket_add(actor=org.executive, plan=plan, region=org.south, motion="new", target_share_bp=3_333)
    return plan


def _snapshot():
    return (
        PlanVersion.objects.count(),
        PlanBucket.objects.count(),
        PlanMonth.objects.count(),
        sorted(PlanMonth.objects.values_list("id", "amount_minor")),
        sorted(PlanVersion.objects.values_list("id", "state", "total_target_minor")),
    )


# --- reading ---------------------------------------------------------------------------------------


def test_plan_list_is_paginated_and_filtered(org, approved_plan, draft, call):
    everything = call(org.executive, "get", "/api/v1/plans").json()
    drafts = call(org.executive, "get", "/api/v1/plans", {"state": "draft"}).json()
    first_page = call(org.executive, "get", "/api/v1/plans", {"limit": 1, "offset": 0}).json()
    scenarios = call(org.executive, "get", "/api/v1/plans", {"kind": "scenario"}).json()

    assert everything["count"] == 2
    assert [plan["id"] for plan in everything["items"]] == [draft.pk, approved_plan.pk]
    assert drafts == {"count": 1, "items": [everything["items"][0]]}
    assert first_page["count"] == 2 and [plan["id"] for plan in first_page["items"]] == [draft.pk]
    assert scenarios == {"count": 0, "items": []}
    approved = everything["items"][1]
    assert approved["state"] == "approved"
    assert approved["start_month"] == "2027-01"
    assert approved["end_month"] == "2028-12"
    assert approved["total_target_minor"] == 120_000_000
    assert approved["total_target"] == "1200000.00"
    assert approved["currency"] == "EUR"


def test_plan_list_with_an_unknown_kind_is_400_naming_the_field(org, call):
    response = call(org.executive, "get", "/api/v1/plans", {"kind": "wishful"})

    assert response.status_code == 400
    assert response.json()["field"] == "kind"


def test_plan_detail_amounts_are_exact_and_reconcile(org, approved_plan, call):
    response = call(org.executive, "get", f"/api/v1/plans/{approved_plan.pk}")

    assert response.status_code == 200
    body = response.json()
    assert [bucket["label"] for bucket in body["buckets"]] == ["North · New customers", "North · Renewal", "South · New customers"]
    north_new, north_renewal, south_new = body["buckets"]
    # 50,000,000 over 24 flat months: 8 months carry the 8 leftover cents.
    assert [m["amount_minor"] for m in north_new["months"]] == [2_083_334] * 8 + [2_083_333] * 16
    assert north_new["months"][0] == {"month": "2027-01", "amount_minor": 2_083_334, "amount": "20833.34"}
    assert [m["amount_minor"] for m in north_renewal["months"]] == [1_250_000] * 24
    assert [m["amount_minor"] for m in south_new["months"]] == [1_666_667] * 16 + [1_666_666] * 8
    for bucket, target in ((north_new, 50_000_000), (north_renewal, 30_000_000), (south_new, 40_000_000)):
        assert sum(m["amount_minor"] for m in bucket["months"]) == bucket["total_minor"] == bucket["target_minor"] == target
        assert sum(y["amount_minor"] for y in bucket["fiscal_years"]) == target
    assert len(body["months"]) == 24
    assert body["months"][0] == {"month": "2027-01", "amount_minor": 5_000_001, "amount": "50000.01"}
    assert body["months"][-1] == {"month": "2028-12", "amount_minor": 4_999_999, "amount": "49999.99"}
    assert sum(m["amount_minor"] for m in body["months"]) == body["total_minor"] == 120_000_000
    assert body["total"] == "1200000.00"
    assert body["fiscal_years"] == [
        {"fiscal_year": "FY2027", "first_month": "2027-01", "last_month": "2027-12", "amount_minor": 60_000_008, "amount": "600000.08"},
        {"fiscal_year": "FY2028", "first_month": "2028-01", "last_month": "2028-12", "amount_minor": 59_999_992, "amount": "599999.92"},
    ]
    assert body["reconciliation"] == {
        "total_target_minor": 120_000_000,
        "buckets_minor": 120_000_000,
        "months_minor": 120_000_000,
        "unassigned_minor": 0,
        "share_total_bp": None,
        "is_reconciled": True,
    }


def test_bucket_list(org, approved_plan, call):
    response = call(org.executive, "get", f"/api/v1/plans/{approved_plan.pk}/buckets")

    assert response.status_code == 200
    assert [(b["region_code"], b["motion"], b["target_minor"], b["target"]) for b in response.json()] == [
        ("NORTH", "new", 50_000_000, "500000.00"),
        ("NORTH", "renewal", 30_000_000, "300000.00"),
        ("SOUTH", "new", 40_000_000, "400000.00"),
    ]


@pytest.mark.parametrize("persona", ["seller", "manager", "outsider"])
def test_people_who_do_not_see_the_company_get_404_for_a_plan_and_an_empty_list(org, approved_plan, call, persona):
    user = getattr(org, persona)

    detail = call(user, "get", f"/api/v1/plans/{approved_plan.pk}")
    buckets = call(user, "get", f"/api/v1/plans/{approved_plan.pk}/buckets")
    listing = call(user, "get", "/api/v1/plans")

    assert detail.status_code == 404
    assert detail.json() == {"error": "That plan was not found.", "field": "plan"}
    assert buckets.status_code == 404
    assert listing.json() == {"count": 0, "items": []}


def test_unknown_plan_id_is_404_like_a_hidden_one(org, call):
    response = call(org.executive, "get", "/api/v1/plans/999999")

    assert response.status_code == 404
    assert response.json() == {"error": "That plan was not found.", "field": "plan"}


# --- creating --------------------------------------------------------------------------------------


def test_create_draft_with_buckets(org, call):
    Customer.objects.create(code="ACME", name="Acme", is_named_account=True, home_region=org.north)
    payload = {
        "name": "Top-down FY27-28",
        "kind": "top_down",
        "start_month": "2027-01",
        "horizon_months": 24,
        "currency": "EUR",
        "total_target_minor": 240_000_000,
        "grr_objective_bp": 9_000,
        "nrr_objective_bp": 11_000,
        "max_logo_churn_bp": 800,
        "growth_bp_per_month": 0,
        "buckets": [
            {"region_code": "NORTH", "motion": "new", "target_share_bp": 5_000},
            {"region_code": "SOUTH", "motion": "renewal", "target_share_bp": 3_000},
            {"customer_code": "ACME", "motion": "expansion", "target_share_bp": 2_000},
        ],
    }

    response = call(org.executive, "post", "/api/v1/plans", payload)

    assert response.status_code == 201
    body = response.json()
    plan = PlanVersion.objects.get(pk=body["id"])
    assert (plan.name, plan.state, plan.kind, plan.start_month, plan.horizon_months) == (
        "Top-down FY27-28",
        "draft",
        "top_down",
        date(2027, 1, 1),
        24,
    )
    assert (plan.grr_objective_bp, plan.nrr_objective_bp, plan.max_logo_churn_bp) == (9_000, 11_000, 800)
    assert plan.created_by == org.executive
    assert [(b["region_code"], b["customer_code"], b["motion"], b["target_minor"]) for b in body["buckets"]] == [
        ("NORTH", None, "new", 120_000_000),
        ("SOUTH", None, "renewal", 72_000_000),
        (None, "ACME", "expansion", 48_000_000),
    ]
    assert body["total_minor"] == 240_000_000
    assert body["reconciliation"]["is_reconciled"] is True
    assert PlanMonth.objects.filter(plan=plan).count() == 3 * 24


def test_create_defaults_to_the_company_currency_and_no_buckets(org, call):
    response = call(org.finance, "post", "/api/v1/plans", {"name": "Scenario", "kind": "scenario", "start_month": "2027-07"})

    assert response.status_code == 201
    body = response.json()
    assert (body["currency"], body["horizon_months"], body["start_month"], body["end_month"]) == ("EUR", 24, "2027-07", "2029-06")
    assert body["buckets"] == [] and body["total_minor"] == 0


BASE = {"name": "Bad plan", "start_month": "2027-01", "total_target_minor": 100_000_000}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"buckets": [{"region_code": "NORTH", "motion": "new", "target_minor": -1}]}, "buckets.0.target_minor"),
        ({"total_target_minor": -100}, "total_target_minor"),
        ({"horizon_months": 40}, "horizon_months"),
        ({"horizon_months": 11}, "horizon_months"),
        (
            {"buckets": [{"region_code": "NORTH", "target_share_bp": 6_000}, {"region_code": "SOUTH", "target_share_bp": 5_000}]},
            "buckets.1.target_share_bp",
        ),
        ({"buckets": [{"region_code": "NORTH", "target_share_bp": 10_001}]}, "buckets.0.target_share_bp"),
        (
            {"buckets": [{"region_code": "NORTH", "target_minor": 1}, {"region_code": "ATLANTIS", "target_minor": 1}]},
            "buckets.1.region_code",
        ),
        ({"buckets": [{"product_line_code": "NOPE", "target_minor": 1}]}, "buckets.0.product_line_code"),
        ({"buckets": [{"region_code": "NORTH", "target_minor": 1, "target_share_bp": 100}]}, "buckets.0.target"),
        ({"buckets": [{"region_code": "NORTH", "motion": "upsell", "target_minor": 1}]}, "buckets.0.motion"),
        ({"buckets": [{"region_code": "NORTH", "target_minor": 1}, {"region_code": "NORTH", "target_minor": 2}]}, "buckets.1.bucket"),
        ({"start_month": "2027-13"}, "start_month"),
        ({"start_month": "January"}, "start_month"),
        ({"currency": "eur"}, "currency"),
        ({"kind": "approved"}, "kind"),
        ({"name": "   "}, "name"),
        ({"grr_objective_bp": -5}, "grr_objective_bp"),
        ({"total_target_minor": 12.5}, "total_target_minor"),
    ],
)
def test_bad_plan_input_is_400_naming_the_field_and_creates_nothing(org, approved_plan, call, changes, field):
    before = _snapshot()

    response = call(org.executive, "post", "/api/v1/plans", {**BASE, **changes})

    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field
    assert response.json()["error"]
    assert _snapshot() == before


def test_unknown_region_message_says_what_is_wrong(org, call):
    response = call(org.executive, "post", "/api/v1/plans", {**BASE, "buckets": [{"region_code": "ATLANTIS", "target_minor": 1}]})

    assert response.json() == {"error": "There is no region with code 'ATLANTIS'.", "field": "buckets.0.region_code"}


@pytest.mark.parametrize("persona", ["seller", "manager", "outsider"])
def test_plan_create_by_someone_who_may_not_plan_is_403_and_creates_nothing(org, call, persona):
    response = call(getattr(org, persona), "post", "/api/v1/plans", {**BASE, "buckets": [{"region_code": "NORTH", "target_minor": 1}]})

    assert response.status_code == 403
    assert response.json() == {"error": "Your role may not create plans."}
    assert PlanVersion.objects.count() == 0


# --- approving -------------------------------------------------------------------------------------


def test_approve_a_reconciled_draft(org, draft, call):
    response = call(org.executive, "post", f"/api/v1/plans/{draft.pk}/approve", {"reason": "board sign-off"})

    assert response.status_code == 200
    assert response.json()["state"] == "approved"
    draft.refresh_from_db()
    assert (draft.state, draft.approved_by) == (PlanState.APPROVED, org.executive)


def test_approve_without_a_body(org, draft, call):
    response = call(org.executive, "post", f"/api/v1/plans/{draft.pk}/approve")

    assert response.status_code == 200
    assert response.json()["state"] == "approved"


def test_approve_unreconciled_is_400_and_the_state_is_unchanged(org, call):
    plan = plan_create(actor=org.executive, name="Short", start_month=date(2027, 1, 1), total_target_minor=100_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.north, target_minor=40_000_000)
    before = _snapshot()

    response = call(org.executive, "post", f"/api/v1/plans/{plan.pk}/approve")

    assert response.status_code == 400
    assert response.json()["field"] == "total_target_minor"
    assert "does not reconcile" in response.json()["error"]
    assert _snapshot() == before
    plan.refresh_from_db()
    assert plan.state == PlanState.DRAFT


def test_approve_by_finance_is_403_and_the_state_is_unchanged(org, draft, call):
    response = call(org.finance, "post", f"/api/v1/plans/{draft.pk}/approve")

    assert response.status_code == 403
    assert response.json() == {"error": "Your role may not approve plans."}
    draft.refresh_from_db()
    assert draft.state == PlanState.DRAFT


def test_approve_by_a_seller_is_404(org, draft, call):
    response = call(org.seller, "post", f"/api/v1/plans/{draft.pk}/approve")

    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.state == PlanState.DRAFT


# --- buckets and months ----------------------------------------------------------------------------


def test_add_a_bucket_to_a_draft(org, call):
    plan = plan_create(actor=org.executive, name="Grow", start_month=date(2027, 1, 1), horizon_months=12, total_target_minor=12_000_000)

    response = call(
        org.executive,
        "post",
        f"/api/v1/plans/{plan.pk}/buckets",
        {"region_code": "SOUTH", "motion": "expansion", "target_minor": 1_200_000},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["plan_id"], body["region_code"], body["motion"], body["target_kind"], body["target_minor"]) == (
        plan.pk,
        "SOUTH",
        "expansion",
        "amount",
        1_200_000,
    )
    assert sorted(PlanMonth.objects.filter(bucket_id=body["id"]).values_list("amount_minor", flat=True)) == [100_000] * 12


def test_add_a_bucket_to_an_approved_plan_is_400_and_changes_nothing(org, approved_plan, call):
    before = _snapshot()

    response = call(
        org.executive, "post", f"/api/v1/plans/{approved_plan.pk}/buckets", {"region_code": "SOUTH", "motion": "renewal", "target_minor": 1}
    )

    assert response.status_code == 400
    assert response.json()["field"] == "state"
    assert _snapshot() == before


def test_change_a_bucket_target(org, draft, call):
    bucket = draft.buckets.get(region=org.south)

    response = call(org.executive, "patch", f"/api/v1/buckets/{bucket.pk}", {"target_minor": 24_000_000, "reason": "South grows"})

    assert response.status_code == 200
    assert (response.json()["target_kind"], response.json()["target_minor"], response.json()["target_share_bp"]) == (
        "amount",
        24_000_000,
        None,
    )
    assert sum(PlanMonth.objects.filter(bucket=bucket).values_list("amount_minor", flat=True)) == 24_000_000


def test_change_a_bucket_target_by_a_seller_is_404_and_changes_nothing(org, draft, call):
    bucket = draft.buckets.get(region=org.south)
    before = _snapshot()

    response = call(org.seller, "patch", f"/api/v1/buckets/{bucket.pk}", {"target_minor": 1})

    assert response.status_code == 404
    assert _snapshot() == before


def test_set_a_month_of_a_draft(org, draft, call):
    bucket = draft.buckets.get(region=org.north)

    response = call(org.finance, "put", f"/api/v1/plans/{draft.pk}/months", {"bucket_id": bucket.pk, "month": "2027-03", "amount_minor": 0})

    assert response.status_code == 200
    body = response.json()
    assert (body["month"], body["amount_minor"], body["amount"]) == ("2027-03", 0, "0.00")
    assert body["bucket_target_minor"] == sum(PlanMonth.objects.filter(bucket=bucket).values_list("amount_minor", flat=True))
    assert body["reconciliation"]["is_reconciled"] is False
    assert body["reconciliation"]["unassigned_minor"] == 60_000_000 - body["reconciliation"]["months_minor"]


def test_set_a_month_of_an_approved_plan_is_400_and_changes_nothing(org, approved_plan, call):
    bucket = approved_plan.buckets.first()
    before = _snapshot()

    response = call(
        org.executive, "put", f"/api/v1/plans/{approved_plan.pk}/months", {"bucket_id": bucket.pk, "month": "2027-03", "amount_minor": 1}
    )

    assert response.status_code == 400
    assert response.json() == {"error": "“FY27-28 plan” is approved and read-only: revise it to make a new draft.", "field": "state"}
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"amount_minor": -1}, "amount_minor"), ({"month": "2031-01"}, "month"), ({"month": "03/2027"}, "month")],
)
def test_set_a_month_with_bad_input_is_400_and_changes_nothing(org, draft, call, changes, field):
    bucket = draft.buckets.first()
    before = _snapshot()

    response = call(
        org.executive, "put", f"/api/v1/plans/{draft.pk}/months", {"bucket_id": bucket.pk, "month": "2027-03", "amount_minor": 5, **changes}
    )

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert _snapshot() == before


def test_seller_writes_to_a_draft_are_404_and_change_nothing(org, draft, call):
    bucket = draft.buckets.first()
    before = _snapshot()

    responses = [
        call(org.seller, "post", f"/api/v1/plans/{draft.pk}/buckets", {"region_code": "SOUTH", "motion": "renewal", "target_minor": 1}),
        call(org.seller, "put", f"/api/v1/plans/{draft.pk}/months", {"bucket_id": bucket.pk, "month": "2027-03", "amount_minor": 1}),
        call(org.seller, "patch", f"/api/v1/buckets/{bucket.pk}", {"target_share_bp": 100}),
        call(org.seller, "post", f"/api/v1/plans/{draft.pk}/approve"),
    ]

    assert [response.status_code for response in responses] == [404, 404, 404, 404]
    assert _snapshot() == before


def test_change_a_bucket_target_of_an_approved_plan_is_400_and_changes_nothing(org, approved_plan, call):
    bucket = approved_plan.buckets.first()
    before = _snapshot()

    response = call(org.executive, "patch", f"/api/v1/buckets/{bucket.pk}", {"target_minor": 1})

    assert response.status_code == 400
    assert response.json()["field"] == "state"
    assert _snapshot() == before


def test_change_a_bucket_share_beyond_100_percent_is_400_and_changes_nothing(org, draft, call):
    bucket = draft.buckets.get(region=org.south)
    before = _snapshot()

    response = call(org.executive, "patch", f"/api/v1/buckets/{bucket.pk}", {"target_share_bp": 5_000})

    assert response.status_code == 400
    assert response.json()["field"] == "target_share_bp"
    assert _snapshot() == before

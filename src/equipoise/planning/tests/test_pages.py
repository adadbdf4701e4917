"""Planning pages through the Django test client: list, create, header edit, buckets, state actions, access."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from equipoise.planning.models import PlanBucket, PlanMonth, PlanState, PlanVersion, SeasonalityProfile
from equipoise.planning.services import bucket_add, plan_create


@pytest.fixture
def draft_plan(org):
    """A reconciled draft: 1.2M EUR over 24 months from Jan 2027 in three amount buckets."""
    plan = plan_create(actor=org.executive, name="FY27-28 draft", start_month=date(2027, 1, 1), total_target_minor=120_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.north, motion="new", target_minor=50_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.north, motion="renewal", target_minor=30_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.south, motion="new", target_minor=40_000_000)
    return plan


def _create_form(**overrides):
    data = {
        "name": "FY27-28 top-down",
        "kind": "top_down",
        "start_month": "2027-01",
        "horizon_months": "24",
        "currency": "EUR",
        "total_target": "12,000,000",
        "grr_objective": "92",
        "nrr_objective": "110.5",
        "max_logo_churn": "8",
        "seasonality": "",
        "growth": "0.5",
        "notes": "",
    }
    data.update(overrides)
    return data


def _messages(response):
    return [str(message) for message in response.context["messages"]]


# --- List -------------------------------------------------------------------------------------------


def test_plan_list_shows_versions_with_state_and_total_for_executive(client, org, approved_plan):
    # given an approved plan
    client.force_login(org.executive)
    # when the executive opens the plan list
    response = client.get(reverse("planning:list"))
    # then it lists the plan with its state, horizon, total and who approved it
    assert response.status_code == 200
    content = response.content.decode()
    assert f'<a href="/plans/{approved_plan.pk}/">FY27-28 plan</a>' in content
    assert '<span class="badge badge-state-approved">Approved</span>' in content
    assert '<td class="num">EUR 1,200,000.00</td>' in content
    assert '<td class="num">24 months</td>' in content
    assert "Vera VP" in content
    assert 'href="/plans/new/"' in content


def test_plan_list_empty_state_says_what_to_do_next(client, org):
    client.force_login(org.finance)
    response = client.get(reverse("planning:list"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "No plans yet" in content
    assert "Create the first plan" in content


def test_plan_list_paginates_25_per_page(client, org):
    for number in range(27):
        plan_create(actor=org.executive, name=f"Scenario {number:02d}", kind="scenario", start_month=date(2027, 1, 1))
    client.force_login(org.executive)
    first = client.get(reverse("planning:list"))
    second = client.get(reverse("planning:list"), {"page": 2})
    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 2
    assert "Page 2 of 2" in second.content.decode()


def test_plan_list_query_count_does_not_grow_with_plans(client, org, django_assert_max_num_queries):
    for number in range(25):
        plan_create(actor=org.executive, name=f"Scenario {number:02d}", kind="scenario", start_month=date(2027, 1, 1))
    client.force_login(org.executive)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("planning:list"))
    assert len(response.context["rows"]) == 25


# --- Create -------------------------------------------------------------------------------------------


def test_create_form_defaults_to_24_months_and_reporting_currency(client, org):
    client.force_login(org.executive)
    response = client.get(reverse("planning:create"))
    form = response.context["form"]
    assert response.status_code == 200
    assert form["horizon_months"].value() == 24
    assert form["currency"].value() == "EUR"


def test_create_draft_through_the_form(client, org):
    # given a seasonality profile to choose
    profile = SeasonalityProfile.objects.create(name="Year-end heavy", kind="manual", weights=["1"] * 12)
    client.force_login(org.executive)
    # when the executive submits the create form
    response = client.post(reverse("planning:create"), _create_form(seasonality=str(profile.pk)))
    # then a draft exists with the typed values in minor units and basis points, and the grid opens
    plan = PlanVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/plans/{plan.pk}/"
    assert plan.state == PlanState.DRAFT
    assert plan.kind == "top_down"
    assert plan.start_month == date(2027, 1, 1)
    assert plan.horizon_months == 24
    assert plan.currency == "EUR"
    assert plan.total_target_minor == 1_200_000_000
    assert plan.grr_objective_bp == 9200
    assert plan.nrr_objective_bp == 11050
    assert plan.max_logo_churn_bp == 800
    assert plan.growth_bp_per_month == 50
    assert plan.seasonality == profile
    assert plan.created_by == org.executive
    follow = client.get(response["Location"])
    assert "Draft “FY27-28 top-down” created. Add revenue buckets to spread its target over the months." in _messages(follow)


def test_create_rejects_a_negative_target_naming_the_field(client, org):
    client.force_login(org.executive)
    response = client.post(reverse("planning:create"), _create_form(total_target="-5,000"))
    assert response.status_code == 400
    assert response.context["form"].errors == {"total_target": ["The total target cannot be negative."]}
    assert "Total revenue target</a>: The total target cannot be negative." in response.content.decode()
    assert PlanVersion.objects.count() == 0


def test_create_rejects_a_target_too_large_to_store_naming_the_field(client, org):
    # given a total target with far too many zeros (it used to overflow the database: a server error)
    client.force_login(org.executive)
    # when the executive creates the plan
    response = client.post(reverse("planning:create"), _create_form(total_target="1e30"))
    # then the field says what is wrong and nothing is created
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "total_target": ["The total target is too large: amounts go up to EUR 100,000,000,000,000.00. Check for extra zeros."]
    }
    assert PlanVersion.objects.count() == 0


def test_create_rejects_a_horizon_of_40_months_naming_the_field(client, org):
    client.force_login(org.executive)
    response = client.post(reverse("planning:create"), _create_form(horizon_months="40"))
    assert response.status_code == 400
    assert response.context["form"].errors == {"horizon_months": ["The horizon is 40 months; it must be from 12 to 36 months."]}
    assert PlanVersion.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("total_target", "12,000,000.001", "'12,000,000.001' has more than 2 decimals, the most EUR allows."),
        ("total_target", "twelve million", "'twelve million' is not an amount: write digits such as 1250000 or 1,250,000.00."),
        ("grr_objective", "92.555", "'92.555' has more than two decimals; write a percentage such as 97.55."),
        ("start_month", "January", "'January' is not a month: write it as YYYY-MM, for example 2027-01."),
        ("currency", "E1R", "'E1R' is not a currency code: use three capital letters such as EUR or USD."),
    ],
)
def test_create_rejects_bad_input_and_changes_nothing(client, org, field, value, message):
    client.force_login(org.executive)
    response = client.post(reverse("planning:create"), _create_form(**{field: value}))
    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    assert PlanVersion.objects.count() == 0


def test_create_prefills_the_kind_from_the_query(client, org):
    client.force_login(org.executive)
    response = client.get(reverse("planning:create"), {"kind": "bottom_up"})
    assert response.context["form"]["kind"].value() == "bottom_up"


# --- Access -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["seller", "manager", "outsider"])
def test_plan_pages_are_not_found_for_people_without_company_view(client, org, approved_plan, persona):
    client.force_login(getattr(org, persona))
    bucket = approved_plan.buckets.first()
    urls = [
        reverse("planning:list"),
        reverse("planning:create"),
        reverse("planning:grid", args=[approved_plan.pk]),
        reverse("planning:gap", args=[approved_plan.pk]),
        reverse("planning:edit", args=[approved_plan.pk]),
        reverse("planning:bucket_add", args=[approved_plan.pk]),
        reverse("planning:bucket_edit", args=[approved_plan.pk, bucket.pk]),
        reverse("planning:cell", args=[approved_plan.pk, bucket.pk, "2027-01"]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("persona", ["seller", "manager"])
def test_plan_posts_are_not_found_for_seller_and_manager_and_change_nothing(client, org, draft_plan, approved_plan, persona):
    # given a draft and an approved plan, and the state of everything
    bucket = draft_plan.buckets.order_by("position").first()
    months_before = list(PlanMonth.objects.order_by("id").values_list("id", "amount_minor"))
    buckets_before = list(PlanBucket.objects.order_by("id").values_list("id", "target_minor"))
    plans_before = list(PlanVersion.objects.order_by("id").values_list("id", "state", "name", "total_target_minor"))
    client.force_login(getattr(org, persona))
    # when they post to every plan endpoint
    posts = [
        (reverse("planning:create"), _create_form()),
        (reverse("planning:approve", args=[draft_plan.pk]), {}),
        (reverse("planning:rephase", args=[draft_plan.pk]), {}),
        (reverse("planning:edit", args=[draft_plan.pk]), _create_form(name="Hijacked")),
        (reverse("planning:bucket_add", args=[draft_plan.pk]), {"region": org.south.pk, "motion": "renewal", "target": "1000"}),
        (reverse("planning:bucket_edit", args=[draft_plan.pk, bucket.pk]), {"target": "1"}),
        (reverse("planning:bucket_delete", args=[draft_plan.pk, bucket.pk]), {}),
        (reverse("planning:cell", args=[draft_plan.pk, bucket.pk, "2027-01"]), {"amount": "1"}),
        (reverse("planning:archive", args=[approved_plan.pk]), {}),
        (reverse("planning:revise", args=[approved_plan.pk]), {}),
    ]
    # then each is a 404 and nothing changed
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert list(PlanMonth.objects.order_by("id").values_list("id", "amount_minor")) == months_before
    assert list(PlanBucket.objects.order_by("id").values_list("id", "target_minor")) == buckets_before
    assert list(PlanVersion.objects.order_by("id").values_list("id", "state", "name", "total_target_minor")) == plans_before


def test_anonymous_visitors_are_sent_to_login(client, approved_plan):
    response = client.get(reverse("planning:grid", args=[approved_plan.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/plans/{approved_plan.pk}/"


def test_a_bucket_of_another_plan_is_not_found_under_this_plan(client, org, draft_plan, approved_plan):
    client.force_login(org.executive)
    other_bucket = approved_plan.buckets.first()
    assert client.get(reverse("planning:bucket_edit", args=[draft_plan.pk, other_bucket.pk])).status_code == 404
    assert client.post(reverse("planning:bucket_delete", args=[draft_plan.pk, other_bucket.pk])).status_code == 404
    assert PlanBucket.objects.filter(pk=other_bucket.pk).exists()


# --- Header edit --------------------------------------------------------------------------------------


def test_edit_header_saves_only_changes_and_rephases(client, org, draft_plan):
    client.force_login(org.finance)
    data = _create_form(name="FY27-28 draft v2", total_target="1,300,000", grr_objective="", nrr_objective="", max_logo_churn="")
    data.update(growth="", reason="CFO raised the ask")
    response = client.post(reverse("planning:edit", args=[draft_plan.pk]), data)
    draft_plan.refresh_from_db()
    assert response.status_code == 302
    assert draft_plan.name == "FY27-28 draft v2"
    assert draft_plan.total_target_minor == 130_000_000
    assert draft_plan.history.first().history_change_reason == "CFO raised the ask"
    # amount buckets keep their targets: the plan now shows 100,000.00 unassigned
    follow = client.get(response["Location"])
    assert "Not reconciled: EUR 100,000.00 unassigned." in follow.content.decode()


def test_edit_header_of_an_approved_plan_redirects_with_a_message(client, org, approved_plan):
    client.force_login(org.executive)
    response = client.get(reverse("planning:edit", args=[approved_plan.pk]), follow=True)
    assert "“FY27-28 plan” is approved and read-only: revise it to make a new draft." in _messages(response)


def test_edit_header_rejects_horizon_40(client, org, draft_plan):
    client.force_login(org.executive)
    data = _create_form(horizon_months="40", total_target="1,200,000", grr_objective="", nrr_objective="", max_logo_churn="", growth="")
    response = client.post(reverse("planning:edit", args=[draft_plan.pk]), data)
    draft_plan.refresh_from_db()
    assert response.status_code == 400
    assert response.context["form"].errors == {"horizon_months": ["The horizon is 40 months; it must be from 12 to 36 months."]}
    assert draft_plan.horizon_months == 24
    assert draft_plan.name == "FY27-28 draft"


# --- Buckets ------------------------------------------------------------------------------------------


def test_add_bucket_by_amount_phases_it(client, org, draft_plan):
    client.force_login(org.executive)
    response = client.post(
        reverse("planning:bucket_add", args=[draft_plan.pk]), {"region": org.south.pk, "motion": "renewal", "target": "240,000"}
    )
    bucket = draft_plan.buckets.get(region=org.south, motion="renewal")
    assert response.status_code == 302
    assert bucket.target_minor == 24_000_000
    assert list(bucket.months.values_list("amount_minor", flat=True)) == [1_000_000] * 24


def test_add_bucket_rejects_shares_over_100_percent(client, org):
    # given a plan whose buckets are 60% and 30% of the total
    plan = plan_create(actor=org.executive, name="Shares", start_month=date(2027, 1, 1), total_target_minor=120_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.north, motion="new", target_share_bp=6000)
    bucket_add(actor=org.executive, plan=plan, region=org.south, motion="new", target_share_bp=3000)
    client.force_login(org.executive)
    # when another bucket asks for 20%
    response = client.post(
        reverse("planning:bucket_add", args=[plan.pk]), {"region": org.north.pk, "motion": "renewal", "target_share": "20"}
    )
    # then the form says so on the share field and no bucket was added
    assert response.status_code == 400
    assert response.context["form"].errors == {"target_share": ["Bucket shares add up to 110.00%, more than 100%."]}
    assert plan.buckets.count() == 2
    assert PlanMonth.objects.filter(plan=plan).count() == 48


def test_add_bucket_rejects_a_negative_target(client, org, draft_plan):
    client.force_login(org.executive)
    response = client.post(
        reverse("planning:bucket_add", args=[draft_plan.pk]), {"region": org.south.pk, "motion": "renewal", "target": "-1"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"target": ["A bucket target cannot be negative."]}
    assert draft_plan.buckets.count() == 3


def test_add_bucket_rejects_a_target_too_large_to_store(client, org, draft_plan):
    client.force_login(org.executive)
    form = {"region": org.south.pk, "motion": "renewal", "target": "99999999999999999999"}
    response = client.post(reverse("planning:bucket_add", args=[draft_plan.pk]), form)
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "target": ["A bucket target is too large: amounts go up to EUR 100,000,000,000,000.00. Check for extra zeros."]
    }
    assert draft_plan.buckets.count() == 3


def test_add_bucket_rejects_both_amount_and_share(client, org, draft_plan):
    client.force_login(org.executive)
    response = client.post(
        reverse("planning:bucket_add", args=[draft_plan.pk]),
        {"region": org.south.pk, "motion": "renewal", "target": "1", "target_share": "1"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"target": ["Give the bucket either an amount or a share of the total, not both."]}


def test_add_bucket_offers_only_named_accounts(client, org):
    from equipoise.org.models import Customer

    Customer.objects.create(code="BIG", name="Big Bank", is_named_account=True, home_region=org.north)
    Customer.objects.create(code="SMALL", name="Small Shop", is_named_account=False, home_region=org.north)
    plan = plan_create(actor=org.executive, name="Named", start_month=date(2027, 1, 1), total_target_minor=0)
    client.force_login(org.executive)
    response = client.get(reverse("planning:bucket_add", args=[plan.pk]))
    assert [customer.name for customer in response.context["form"].fields["customer"].queryset] == ["Big Bank"]


def test_bucket_target_edit_and_delete(client, org, draft_plan):
    client.force_login(org.executive)
    bucket = draft_plan.buckets.get(region=org.south, motion="new")
    form_page = client.get(reverse("planning:bucket_edit", args=[draft_plan.pk, bucket.pk]))
    assert form_page.context["form"]["target"].value() == "400000.00"
    response = client.post(reverse("planning:bucket_edit", args=[draft_plan.pk, bucket.pk]), {"target_share": "25", "reason": "a quarter"})
    bucket.refresh_from_db()
    assert response.status_code == 302
    assert bucket.target_share_bp == 2500
    assert bucket.target_minor == 30_000_000
    response = client.post(reverse("planning:bucket_delete", args=[draft_plan.pk, bucket.pk]), {"reason": "merged"}, follow=True)
    assert "Removed the bucket South · New customers." in _messages(response)
    assert not PlanBucket.objects.filter(pk=bucket.pk).exists()
    assert PlanMonth.objects.filter(bucket_id=bucket.pk).count() == 0


# --- State actions ------------------------------------------------------------------------------------


def test_approving_an_unreconciled_plan_shows_the_reason_and_keeps_the_draft(client, org):
    # given a draft whose buckets cover 1,000,000 of a 1,200,000 target
    plan = plan_create(actor=org.executive, name="Short", start_month=date(2027, 1, 1), total_target_minor=120_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.north, motion="new", target_minor=100_000_000)
    client.force_login(org.executive)
    # when the executive approves it
    response = client.post(reverse("planning:approve", args=[plan.pk]), follow=True)
    # then the grid says which field is wrong and why, and the plan is still a draft
    plan.refresh_from_db()
    assert response.redirect_chain == [(f"/plans/{plan.pk}/", 302)]
    assert _messages(response) == [
        "Total target: The plan does not reconcile: its monthly amounts add up to EUR 1,000,000.00 but the total target is "
        "EUR 1,200,000.00. Adjust buckets or months (or the total) until they match."
    ]
    assert plan.state == PlanState.DRAFT
    assert plan.approved_at is None


def test_approve_then_revise_then_archive(client, org, draft_plan):
    client.force_login(org.executive)
    response = client.post(reverse("planning:approve", args=[draft_plan.pk]), {"reason": "board sign-off"}, follow=True)
    draft_plan.refresh_from_db()
    assert draft_plan.state == PlanState.APPROVED
    assert "Approved “FY27-28 draft”. It is now read-only; allocate quotas from it next." in _messages(response)
    response = client.post(reverse("planning:revise", args=[draft_plan.pk]), {"name": "FY27-28 v2"}, follow=True)
    revised = PlanVersion.objects.get(name="FY27-28 v2")
    assert response.redirect_chain == [(f"/plans/{revised.pk}/", 302)]
    assert revised.state == PlanState.DRAFT
    assert revised.revised_from == draft_plan
    assert PlanMonth.objects.filter(plan=revised).count() == 72
    client.post(reverse("planning:archive", args=[draft_plan.pk]))
    draft_plan.refresh_from_db()
    assert draft_plan.state == PlanState.ARCHIVED


def test_finance_may_not_approve(client, org, draft_plan):
    client.force_login(org.finance)
    response = client.post(reverse("planning:approve", args=[draft_plan.pk]))
    draft_plan.refresh_from_db()
    assert response.status_code == 403
    assert draft_plan.state == PlanState.DRAFT


def test_rephase_replaces_hand_edits(client, org, draft_plan):
    from equipoise.planning.services import plan_month_set

    bucket = draft_plan.buckets.get(region=org.north, motion="renewal")
    plan_month_set(actor=org.executive, plan=draft_plan, bucket_id=bucket.pk, month=date(2027, 1, 1), amount_minor=5)
    client.force_login(org.executive)
    response = client.post(reverse("planning:rephase", args=[draft_plan.pk]), follow=True)
    assert "Re-phased every bucket from its target; hand edits to months were replaced." in _messages(response)
    # the bucket's target became the sum of its months (28,750,005) and is spread again: 1,197,916 a month, +1 in the first 21
    assert PlanMonth.objects.get(bucket=bucket, month=date(2027, 1, 1)).amount_minor == 1_197_917
    assert PlanMonth.objects.get(bucket=bucket, month=date(2028, 12, 1)).amount_minor == 1_197_916


def test_actions_need_post(client, org, draft_plan):
    client.force_login(org.executive)
    assert client.get(reverse("planning:approve", args=[draft_plan.pk])).status_code == 405
    draft_plan.refresh_from_db()
    assert draft_plan.state == PlanState.DRAFT

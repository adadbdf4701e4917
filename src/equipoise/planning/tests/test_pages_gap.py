"""The top-down vs bottom-up page: choice of version, gap by bucket, month and team."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from equipoise.planning.services import bucket_add, plan_approve, plan_create
from equipoise.quotas.services import commit_upsert, quota_allocate

UNFAVOURABLE_50K = (
    '<span class="variance variance-bad"><span aria-hidden="true">▼ </span>−50,000.00'
    '<span class="visually-hidden"> (unfavourable)</span></span>'
)


def _bottom_up(org, name="Sales commit", *, approve=True, currency="EUR"):
    """A bottom-up plan 90,000.00 below the approved top-down one: North new 450,000, South new 350,000."""
    plan = plan_create(
        actor=org.executive, name=name, kind="bottom_up", start_month=date(2027, 1, 1), total_target_minor=110_000_000, currency=currency
    )
    bucket_add(actor=org.executive, plan=plan, region=org.north, motion="new", target_minor=45_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.north, motion="renewal", target_minor=30_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.south, motion="new", target_minor=35_000_000)
    return plan_approve(actor=org.executive, plan=plan) if approve else plan


def test_gap_by_bucket_and_month_for_executive(client, org, approved_plan):
    # given an approved bottom-up plan 100,000.00 below the top-down one
    bottom_up = _bottom_up(org)
    client.force_login(org.executive)
    # when the executive opens the gap page
    response = client.get(reverse("planning:gap", args=[approved_plan.pk]))
    content = response.content.decode()
    # then it compares with that plan and marks the shortfalls by arrow and word
    assert response.status_code == 200
    assert response.context["bottom_up"] == bottom_up
    assert [(row.label, row.top_down, row.bottom_up, row.gap) for row in response.context["bucket_rows"]] == [
        ("North · New customers", 50_000_000, 45_000_000, -5_000_000),
        ("North · Renewal", 30_000_000, 30_000_000, 0),
        ("South · New customers", 40_000_000, 35_000_000, -5_000_000),
    ]
    assert content.count(UNFAVOURABLE_50K) == 2
    assert '−100,000.00<span class="visually-hidden"> (unfavourable)</span>' in content
    assert "-8.3% of the top-down plan" in content
    assert response.context["horizon_total"].gap == -10_000_000
    assert [year["label"] for year in response.context["years"]] == ["FY2027", "FY2028"]
    assert response.context["years"][0]["total"].top_down == 60_000_008
    assert len(response.context["chart"]["months"]) == 24
    assert response.context["chart"]["gap"][0] == -4_166.67
    assert '<script src="/static/plotly/plotly.min.js"></script>' in content
    assert '<script id="gap-chart-data" type="application/json">' in content


def test_gap_prefers_the_approved_bottom_up_then_the_newest(client, org, approved_plan):
    approved = _bottom_up(org, "Approved commit")
    newer_draft = _bottom_up(org, "Newer draft", approve=False)
    client.force_login(org.executive)
    assert client.get(reverse("planning:gap", args=[approved_plan.pk])).context["bottom_up"] == approved
    chosen = client.get(reverse("planning:gap", args=[approved_plan.pk]), {"bottom_up": newer_draft.pk})
    assert chosen.context["bottom_up"] == newer_draft
    assert f'<option value="{newer_draft.pk}" selected>' in chosen.content.decode()


def test_gap_defaults_to_the_newest_bottom_up_when_none_is_approved(client, org, approved_plan):
    _bottom_up(org, "Older draft", approve=False)
    newest = _bottom_up(org, "Newest draft", approve=False)
    client.force_login(org.executive)
    assert client.get(reverse("planning:gap", args=[approved_plan.pk])).context["bottom_up"] == newest


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_gap_with_an_unknown_bottom_up_is_not_found(client, org, approved_plan, value):
    client.force_login(org.executive)
    assert client.get(reverse("planning:gap", args=[approved_plan.pk]), {"bottom_up": value}).status_code == 404


def test_gap_without_a_bottom_up_version_says_how_to_make_one(client, org, approved_plan):
    client.force_login(org.executive)
    response = client.get(reverse("planning:gap", args=[approved_plan.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "No bottom-up version to compare with" in content
    assert 'href="/plans/new/?kind=bottom_up"' in content


def test_gap_refuses_to_compare_different_currencies(client, org, approved_plan):
    _bottom_up(org, "Dollar commit", currency="USD")
    client.force_login(org.executive)
    content = client.get(reverse("planning:gap", args=[approved_plan.pk])).content.decode()
    assert "These versions use different currencies" in content
    assert "variance" not in content


def test_team_gap_without_quotas_asks_to_allocate_first(client, org, approved_plan):
    _bottom_up(org)
    client.force_login(org.executive)
    response = client.get(reverse("planning:gap", args=[approved_plan.pk]))
    assert response.context["team"] == {"allocation": None, "rows": [], "months": []}
    assert "No quotas allocated from this plan yet" in response.content.decode()


def test_team_gap_sets_quota_against_commit_over_the_committed_months(client, org, approved_plan, django_assert_max_num_queries):
    # given quotas allocated from the top-down plan and one commit by Sam (Maria's team), for Jan 2027 only
    _bottom_up(org)
    quota_allocate(actor=org.executive, plan=approved_plan)
    commit_upsert(actor=org.seller, person_id=org.sam.pk, month=date(2027, 1, 1), motion="new", amount_minor=100_000, currency="EUR")
    client.force_login(org.executive)
    # when the executive opens the gap page
    with django_assert_max_num_queries(30):
        response = client.get(reverse("planning:gap", args=[approved_plan.pk]))
    # then each manager's team shows its quota of Jan 2027 (not of the 24 months), its sellers' commits and the gap
    assert response.context["team"]["months"] == [date(2027, 1, 1)]
    rows = [(row.person.label, row.quota_total, row.commit_total, row.gap_total) for row in response.context["team"]["rows"]]
    assert rows == [
        ("Sales (Vera VP)", 5_000_001, 100_000, -4_900_001),
        ("North (Maria Manager)", 3_333_334, 100_000, -3_233_334),
        ("South (Omar Manager)", 1_666_667, 0, -1_666_667),
    ]
    content = response.content.decode()
    assert "Over the 1 month with commits, Jan 2027 to Jan 2027, not the whole horizon" in content
    assert '<th scope="row" class="fw-normal team-depth-1">North (Maria Manager)</th>' in content
    assert '−32,333.34<span class="visually-hidden"> (unfavourable)</span>' in content
    assert "Sam Seller" not in content


def test_team_gap_before_any_commit_says_none_was_entered(client, org, approved_plan):
    # given quotas allocated from the top-down plan and no commit at all
    _bottom_up(org)
    quota_allocate(actor=org.executive, plan=approved_plan)
    client.force_login(org.executive)
    # when the executive opens the gap page
    response = client.get(reverse("planning:gap", args=[approved_plan.pk]))
    # then the team view says no one has committed yet, instead of showing every quota as a shortfall
    assert response.context["team"]["rows"] == []
    content = response.content.decode()
    assert "No commits entered yet" in content
    assert "Commit coverage" not in content


def test_gap_refuses_to_compare_a_plan_with_itself(client, org, approved_plan):
    _bottom_up(org)
    client.force_login(org.executive)
    response = client.get(reverse("planning:gap", args=[approved_plan.pk]), {"bottom_up": approved_plan.pk})
    assert response.status_code == 404


def test_the_gap_of_a_bottom_up_plan_opens_against_the_approved_top_down(client, org, approved_plan):
    bottom_up = _bottom_up(org)
    client.force_login(org.executive)
    response = client.get(reverse("planning:gap", args=[bottom_up.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"/plans/{approved_plan.pk}/gap/?bottom_up={bottom_up.pk}"


def test_a_bottom_up_grid_links_to_the_gap_against_the_approved_top_down(client, org, approved_plan):
    bottom_up = _bottom_up(org)
    client.force_login(org.executive)
    content = client.get(reverse("planning:grid", args=[bottom_up.pk])).content.decode()
    assert f'href="/plans/{approved_plan.pk}/gap/?bottom_up={bottom_up.pk}">Compare with the approved top-down</a>' in content
    top_down_page = client.get(reverse("planning:grid", args=[approved_plan.pk])).content.decode()
    assert f'href="/plans/{approved_plan.pk}/gap/">Compare with bottom-up</a>' in top_down_page

"""The quota table, its per-bucket breakdown, pagination and query counts, through the Django client."""

from datetime import date

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from equipoise.core.access import Role
from equipoise.org.models import Territory
from equipoise.org.services import person_create
from equipoise.quotas.models import Quota
from equipoise.quotas.services import allocation_lock, quota_allocate

EVERYONE = ["Maria Manager", "Olga Seller", "Omar Manager", "Sam Seller", "Sara Seller", "Vera VP"]
WHOLE_HORIZON = {"from": "2027-01", "to": "2028-12"}


def _names(response):
    return sorted(row.person.full_name for row in response.context["rows"])


def _quota(allocation, person, **filters):
    return Quota.objects.filter(allocation=allocation, person=person, **filters).aggregate(total=Sum("amount_minor"))["total"] or 0


def _add_sellers(org, count):
    for number in range(count):
        seller = person_create(full_name=f"Extra Seller {number:02d}", role=Role.SELLER, manager=org.maria)
        Territory.objects.create(seller=seller, region=org.north, starts_on=date(2020, 1, 1))


@pytest.fixture
def allocation(org, approved_plan):
    return quota_allocate(actor=org.executive, plan=approved_plan, cushion_bp_by_level=[0, 1000])


def test_executive_sees_every_person_with_managers_marked_as_team_totals(client, org, allocation):
    client.force_login(org.executive)

    response = client.get("/quotas/", WHOLE_HORIZON)

    assert response.status_code == 200
    assert _names(response) == EVERYONE
    assert sorted(row.person.full_name for row in response.context["rows"] if row.is_team) == ["Maria Manager", "Omar Manager", "Vera VP"]
    totals = {row.person.full_name: row.total for row in response.context["rows"]}
    assert totals["Vera VP"] == 120_000_000
    assert totals["Maria Manager"] == 80_000_000
    assert totals["Sam Seller"] + totals["Sara Seller"] == 88_000_000
    assert totals["Olga Seller"] == 44_000_000
    content = response.content.decode()
    assert "Team total · North" in content
    assert "1,200,000.00" in content
    assert "Level 2: +10%" in content
    assert 'class="badge badge-state-draft"' in content


def test_rows_follow_the_tree_and_indent_by_depth(client, org, allocation):
    client.force_login(org.executive)

    rows = client.get("/quotas/").context["rows"]

    positions = {row.person.pk: position for position, row in enumerate(rows)}
    for row in rows:
        if row.person.manager_id is not None:
            assert positions[row.person.manager_id] < positions[row.person.pk]
    assert {row.person.full_name: row.indent for row in rows} == {
        "Vera VP": 0,
        "Maria Manager": 1,
        "Omar Manager": 1,
        "Sam Seller": 2,
        "Sara Seller": 2,
        "Olga Seller": 2,
    }


def test_manager_sees_only_their_subtree(client, org, allocation):
    client.force_login(org.manager)

    response = client.get("/quotas/", WHOLE_HORIZON)

    assert _names(response) == ["Maria Manager", "Sam Seller", "Sara Seller"]
    content = response.content.decode()
    assert "Omar" not in content
    assert "Olga" not in content
    assert "Vera VP" not in content


def test_seller_sees_only_their_own_row(client, org, allocation):
    allocation_lock(actor=org.executive, allocation=allocation)
    client.force_login(org.seller)

    response = client.get("/quotas/", WHOLE_HORIZON)

    assert _names(response) == ["Sam Seller"]
    assert response.context["rows"][0].total == _quota(allocation, org.sam)
    content = response.content.decode()
    for other in ("Sara Seller", "Olga Seller", "Maria Manager", "Omar Manager"):
        assert other not in content


def test_team_seller_and_bucket_filters(client, org, allocation, approved_plan):
    client.force_login(org.executive)
    north_new = approved_plan.buckets.get(region=org.north, motion="new")

    by_team = client.get("/quotas/", {"team": org.omar.pk})
    by_seller = client.get("/quotas/", {"seller": org.sara.pk})
    by_bucket = client.get("/quotas/", {"seller": org.sam.pk, "bucket": north_new.pk, **WHOLE_HORIZON})

    assert _names(by_team) == ["Olga Seller", "Omar Manager"]
    assert _names(by_seller) == ["Sara Seller"]
    assert by_bucket.context["rows"][0].total == _quota(allocation, org.sam, bucket=north_new)


def test_a_manager_cannot_filter_by_another_team(client, org, allocation):
    client.force_login(org.manager)

    response = client.get("/quotas/", {"team": org.omar.pk})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert _names(response) == ["Maria Manager", "Sam Seller", "Sara Seller"]


def test_period_defaults_to_the_first_three_plan_months_before_the_horizon(client, org, allocation, time_machine):
    time_machine.move_to("2026-11-20 09:00")
    client.force_login(org.executive)

    response = client.get("/quotas/")

    assert response.context["months"] == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]


def test_period_defaults_to_the_current_quarter_inside_the_horizon(client, org, allocation, time_machine):
    time_machine.move_to("2027-05-10 09:00")
    client.force_login(org.executive)

    response = client.get("/quotas/")

    assert response.context["months"] == [date(2027, 4, 1), date(2027, 5, 1), date(2027, 6, 1)]


def test_a_month_outside_the_horizon_is_named_and_the_default_period_shown(client, org, allocation, time_machine):
    time_machine.move_to("2026-11-20 09:00")
    client.force_login(org.executive)

    response = client.get("/quotas/", {"from": "2030-01", "to": "2030-03"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "Jan 2030 is outside the plan&#x27;s horizon, Jan 2027 to Dec 2028" in content
    assert response.context["months"] == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]


def test_a_period_that_ends_before_it_starts_is_refused(client, org, allocation):
    client.force_login(org.executive)

    response = client.get("/quotas/", {"from": "2027-06", "to": "2027-02"})

    assert "The period ends (Feb 2027) before it starts (Jun 2027)" in response.content.decode()


def test_empty_state_invites_executives_to_allocate(client, org, approved_plan):
    client.force_login(org.executive)

    response = client.get("/quotas/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "Quotas have not been allocated yet" in content
    assert 'href="/quotas/allocate/"' in content
    assert "Allocate the approved plan" in content


def test_empty_state_tells_sellers_to_wait(client, org, approved_plan):
    client.force_login(org.seller)

    response = client.get("/quotas/")

    content = response.content.decode()
    assert "No quotas yet" in content
    assert "once sales leadership has allocated the plan and locked the quotas" in content
    assert "Allocate the approved plan" not in content
    assert 'href="/quotas/allocate/"' not in content


def test_a_seller_sees_quotas_once_locked(client, org, allocation):
    """A draft is still adjusted by hand: a seller neither sees it nor can open it by id, through
    the table, the breakdown or the API; their manager reviews it meanwhile."""
    client.force_login(org.seller)
    draft = client.get("/quotas/")
    by_id = client.get("/quotas/", {"allocation": allocation.pk})
    breakdown = client.get(f"/quotas/allocations/{allocation.pk}/people/{org.sam.pk}/")
    client.force_login(org.manager)
    managers_view = client.get("/quotas/", WHOLE_HORIZON)

    assert draft.status_code == 200
    assert draft.context["allocation"] is None
    assert "No quotas yet" in draft.content.decode()
    assert by_id.status_code == 404
    assert breakdown.status_code == 404
    assert managers_view.context["allocation"] == allocation
    assert "Sam Seller" in _names(managers_view)

    allocation_lock(actor=org.executive, allocation=allocation)
    client.force_login(org.seller)
    locked = client.get("/quotas/", {"allocation": allocation.pk, **WHOLE_HORIZON})

    assert locked.status_code == 200
    assert _names(locked) == ["Sam Seller"]
    assert locked.context["rows"][0].total == _quota(allocation, org.sam)


def test_an_unknown_allocation_id_is_404(client, org, allocation):
    client.force_login(org.executive)

    assert client.get("/quotas/", {"allocation": allocation.pk + 1000}).status_code == 404
    assert client.get("/quotas/", {"allocation": "abc"}).status_code == 404


def test_outsider_cannot_open_an_allocation_by_id(client, org, allocation):
    client.force_login(org.outsider)

    assert client.get("/quotas/", {"allocation": allocation.pk}).status_code == 404


def test_the_table_requires_sign_in(client, allocation):
    response = client.get("/quotas/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_breakdown_shows_quota_per_bucket(client, org, allocation, approved_plan):
    allocation_lock(actor=org.executive, allocation=allocation)
    client.force_login(org.seller)
    north_new = approved_plan.buckets.get(region=org.north, motion="new")

    response = client.get(f"/quotas/allocations/{allocation.pk}/people/{org.sam.pk}/", WHOLE_HORIZON)

    assert response.status_code == 200
    rows = {row.bucket.label: row.total for row in response.context["rows"]}
    assert rows == {
        "North · New customers": _quota(allocation, org.sam, bucket=north_new),
        "North · Renewal": _quota(allocation, org.sam, bucket__region=org.north, bucket__motion="renewal"),
    }
    assert response.context["total"] == _quota(allocation, org.sam)
    assert response.context["adjust_form"] is None  # sellers do not set quotas


def test_breakdown_partial_for_htmx_has_no_page_around_it(client, org, allocation):
    client.force_login(org.executive)

    response = client.get(f"/quotas/allocations/{allocation.pk}/people/{org.sam.pk}/", HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert 'class="breakdown"' in content
    assert "Set one month by hand" in content
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("guess", ["sara", "olga", "maria", "vp"])
def test_a_seller_guessing_another_persons_breakdown_gets_404(client, org, allocation, guess):
    client.force_login(org.seller)

    response = client.get(f"/quotas/allocations/{allocation.pk}/people/{getattr(org, guess).pk}/")
    partial = client.get(f"/quotas/allocations/{allocation.pk}/people/{getattr(org, guess).pk}/", HTTP_HX_REQUEST="true")

    assert response.status_code == 404
    assert partial.status_code == 404


def test_a_manager_guessing_another_teams_breakdown_gets_404(client, org, allocation):
    client.force_login(org.manager)

    assert client.get(f"/quotas/allocations/{allocation.pk}/people/{org.olga.pk}/").status_code == 404
    assert client.get(f"/quotas/allocations/{allocation.pk}/people/{org.sam.pk}/").status_code == 200


def test_pagination_shows_fifty_people_per_page(client, org, approved_plan):
    _add_sellers(org, 60)
    quota_allocate(actor=org.executive, plan=approved_plan)
    client.force_login(org.executive)

    first = client.get("/quotas/")
    second = client.get("/quotas/", {"page": 2})
    beyond = client.get("/quotas/", {"page": 99})

    assert first.context["people_count"] == 66
    assert len(first.context["rows"]) == 50
    assert len(second.context["rows"]) == 16
    first_ids = {row.person.pk for row in first.context["rows"]}
    second_ids = {row.person.pk for row in second.context["rows"]}
    assert first_ids.isdisjoint(second_ids)
    assert len(first_ids | second_ids) == 66
    assert [row.person.pk for row in beyond.context["rows"]] == [row.person.pk for row in second.context["rows"]]
    assert "Page 1 of 2" in first.content.decode()
    assert "People 51–66 of 66" in second.content.decode()


def test_pagination_keeps_the_filters(client, org, approved_plan):
    _add_sellers(org, 60)
    quota_allocate(actor=org.executive, plan=approved_plan)
    client.force_login(org.executive)

    response = client.get("/quotas/", {"team": org.maria.pk, "from": "2027-02", "to": "2027-04"})

    assert f'href="?team={org.maria.pk}&amp;from=2027-02&amp;to=2027-04&amp;page=2"' in response.content.decode()


def _count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(context.captured_queries)


def test_quota_table_query_count_does_not_grow_with_people(client, org, approved_plan, django_assert_max_num_queries):
    quota_allocate(actor=org.executive, plan=approved_plan)
    client.force_login(org.executive)
    with django_assert_max_num_queries(15):
        client.get("/quotas/", WHOLE_HORIZON)
    small = _count_queries(client, "/quotas/", WHOLE_HORIZON)

    _add_sellers(org, 60)
    quota_allocate(actor=org.executive, plan=approved_plan)

    with django_assert_max_num_queries(15):
        client.get("/quotas/", WHOLE_HORIZON)
    assert _count_queries(client, "/quotas/", WHOLE_HORIZON) == small
    assert _count_queries(client, "/quotas/", {"page": 2, **WHOLE_HORIZON}) == small


def test_gap_and_breakdown_query_counts_do_not_grow_with_people(client, org, approved_plan, django_assert_max_num_queries):
    quota_allocate(actor=org.executive, plan=approved_plan)
    client.force_login(org.executive)
    gap_small = _count_queries(client, "/quotas/gap/")

    _add_sellers(org, 60)
    allocation = quota_allocate(actor=org.executive, plan=approved_plan)

    with django_assert_max_num_queries(12):
        client.get("/quotas/gap/")
    assert _count_queries(client, "/quotas/gap/") == gap_small
    with django_assert_max_num_queries(12):
        client.get(f"/quotas/allocations/{allocation.pk}/people/{org.maria.pk}/")

"""Quotas and commits through the API: each persona sees exactly their scope; others' ids are 404."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from equipoise.org.selectors import subtree
from equipoise.quotas.models import Commit, Quota
from equipoise.quotas.services import allocation_lock, commit_upsert, quota_allocate


@pytest.fixture
def allocation(org, approved_plan):
    """Equal split, no cushion: North buckets to Sam and Sara, South to Olga; locked, so that sellers see it."""
    return allocation_lock(actor=org.executive, allocation=quota_allocate(actor=org.executive, plan=approved_plan))


def _all_quota_rows(call, user, **filters):
    """Every page of GET /quotas for ``user``."""
    rows, offset = [], 0
    while True:
        page = call(user, "get", "/api/v1/quotas", {**filters, "limit": 500, "offset": offset})
        assert page.status_code == 200, page.json()
        body = page.json()
        rows.extend(body["items"])
        offset += 500
        if offset >= body["count"]:
            assert len(rows) == body["count"]
            return rows


# --- quotas ----------------------------------------------------------------------------------------


def test_seller_lists_only_their_own_quotas(org, allocation, call):
    rows = _all_quota_rows(call, org.seller)

    expected = Quota.objects.filter(allocation=allocation, person=org.sam)
    assert {row["person_id"] for row in rows} == {org.sam.pk}
    assert sorted(row["id"] for row in rows) == sorted(expected.values_list("id", flat=True))
    assert sum(row["amount_minor"] for row in rows) == sum(expected.values_list("amount_minor", flat=True))
    # Sam and Sara split North's 80,000,000 equally, to the cent.
    saras = Quota.objects.filter(allocation=allocation, person=org.sara).values_list("amount_minor", flat=True)
    assert sum(row["amount_minor"] for row in rows) + sum(saras) == 80_000_000


def test_a_seller_gets_no_quotas_of_a_draft(org, approved_plan, call):
    draft = quota_allocate(actor=org.executive, plan=approved_plan)
    sams = Quota.objects.filter(allocation=draft, person=org.sam)
    assert sams.exists()

    listed = call(org.seller, "get", "/api/v1/quotas", {"limit": 500})
    by_allocation = call(org.seller, "get", "/api/v1/quotas", {"allocation": draft.pk})
    one = call(org.seller, "get", f"/api/v1/quotas/{sams.first().pk}")
    managers = _all_quota_rows(call, org.manager)

    assert listed.status_code == 200
    assert listed.json()["count"] == 0
    assert by_allocation.status_code == 404
    assert one.status_code == 404
    assert org.sam.pk in {row["person_id"] for row in managers}


def test_manager_sees_their_subtree_only(org, allocation, call):
    rows = _all_quota_rows(call, org.manager)

    assert {row["person_id"] for row in rows} <= {org.maria.pk, org.sam.pk, org.sara.pk}
    expected = Quota.objects.filter(allocation=allocation, person__in=subtree(org.maria))
    assert len(rows) == expected.count()
    assert org.olga.pk not in {row["person_id"] for row in rows}


def test_executive_sees_everyone(org, allocation, call):
    rows = _all_quota_rows(call, org.executive)

    assert len(rows) == Quota.objects.filter(allocation=allocation).count()
    assert {org.vp.pk, org.sam.pk, org.sara.pk, org.olga.pk} <= {row["person_id"] for row in rows}


def test_quota_filters(org, allocation, approved_plan, call):
    south = approved_plan.buckets.get(region=org.south)

    rows = _all_quota_rows(
        call, org.executive, person=org.olga.pk, bucket=south.pk, month_from="2027-04", month_to="2027-06", allocation=allocation.pk
    )

    assert [(row["month"], row["person_id"], row["bucket_id"]) for row in rows] == [
        ("2027-04", org.olga.pk, south.pk),
        ("2027-05", org.olga.pk, south.pk),
        ("2027-06", org.olga.pk, south.pk),
    ]
    assert [row["amount_minor"] for row in rows] == [1_666_667] * 3
    assert rows[0]["amount"] == "16666.67" and rows[0]["currency"] == "EUR"
    assert rows[0]["bucket_label"] == "South · New customers" and rows[0]["motion"] == "new"


def test_team_filter_for_a_manager_inside_their_scope(org, allocation, call):
    rows = _all_quota_rows(call, org.executive, team=org.omar.pk)

    assert {row["person_id"] for row in rows} <= {org.omar.pk, org.olga.pk}
    assert org.olga.pk in {row["person_id"] for row in rows}


@pytest.mark.parametrize(
    ("persona", "filters"),
    [
        ("seller", {"person": "olga"}),
        ("seller", {"person": "sara"}),
        ("manager", {"person": "olga"}),
        ("manager", {"team": "omar"}),
        ("seller", {"team": "maria"}),
    ],
)
def test_filtering_by_someone_outside_your_scope_is_404(org, allocation, call, persona, filters):
    query = {key: getattr(org, name).pk for key, name in filters.items()}

    response = call(getattr(org, persona), "get", "/api/v1/quotas", query)

    assert response.status_code == 404
    assert response.json() == {"error": "That person was not found.", "field": "person"}


def test_bad_month_filter_is_400_naming_the_field(org, allocation, call):
    response = call(org.executive, "get", "/api/v1/quotas", {"month_from": "2027-00"})

    assert response.status_code == 400
    assert response.json()["field"] == "month_from"


def test_quota_detail_own_and_others(org, allocation, call):
    own = Quota.objects.filter(allocation=allocation, person=org.sam).order_by("month").first()
    others = Quota.objects.filter(allocation=allocation, person=org.olga).first()
    teammates = Quota.objects.filter(allocation=allocation, person=org.sara).first()

    mine = call(org.seller, "get", f"/api/v1/quotas/{own.pk}")
    theirs = call(org.seller, "get", f"/api/v1/quotas/{others.pk}")
    teammate = call(org.seller, "get", f"/api/v1/quotas/{teammates.pk}")
    managers_view = call(org.manager, "get", f"/api/v1/quotas/{teammates.pk}")
    other_managers_view = call(org.other_manager, "get", f"/api/v1/quotas/{own.pk}")

    assert mine.status_code == 200
    assert mine.json()["id"] == own.pk
    assert (mine.json()["person_id"], mine.json()["amount_minor"], mine.json()["month"]) == (org.sam.pk, own.amount_minor, "2027-01")
    for response in (theirs, teammate, other_managers_view):
        assert response.status_code == 404
        assert response.json() == {"error": "That quota was not found.", "field": "quota"}
    assert managers_view.status_code == 200


def test_quota_list_without_an_allocation_is_empty(org, approved_plan, call):
    assert call(org.executive, "get", "/api/v1/quotas").json() == {"count": 0, "items": []}


def test_quota_list_queries_do_not_grow_with_the_page(org, allocation, bearer, client):
    headers = bearer(org.manager)
    client.get("/api/v1/quotas", **headers)  # the token's first use records last_used_at once

    def queries(limit):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/quotas", {"limit": limit}, **headers)
        assert len(response.json()["items"]) == limit
        return len(captured.captured_queries)

    assert queries(2) == queries(100)


# --- commits ---------------------------------------------------------------------------------------


def test_seller_creates_then_updates_their_own_commit(org, call):
    created = call(
        org.seller, "post", "/api/v1/commits", {"month": "2027-03", "motion": "new", "amount_minor": 1_500_000, "note": "two deals"}
    )
    updated = call(org.seller, "post", "/api/v1/commits", {"month": "2027-03", "motion": "new", "amount_minor": 1_750_050})

    assert created.status_code == 201
    assert created.json()["person_id"] == org.sam.pk
    assert (created.json()["month"], created.json()["motion"], created.json()["amount"], created.json()["note"]) == (
        "2027-03",
        "new",
        "15000.00",
        "two deals",
    )
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    commit = Commit.objects.get()
    assert (commit.person, commit.month, commit.amount_minor, commit.currency, commit.entered_by) == (
        org.sam,
        date(2027, 3, 1),
        1_750_050,
        "EUR",
        org.seller,
    )


def test_seller_commit_for_another_seller_is_404_and_creates_nothing(org, call):
    for person in (org.olga, org.sara):
        response = call(
            org.seller, "post", "/api/v1/commits", {"person_id": person.pk, "month": "2027-03", "motion": "new", "amount_minor": 1}
        )

        assert response.status_code == 404
        assert response.json() == {"error": "That person was not found.", "field": "person_id"}
    assert Commit.objects.count() == 0


def test_manager_commits_for_their_team_not_for_another(org, call):
    mine = call(
        org.manager, "post", "/api/v1/commits", {"person_id": org.sara.pk, "month": "2027-05", "motion": "renewal", "amount_minor": 300}
    )
    other = call(
        org.manager, "post", "/api/v1/commits", {"person_id": org.olga.pk, "month": "2027-05", "motion": "renewal", "amount_minor": 300}
    )

    assert mine.status_code == 201
    assert other.status_code == 404
    assert list(Commit.objects.values_list("person_id", "amount_minor")) == [(org.sara.pk, 300)]


def test_finance_may_not_enter_commits(org, call):
    response = call(
        org.finance, "post", "/api/v1/commits", {"person_id": org.sam.pk, "month": "2027-05", "motion": "new", "amount_minor": 1}
    )

    assert response.status_code == 403
    assert Commit.objects.count() == 0


def test_commit_without_a_place_in_the_org_needs_a_person(org, call):
    response = call(org.outsider, "post", "/api/v1/commits", {"month": "2027-05", "motion": "new", "amount_minor": 1})

    assert response.status_code == 400
    assert response.json()["field"] == "person_id"
    assert Commit.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_minor": -1}, "amount_minor"),
        ({"motion": "upsell"}, "motion"),
        ({"month": "next month"}, "month"),
        ({"currency": "EURO"}, "currency"),
        ({"amount_minor": "lots"}, "amount_minor"),
    ],
)
def test_bad_commit_input_is_400_naming_the_field_and_creates_nothing(org, call, changes, field):
    response = call(org.seller, "post", "/api/v1/commits", {"month": "2027-03", "motion": "new", "amount_minor": 1, **changes})

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert Commit.objects.count() == 0


def test_commit_list_is_scoped(org, call):
    sams = commit_upsert(actor=org.seller, person_id=org.sam.pk, month=date(2027, 1, 1), motion="new", amount_minor=10, currency="EUR")
    saras = commit_upsert(actor=org.teammate, person_id=org.sara.pk, month=date(2027, 1, 1), motion="new", amount_minor=20, currency="EUR")
    olgas = commit_upsert(
        actor=org.other_seller, person_id=org.olga.pk, month=date(2027, 1, 1), motion="new", amount_minor=30, currency="EUR"
    )

    def ids(user, **filters):
        body = call(user, "get", "/api/v1/commits", filters).json()
        return sorted(item["id"] for item in body["items"])

    assert ids(org.seller) == [sams.pk]
    assert ids(org.other_seller) == [olgas.pk]
    assert ids(org.manager) == sorted([sams.pk, saras.pk])
    assert ids(org.executive) == sorted([sams.pk, saras.pk, olgas.pk])
    assert ids(org.executive, person=org.olga.pk) == [olgas.pk]
    assert call(org.seller, "get", "/api/v1/commits", {"person": org.olga.pk}).status_code == 404


def test_update_own_commit_by_id(org, call):
    commit = commit_upsert(actor=org.seller, person_id=org.sam.pk, month=date(2027, 1, 1), motion="new", amount_minor=10, currency="EUR")

    response = call(org.seller, "put", f"/api/v1/commits/{commit.pk}", {"amount_minor": 99_999, "note": "pulled in"})

    assert response.status_code == 200
    assert (response.json()["amount_minor"], response.json()["amount"], response.json()["note"]) == (99_999, "999.99", "pulled in")
    commit.refresh_from_db()
    assert commit.amount_minor == 99_999


def test_update_another_sellers_commit_is_404_and_changes_nothing(org, call):
    commit = commit_upsert(actor=org.seller, person_id=org.sam.pk, month=date(2027, 1, 1), motion="new", amount_minor=10, currency="EUR")

    for user in (org.other_seller, org.teammate, org.other_manager):
        response = call(user, "put", f"/api/v1/commits/{commit.pk}", {"amount_minor": 1})
        assert response.status_code == 404
        assert response.json() == {"error": "That commit was not found.", "field": "commit"}
    commit.refresh_from_db()
    assert commit.amount_minor == 10


def test_filtering_by_someone_outside_your_scope_is_404_even_before_quotas_exist(org, call):
    response = call(org.seller, "get", "/api/v1/quotas", {"person": org.olga.pk})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "field"),
    [("/api/v1/quotas", "person"), ("/api/v1/commits", "person")],
)
def test_an_id_too_large_for_the_database_is_400_not_a_crash(org, call, path, field):
    response = call(org.executive, "get", path, {"person": 10**20})

    assert response.status_code == 400
    assert response.json()["field"] == field


@pytest.mark.parametrize("amount", [True, 12.0, "12", None])
def test_commit_amounts_must_be_json_integers(org, call, amount):
    response = call(org.seller, "post", "/api/v1/commits", {"month": "2027-03", "motion": "new", "amount_minor": amount})

    assert response.status_code == 400
    assert response.json()["field"] == "amount_minor"
    assert Commit.objects.count() == 0

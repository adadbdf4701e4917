"""Commit entry and the commit vs quota gap through the pages; out-of-scope posts change nothing."""

from datetime import date

import pytest
from django.db.models import Sum

from equipoise.quotas.models import Commit, Quota
from equipoise.quotas.selectors import quota_by_motion
from equipoise.quotas.services import allocation_lock, commit_upsert, quota_allocate

JANUARY, FEBRUARY = date(2027, 1, 1), date(2027, 2, 1)


@pytest.fixture
def allocation(org, approved_plan):
    # Locked: a seller sees quotas once they are final (a draft is hidden from them).
    allocation = quota_allocate(actor=org.executive, plan=approved_plan)
    return allocation_lock(actor=org.executive, allocation=allocation)


def _commits():
    return sorted(Commit.objects.values_list("person_id", "month", "motion", "amount_minor"))


def _post(client, person, cells):
    return client.post("/quotas/commits/", {"person": person.pk, **cells})


# --- commit entry ---------------------------------------------------------------------------------


def test_seller_sees_their_grid_with_quota_per_motion(client, org, allocation):
    client.force_login(org.seller)

    response = client.get("/quotas/commits/")

    assert response.status_code == 200
    assert response.context["person"] == org.sam
    grid = response.context["grid"]
    assert len(grid.rows) == 24
    expected = quota_by_motion(org.seller, allocation=allocation, person=org.sam, months=[JANUARY])
    january = {cell.motion: cell.quota_minor for cell in grid.rows[0]}
    assert january == {"new": expected["new"][0], "renewal": expected["renewal"][0], "expansion": 0}
    assert response.context["person_choices"] == []  # sellers enter for themselves only


def test_seller_enters_their_own_commits(client, org, allocation):
    client.force_login(org.seller)

    response = _post(client, org.sam, {"commit-2027-01-new": "12,500.50", "commit-2027-02-renewal": "3000", "commit-2027-03-new": ""})

    assert response.status_code == 302
    assert response["Location"] == f"/quotas/commits/?person={org.sam.pk}"
    assert _commits() == [(org.sam.pk, JANUARY, "new", 1_250_050), (org.sam.pk, FEBRUARY, "renewal", 300_000)]
    assert set(Commit.objects.values_list("entered_by", flat=True)) == {org.seller.pk}
    page = client.get(response["Location"])
    assert "Saved 2 commits for Sam Seller." in page.content.decode()
    assert 'value="12500.50"' in page.content.decode()


def test_changing_one_cell_updates_only_that_commit(client, org, allocation):
    commit_upsert(actor=org.manager, person_id=org.sam.pk, month=JANUARY, motion="new", amount_minor=100_000, currency="EUR")
    commit_upsert(actor=org.manager, person_id=org.sam.pk, month=FEBRUARY, motion="new", amount_minor=200_000, currency="EUR")
    client.force_login(org.seller)

    response = _post(client, org.sam, {"commit-2027-01-new": "1000.00", "commit-2027-02-new": "2500"})

    assert response.status_code == 302
    assert _commits() == [(org.sam.pk, JANUARY, "new", 100_000), (org.sam.pk, FEBRUARY, "new", 250_000)]
    entered_by = dict(Commit.objects.values_list("month", "entered_by"))
    assert entered_by == {JANUARY: org.manager.pk, FEBRUARY: org.seller.pk}  # the unchanged cell was not saved again


@pytest.mark.parametrize("target", ["olga", "sara", "maria"])
def test_a_seller_posting_for_another_person_gets_404_and_nothing_is_created(client, org, allocation, target):
    client.force_login(org.seller)

    response = _post(client, getattr(org, target), {"commit-2027-01-new": "5000"})

    assert response.status_code == 404
    assert Commit.objects.count() == 0


def test_a_seller_opening_another_persons_commits_gets_404(client, org, allocation):
    client.force_login(org.seller)

    assert client.get("/quotas/commits/", {"person": org.sara.pk}).status_code == 404
    assert client.get("/quotas/commits/", {"person": "x"}).status_code == 404


def test_a_manager_enters_commits_for_someone_in_their_subtree(client, org, allocation):
    client.force_login(org.manager)

    page = client.get("/quotas/commits/", {"person": org.sam.pk})
    response = _post(client, org.sam, {"commit-2027-01-expansion": "750"})

    labels = [label.strip() for _, label in page.context["person_choices"]]
    assert sorted(labels) == ["North (Maria Manager)", "Sam Seller", "Sara Seller"]
    assert response.status_code == 302
    commit = Commit.objects.get()
    assert (commit.person, commit.motion, commit.amount_minor, commit.entered_by) == (org.sam, "expansion", 75_000, org.manager)


def test_a_manager_posting_for_another_team_gets_404(client, org, allocation):
    client.force_login(org.manager)

    response = _post(client, org.olga, {"commit-2027-01-new": "5000"})

    assert response.status_code == 404
    assert Commit.objects.count() == 0


def test_a_negative_commit_is_named_and_nothing_is_saved(client, org, allocation):
    client.force_login(org.seller)

    response = _post(client, org.sam, {"commit-2027-01-new": "1000", "commit-2027-02-new": "-5"})

    assert response.status_code == 400
    assert [(cell.label, cell.error) for cell in response.context["grid"].errors] == [
        ("Feb 2027 · New customers", "A commit cannot be negative.")
    ]
    content = response.content.decode()
    assert "Nothing was saved: 1 cell needs fixing." in content
    assert 'href="#commit-2027-02-new">Feb 2027 · New customers</a>: A commit cannot be negative.' in content
    assert 'value="-5"' in content  # what was typed stays, to be corrected
    assert Commit.objects.count() == 0


def test_a_commit_too_large_to_store_is_named_and_nothing_is_saved(client, org, allocation):
    # given a seller typing far too many zeros (it used to overflow the database: a server error)
    client.force_login(org.seller)

    response = _post(client, org.sam, {"commit-2027-01-new": "1000", "commit-2027-02-new": "99999999999999999999"})

    # then the cell says what is wrong, what was typed stays, and nothing is saved
    assert response.status_code == 400
    assert [(cell.label, cell.error) for cell in response.context["grid"].errors] == [
        ("Feb 2027 · New customers", "A commit is too large: amounts go up to EUR 100,000,000,000,000.00. Check for extra zeros.")
    ]
    assert 'value="99999999999999999999"' in response.content.decode()
    assert Commit.objects.count() == 0


def test_commit_totals_set_commits_against_the_quota_of_the_same_months(client, org, allocation):
    # given Sam committed new business for January and February only
    client.force_login(org.seller)
    _post(client, org.sam, {"commit-2027-01-new": "1000", "commit-2027-02-new": "2000"})

    response = client.get("/quotas/commits/")

    # then the total beside the commits is the quota of those two months, and the horizon's quota is apart
    quota = quota_by_motion(org.seller, allocation=allocation, person=org.sam, months=[JANUARY, FEBRUARY])["new"]
    horizon_quota = Quota.objects.filter(allocation=allocation, person=org.sam, bucket__motion="new").aggregate(total=Sum("amount_minor"))
    new_total = response.context["grid"].motion_totals[0]
    assert new_total.commit_minor == 300_000
    assert new_total.committed_months == 2
    assert new_total.quota_committed_minor == sum(quota)
    assert new_total.quota_horizon_minor == horizon_quota["total"]
    assert new_total.quota_committed_minor < new_total.quota_horizon_minor
    # motions without a commit compare nothing with nothing
    assert response.context["grid"].motion_totals[1].commit_minor == 0
    assert response.context["grid"].motion_totals[1].quota_committed_minor == 0
    content = response.content.decode()
    assert "quota of the same months" in content
    assert "Quota over the horizon" in content


def test_every_bad_cell_is_reported_at_once(client, org, allocation):
    client.force_login(org.seller)

    response = _post(client, org.sam, {"commit-2027-01-new": "abc", "commit-2027-03-renewal": "-1", "commit-2027-04-new": "10.555"})

    assert response.status_code == 400
    assert [(cell.label, cell.error) for cell in response.context["grid"].errors] == [
        ("Jan 2027 · New customers", "'abc' is not an amount: write digits such as 1250000 or 1,250,000.00."),
        ("Mar 2027 · Renewal", "A commit cannot be negative."),
        ("Apr 2027 · New customers", "'10.555' has more than 2 decimals, the most EUR allows."),
    ]
    assert Commit.objects.count() == 0


def test_a_bad_cell_rolls_back_an_update_of_a_saved_commit(client, org, allocation):
    commit_upsert(actor=org.seller, person_id=org.sam.pk, month=JANUARY, motion="new", amount_minor=100_000, currency="EUR")
    client.force_login(org.seller)

    response = _post(client, org.sam, {"commit-2027-01-new": "9999", "commit-2027-02-new": "-1"})

    assert response.status_code == 400
    assert _commits() == [(org.sam.pk, JANUARY, "new", 100_000)]


def test_finance_sees_commits_read_only(client, org, allocation):
    client.force_login(org.finance)

    page = client.get("/quotas/commits/", {"person": org.sam.pk})
    response = _post(client, org.sam, {"commit-2027-01-new": "5000"})

    assert page.status_code == 200
    assert "the grid is read-only" in page.content.decode()
    assert response.status_code == 403
    assert Commit.objects.count() == 0


def test_commits_without_an_approved_plan_show_an_empty_state(client, org):
    client.force_login(org.seller)

    response = client.get("/quotas/commits/")

    assert response.status_code == 200
    assert "No approved plan yet" in response.content.decode()


# --- commit gap -----------------------------------------------------------------------------------


def _quota(allocation, person, month, **filters):
    rows = Quota.objects.filter(allocation=allocation, person=person, month=month, **filters)
    return rows.aggregate(total=Sum("amount_minor"))["total"] or 0


def test_gap_per_person_marks_a_shortfall_as_unfavourable(client, org, allocation):
    commit_upsert(actor=org.seller, person_id=org.sam.pk, month=JANUARY, motion="new", amount_minor=1_000_000, currency="EUR")
    client.force_login(org.manager)

    response = client.get("/quotas/gap/", {"from": "2027-01", "to": "2027-01"})

    assert response.status_code == 200
    rows = {row.person.full_name: row for row, _, _ in response.context["rows"]}
    assert sorted(rows) == ["Maria Manager", "Sam Seller", "Sara Seller"]
    sam_quota = _quota(allocation, org.sam, JANUARY)
    assert rows["Sam Seller"].gaps == [1_000_000 - sam_quota]
    assert rows["Maria Manager"].commit == [1_000_000]  # no number of her own: her team's, added up
    totals = response.context["totals"]
    assert totals.quota == [sam_quota + _quota(allocation, org.sara, JANUARY)]
    assert totals.commit == [1_000_000]
    content = response.content.decode()
    assert '<span class="variance variance-bad"><span aria-hidden="true">▼ </span>' in content
    assert '<span class="visually-hidden"> (unfavourable)</span>' in content
    assert "All sellers in view (2)" in content
    assert "Olga" not in content


def test_gap_for_a_seller_is_their_own_row_only(client, org, allocation):
    client.force_login(org.seller)

    response = client.get("/quotas/gap/")

    assert [row.person.full_name for row, _, _ in response.context["rows"]] == ["Sam Seller"]


def test_gap_filtered_by_motion_and_team(client, org, allocation):
    commit_upsert(actor=org.seller, person_id=org.sam.pk, month=JANUARY, motion="new", amount_minor=1_000_000, currency="EUR")
    commit_upsert(actor=org.seller, person_id=org.sam.pk, month=JANUARY, motion="renewal", amount_minor=9_000_000, currency="EUR")
    client.force_login(org.executive)

    response = client.get("/quotas/gap/", {"from": "2027-01", "to": "2027-01", "motion": "renewal", "team": org.maria.pk})

    rows = {row.person.full_name: row for row, _, _ in response.context["rows"]}
    assert sorted(rows) == ["Maria Manager", "Sam Seller", "Sara Seller"]
    renewal_quota = _quota(allocation, org.sam, JANUARY, bucket__motion="renewal")
    assert rows["Sam Seller"].quota == [renewal_quota]
    assert rows["Sam Seller"].commit == [9_000_000]
    assert rows["Sam Seller"].gap_total == 9_000_000 - renewal_quota
    assert '<span class="variance variance-good"><span aria-hidden="true">▲ </span>' in response.content.decode()
    assert "Renewal" in response.content.decode()


def test_gap_without_quotas_shows_an_empty_state(client, org, approved_plan):
    client.force_login(org.manager)

    response = client.get("/quotas/gap/")

    assert response.status_code == 200
    assert "No quotas yet" in response.content.decode()

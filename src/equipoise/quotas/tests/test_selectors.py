from datetime import date

from equipoise.quotas.selectors import commit_gap
from equipoise.quotas.services import commit_upsert, quota_allocate


def test_a_managers_own_commit_replaces_the_team_sum_only_in_the_months_they_entered(org, approved_plan):
    allocation = quota_allocate(actor=org.executive, plan=approved_plan)
    months = [date(2027, 1, 1), date(2027, 2, 1)]
    commit_upsert(actor=org.manager, person_id=org.maria.pk, month=months[0], motion="new", amount_minor=500, currency="EUR")
    commit_upsert(actor=org.seller, person_id=org.sam.pk, month=months[1], motion="new", amount_minor=700, currency="EUR")
    commit_upsert(actor=org.other_seller, person_id=org.olga.pk, month=months[1], motion="new", amount_minor=50, currency="EUR")
    rows = {row.person: row for row in commit_gap(org.executive, allocation=allocation, months=months)}
    assert rows[org.maria].commit == [500, 700]
    assert rows[org.omar].commit == [0, 50]
    assert rows[org.vp].commit == [500, 750]
    assert rows[org.sam].gaps == [-rows[org.sam].quota[0], 700 - rows[org.sam].quota[1]]


def test_a_manager_sees_only_their_subtree_in_the_gap(org, approved_plan):
    allocation = quota_allocate(actor=org.executive, plan=approved_plan)
    people = [row.person for row in commit_gap(org.manager, allocation=allocation, months=[date(2027, 1, 1)])]
    assert people == [org.maria, org.sam, org.sara]

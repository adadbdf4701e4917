"""Loading the demo company into a database: once, the same for the same seed and day, never over other data."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from equipoise.core.errors import ApplicationError
from equipoise.demo import catalog
from equipoise.demo.bench import check_reconciliation
from equipoise.demo.loader import load_demo
from equipoise.demo.summary import demo_fingerprint
from equipoise.demo.timeline import demo_timeline
from equipoise.org.models import Company, Person
from equipoise.quotas.models import QuotaAllocation
from equipoise.results.models import Contract, ResultLine
from equipoise.results.rollups import rollups_compare

AS_OF = date(2026, 11, 18)
SMALL = {"as_of": AS_OF, "seed": 5, "sellers": 16, "customers": 200}
TIMELINE = demo_timeline(AS_OF)


def test_same_seed_and_day_load_the_same_company(db):
    # given the demo loaded once, fingerprinted, and rolled back
    with transaction.atomic():
        load_demo(**SMALL)
        first = demo_fingerprint()
        transaction.set_rollback(True)
    assert not Company.objects.exists()

    # when it is loaded again with the same seed and day
    load_demo(**SMALL)

    # then everything, down to each bucket target, quota level, result line and contract, is the same
    assert demo_fingerprint() == first
    assert first["counts"]["result_lines"] > 0
    assert first["counts"]["quota_rows"] > 0
    assert first["first_result"] == TIMELINE.history_start


def test_loading_twice_duplicates_nothing(db):
    first = load_demo(**SMALL)
    before = demo_fingerprint()
    users = get_user_model().objects.count()

    again = load_demo(**SMALL)

    assert first.created is True
    assert again.created is False
    assert demo_fingerprint() == before
    assert get_user_model().objects.count() == users
    assert Company.objects.count() == 1


def test_refuses_to_load_on_top_of_another_company(org):
    people = Person.objects.count()

    with pytest.raises(ApplicationError, match="already holds Test Co"):
        load_demo(**SMALL)

    assert Person.objects.count() == people
    assert not ResultLine.objects.exists()
    assert not Contract.objects.exists()
    assert not Company.objects.filter(name=catalog.COMPANY_NAME).exists()


@pytest.mark.parametrize("sellers", [1, 3, 9])
def test_tiny_companies_load_and_reconcile(db, sellers):
    # a company smaller than its regions sells only where it has sellers, so every bucket is covered
    result = load_demo(as_of=AS_OF, seed=sellers, sellers=sellers, customers=40)

    assert result.counts["sellers"] == sellers
    assert check_reconciliation(QuotaAllocation.objects.get()).reconciled is True
    assert rollups_compare() == []

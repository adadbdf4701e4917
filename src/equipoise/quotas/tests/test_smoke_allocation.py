from collections import defaultdict

from django.db.models import Sum

from equipoise.quotas.models import Quota
from equipoise.quotas.services import quota_allocate


def test_allocation_reconciles_at_every_level_with_cushion(org, approved_plan):
    allocation = quota_allocate(actor=org.executive, plan=approved_plan, cushion_bp_by_level=[0, 1000])
    totals = defaultdict(int)
    for person_id, total in Quota.objects.filter(allocation=allocation).values_list("person_id").annotate(t=Sum("amount_minor")):
        totals[person_id] = total
    assert totals[org.vp.pk] == 120_000_000
    assert totals[org.maria.pk] == 80_000_000
    assert totals[org.omar.pk] == 40_000_000
    assert totals[org.sam.pk] + totals[org.sara.pk] == 88_000_000
    assert totals[org.olga.pk] == 44_000_000

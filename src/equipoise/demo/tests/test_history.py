"""planning.history: the booked result lines that seasonality and allocation learn from."""

import time
from datetime import date

import pytest
from django.db.models import Q

from equipoise.org.models import Customer, ProductLine, Region
from equipoise.planning import history
from equipoise.planning.models import PlanBucket
from equipoise.planning.services import bucket_add, plan_create
from equipoise.results.ingest import Ingestor, LineInput
from equipoise.results.models import BatchChannel, BatchStatus, ImportBatch


@pytest.fixture
def lines(org):
    """Sam and Sara sell in the North (a country of it, Nordland, too), Olga in the South."""
    nordland = Region.objects.create(code="NL-X", name="Nordland", parent=org.north)
    line = ProductLine.objects.create(code="CONN", name="Connectivity")
    acme = Customer.objects.create(code="ACME", name="Acme", home_region=org.north, owner=org.sam)
    globex = Customer.objects.create(code="GLOBEX", name="Globex", home_region=org.south, owner=org.olga)
    rows = [
        # (day, kind, amount, customer, region, motion, credits)
        (date(2026, 1, 10), "booking", 100_000, acme, org.north, "new", ((org.sam, 10_000),)),
        (date(2026, 1, 20), "renewal", 50_000, acme, nordland, "renewal", ((org.sam, 6_000), (org.sara, 4_000))),
        (date(2026, 1, 25), "invoice", 999_999, acme, org.north, "new", ((org.sam, 10_000),)),
        (date(2026, 1, 31), "churn", -70_000, acme, org.north, "renewal", ((org.sam, 10_000),)),
        (date(2026, 2, 3), "booking", 30_000, acme, nordland, "expansion", ((org.sara, 10_000),)),
        (date(2026, 2, 14), "booking", -30_000, acme, nordland, "expansion", ((org.sara, 10_000),)),  # a cancellation
        (date(2026, 3, 1), "booking", 80_000, globex, org.south, "new", ((org.olga, 10_000),)),
        (date(2026, 3, 31), "booking", 20_000, acme, org.north, "new", ((org.sam, 10_000),)),
    ]
    batch = ImportBatch.objects.create(channel=BatchChannel.API, source="crm", status=BatchStatus.COMMITTED)
    ingestor = Ingestor(batch=batch)
    ingestor.ingest(
        [
            LineInput(
                row=number,
                source="crm",
                external_id=str(number),
                kind=kind,
                occurred_on=day,
                currency="EUR",
                amount_minor=amount,
                customer_id=customer.pk,
                region_id=region.pk,
                product_line_id=line.pk,
                product_application_id=None,
                motion=motion,
                credits=tuple((seller.pk, share) for seller, share in credits),
            )
            for number, (day, kind, amount, customer, region, motion, credits) in enumerate(rows, start=1)
        ]
    )
    ingestor.finish(rows_read=len(rows), rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=time.perf_counter())
    return nordland


def _bucket(org, **dimensions) -> PlanBucket:
    plan = plan_create(actor=org.executive, name="Plan", start_month=date(2027, 1, 1), total_target_minor=1_000_000)
    return bucket_add(actor=org.executive, plan=plan, target_minor=1_000_000, **dimensions)


def test_monthly_totals_count_bookings_and_renewals_by_month(org, lines):
    assert history.monthly_totals() == {date(2026, 1, 1): 150_000, date(2026, 3, 1): 100_000}
    assert history.monthly_totals(start=date(2026, 2, 1), end=date(2026, 3, 1)) == {date(2026, 3, 1): 100_000}
    assert history.monthly_totals(start=date(2026, 1, 15), end=date(2026, 1, 15)) == {date(2026, 1, 1): 150_000}  # whole months
    assert history.monthly_totals(end=date(2025, 12, 1)) == {}


def test_a_region_bucket_takes_the_lines_of_its_countries(org, lines):
    north = _bucket(org, region=org.north, motion="new")
    north_renewal = _bucket(org, region=org.north, motion="renewal")

    assert history.monthly_totals(condition=history.bucket_filter(north)) == {date(2026, 1, 1): 100_000, date(2026, 3, 1): 20_000}
    assert history.monthly_totals(condition=history.bucket_filter(north_renewal)) == {date(2026, 1, 1): 50_000}  # booked in Nordland
    assert history.monthly_totals(condition=Q(region=lines)) == {date(2026, 1, 1): 50_000}  # February nets to nothing


def test_seller_averages_use_each_sellers_share_and_months_with_bookings(org, lines):
    north = _bucket(org, region=org.north)

    averages = history.seller_monthly_averages(condition=history.bucket_filter(north))

    # Sam: January 100,000 + 60% of 50,000, March 20,000; Sara: 40% of 50,000 in January, February nets to 0
    assert averages == {org.sam.pk: (75_000, 2), org.sara.pk: (20_000, 1)}
    assert history.seller_monthly_averages(condition=Q(), start=date(2026, 3, 1)) == {org.sam.pk: (20_000, 1), org.olga.pk: (80_000, 1)}


def test_no_result_lines_no_history(org):
    bucket = _bucket(org, region=org.north)

    assert history.monthly_totals() == {}
    assert history.seller_monthly_averages(condition=history.bucket_filter(bucket)) == {}

"""Two imports running at once lose no rollup update."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, transaction

from equipoise.results.ingest import Ingestor
from equipoise.results.models import ResultLine
from equipoise.results.rollups import rollups_compare, stored_rollups
from equipoise.results.tests.conftest import line, make_batch

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_imports_at_once_lose_no_rollup_update(org, catalog):
    if connection.vendor == "sqlite":
        # SQLite files serialise writers (BEGIN IMMEDIATE, a busy timeout); the in-memory test
        # database refuses a second writer outright instead, so the race is tested on PostgreSQL.
        pytest.skip("concurrent writers are tested on PostgreSQL; SQLite serialises them with BEGIN IMMEDIATE")
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(source: str, sellers: tuple[int, ...]) -> None:
        shares = [10_000 // len(sellers)] * len(sellers)
        shares[0] += 10_000 - sum(shares)
        credits = tuple(zip(sellers, shares, strict=True))
        try:
            start.wait()
            with transaction.atomic():
                ingestor = Ingestor(batch=make_batch(source))
                for chunk in range(5):
                    ingestor.ingest(
                        [
                            line(
                                org, catalog, external_id=f"{source}-{chunk}-{n}", source=source,
                                occurred_on=date(2027, 1, 1) + timedelta(days=n % 28), amount_minor=1_000 + n,
                                credits=credits,
                            )
                            for n in range(50)
                        ]
                    )  # fmt: skip
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection: the test database is dropped at the end

    # Both batches credit Maria's team (the same manager, VP and company rollup rows).
    threads = [
        threading.Thread(target=run, args=("crm", (org.sam.pk,))),
        threading.Thread(target=run, args=("billing", (org.sara.pk, org.sam.pk))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert ResultLine.objects.filter(source="crm").count() == 250
    assert ResultLine.objects.filter(source="billing").count() == 500
    expected_total = 2 * 5 * sum(1_000 + n for n in range(50))
    company_total = sum(amount for key, (amount, _) in stored_rollups().items() if key[:3] == ("rollup", 0, "M"))
    assert company_total == expected_total
    assert rollups_compare() == []

"""Write the demo's result lines the way a CRM feed delivers them: one committed import batch per
ISO week, through the results app's :class:`~equipoise.results.ingest.Ingestor`, the only writer
of result lines and rollups, so the rollups are exactly what any import would have left.

Each batch is stamped as received on the Monday after its week (06:00), or now if that is later
than now, so the imports page shows the weekly rhythm.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any

from django.utils import timezone

from equipoise.core.periods import iso_week_start
from equipoise.demo import catalog
from equipoise.demo.sales import ResultSpec
from equipoise.org.models import Customer, Person, ProductApplication, Region
from equipoise.results.ingest import Ingestor, LineInput
from equipoise.results.models import BatchChannel, BatchStatus, ImportBatch


@dataclass(frozen=True)
class Dimensions:
    """Database rows by demo code: the ids a result line refers to."""

    people: Mapping[str, Person]
    customers: Mapping[str, Customer]
    regions: Mapping[str, Region]
    applications: Mapping[str, ProductApplication]


def weeks_of(results: Iterable[ResultSpec]) -> dict[date, list[ResultSpec]]:
    """Lines by the Monday of their ISO week, in date order."""
    weeks: dict[date, list[ResultSpec]] = {}
    for line in sorted(results, key=lambda line: line.external_id):  # external ids are numbered in date order
        weeks.setdefault(iso_week_start(line.occurred_on), []).append(line)
    return dict(sorted(weeks.items()))


def _line_input(row: int, line: ResultSpec, dimensions: Dimensions) -> LineInput:
    application = dimensions.applications[line.application_code]
    return LineInput(
        row=row,
        source=catalog.RESULTS_SOURCE,
        external_id=line.external_id,
        kind=line.kind,
        occurred_on=line.occurred_on,
        currency=catalog.CURRENCY,
        amount_minor=line.amount_minor,
        customer_id=dimensions.customers[line.customer_code].pk,
        region_id=dimensions.regions[line.country_code].pk,
        product_line_id=application.product_line_id,
        product_application_id=application.pk,
        motion=line.motion,
        credits=tuple((dimensions.people[seller].pk, share) for seller, share in line.credits),
    )


def write_weekly_batches(weeks: Mapping[date, Sequence[ResultSpec]], *, dimensions: Dimensions, actor: Any) -> int:
    """One import batch per week; returns the number of lines written. Call inside a transaction."""
    written = 0
    received: list[ImportBatch] = []
    now = timezone.now()
    zone = timezone.get_current_timezone()
    for monday, lines in weeks.items():
        started = time.perf_counter()
        batch = ImportBatch.objects.create(
            channel=BatchChannel.API, source=catalog.RESULTS_SOURCE, status=BatchStatus.COMMITTED, created_by=actor
        )
        ingestor = Ingestor(batch=batch)
        ingestor.ingest([_line_input(row, line, dimensions) for row, line in enumerate(lines, start=1)])
        ingestor.finish(rows_read=len(lines), rows_skipped=0, rows_rejected=0, skipped_reasons={}, started=started)
        written += ingestor.counts.created
        batch.created_at = min(datetime.combine(monday + timedelta(days=7), clock(6, 0), tzinfo=zone), now)
        received.append(batch)
    ImportBatch.objects.bulk_update(received, ["created_at"], batch_size=500)
    return written

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from equipoise.org.models import Customer, ProductApplication, ProductLine
from equipoise.results.ingest import LineInput
from equipoise.results.models import BatchChannel, BatchStatus, ImportBatch


@dataclass
class Catalog:
    connectivity: ProductLine
    fibre: ProductApplication
    acme: Customer
    globex: Customer


@pytest.fixture
def catalog(org: Any) -> Catalog:
    connectivity = ProductLine.objects.create(code="CONN", name="Connectivity")
    fibre = ProductApplication.objects.create(product_line=connectivity, code="FIBRE", name="Fibre")
    acme = Customer.objects.create(code="ACME", name="Acme", home_region=org.north, owner=org.sam)
    globex = Customer.objects.create(code="GLOBEX", name="Globex", home_region=org.south, owner=org.olga)
    return Catalog(connectivity=connectivity, fibre=fibre, acme=acme, globex=globex)


def make_batch(source: str = "test") -> ImportBatch:
    return ImportBatch.objects.create(channel=BatchChannel.API, source=source, status=BatchStatus.COMMITTED)


def line(org: Any, catalog: Catalog, external_id: str = "L1", **overrides: Any) -> LineInput:
    values: dict[str, Any] = {
        "row": 1,
        "source": "test",
        "external_id": external_id,
        "kind": "booking",
        "occurred_on": date(2027, 1, 15),
        "currency": "EUR",
        "amount_minor": 100_000,
        "customer_id": catalog.acme.pk,
        "region_id": org.north.pk,
        "product_line_id": catalog.connectivity.pk,
        "product_application_id": catalog.fibre.pk,
        "motion": "new",
        "credits": ((org.sam.pk, 10_000),),
    }
    values.update(overrides)
    return LineInput(**values)

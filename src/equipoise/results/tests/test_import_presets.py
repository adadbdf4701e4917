"""Salesforce and HubSpot exports through the built-in presets (small fixture files in tests/data)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from equipoise.results.models import ColumnMapping, ResultLine
from equipoise.results.rollups import rollups_compare
from equipoise.results.services import mappings_all, results_import_file
from equipoise.results.tests.test_import_helpers import issue_rows, mapping_from

DATA = Path(__file__).parent / "data"


def test_presets_are_created_on_demand_and_read_only(db):
    names = [mapping.name for mapping in mappings_all()]
    assert names == ["crm-opportunities", "equipoise", "hubspot-deals", "salesforce-opportunities"]
    assert all(ColumnMapping.objects.values_list("is_preset", flat=True))


def test_a_salesforce_report_imports_closed_won_opportunities(org, catalog):
    batch = results_import_file(
        actor=org.executive, path_or_file=DATA / "salesforce_opportunities.csv", mapping_name="salesforce-opportunities", mode="quarantine"
    )
    assert (batch.status, batch.rows_read, batch.lines_created, batch.rows_rejected) == ("committed", 5, 2, 1)
    assert batch.skipped_reasons == {"Stage is Closed Lost": 1, "Stage is Prospecting": 1}
    assert issue_rows(batch) == [(4, "Product Name", "", "The row names no product: map a product column or set a default product line.")]
    assert sorted(ResultLine.objects.values_list("external_id", "line_amount_minor", "occurred_on", "motion", "seller_id", "source")) == [
        ("0065e00000AbCdE1", 1_250_000, date(2027, 1, 15), "new", org.sam.pk, "salesforce"),
        ("0065e00000AbCdE2", 325_050, date(2027, 2, 28), "expansion", org.sam.pk, "salesforce"),
    ]
    assert rollups_compare() == []


def test_a_copy_of_the_salesforce_preset_with_a_default_product_line(org, catalog):
    mapping_from("salesforce-opportunities", "salesforce-conn", defaults={"product_line": "CONN"})
    batch = results_import_file(actor=None, path_or_file=DATA / "salesforce_opportunities.csv", mapping_name="salesforce-conn")
    assert (batch.status, batch.lines_created) == ("committed", 3)
    renewal = ResultLine.objects.get(external_id="0065e00000AbCdE3")
    assert (renewal.motion, renewal.product_line_id, renewal.product_application_id, renewal.customer_id, renewal.region_id) == (
        "renewal",
        catalog.connectivity.pk,
        None,
        catalog.globex.pk,
        org.south.pk,
    )


def test_a_hubspot_export_imports_closed_won_deals(org, catalog):
    mapping_from("hubspot-deals", "hubspot-conn", defaults={"product_line": "CONN"})
    batch = results_import_file(actor=None, path_or_file=DATA / "hubspot_deals.csv", mapping_name="hubspot-conn")
    assert (batch.status, batch.lines_created, batch.skipped_reasons) == ("committed", 2, {"Deal Stage is appointmentscheduled": 1})
    assert sorted(ResultLine.objects.values_list("external_id", "line_amount_minor", "occurred_on", "motion", "source")) == [
        ("9001", 100_000, date(2027, 1, 20), "expansion", "hubspot"),
        ("9002", 250_000, date(2027, 2, 3), "new", "hubspot"),
    ]

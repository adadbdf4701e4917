"""Real exports are messy: what each kind of mess becomes (see docs/importing.md)."""

from __future__ import annotations

from equipoise.results.models import ColumnMapping, ResultLine
from equipoise.results.rollups import rollups_compare
from equipoise.results.services import results_import_file
from equipoise.results.tests.test_import_helpers import csv_bytes, equipoise_row, issue_rows, nothing_imported, write

RETAIL_HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Status"]


def retail(invoice, stock, quantity, price, customer="ACME", status="Paid", description="Fibre link"):
    return dict(zip(RETAIL_HEADER, [invoice, stock, description, quantity, "2027-01-10 08:26", price, customer, status], strict=True))


def retail_mapping():
    return ColumnMapping.objects.create(
        name="retail",
        config={
            "source": "shop",
            "columns": {
                "external_id": ["InvoiceNo", "StockCode"],
                "date": "InvoiceDate",
                "quantity": "Quantity",
                "unit_price": "UnitPrice",
                "customer_code": "CustomerID",
                "product_application": "StockCode",
            },
            "defaults": {"kind": "invoice", "currency": "GBP"},
            "filters": [{"column": "Status", "not_in": ["Quote"]}],
            "non_product_codes": ["POST", "DOT", "M", "BANK CHARGES"],
        },
    )


def test_each_kind_of_mess_has_its_outcome(org, catalog, tmp_path):
    retail_mapping()
    rows = [
        retail("536365", "FIBRE", "6", "2.55"),  # row 2: an invoice of 15.30
        retail("C536379", "FIBRE", "-1", "2.55"),  # row 3: a cancellation → credit note for the same customer
        retail("536366", "POST", "1", "18", description="POSTAGE"),  # row 4: postage is not a product
        retail("536367", "FIBRE", "2", "3.00", customer=""),  # row 5: no customer → rejected
        retail("536365", "FIBRE", "6", "2.55"),  # row 6: the exact same row again → skipped
        retail("536368", "FIBRE", "5", "0"),  # row 7: zero price → skipped
        retail("536365", "FIBRE", "7", "2.55"),  # row 8: the same id with other values → rejected
        retail("536369", "FIBRE", "1", "9.99", customer="", status="Quote"),  # row 9: filtered before the customer is checked
    ]
    batch = results_import_file(
        actor=org.admin, path_or_file=write(tmp_path, "shop.csv", csv_bytes(rows)), mapping_name="retail", mode="quarantine"
    )
    assert (batch.status, batch.rows_read, batch.lines_created, batch.rows_rejected, batch.rows_skipped) == ("committed", 8, 2, 2, 4)
    assert batch.skipped_reasons == {"Status is Quote": 1, "duplicate row": 1, "non-product line": 1, "zero amount": 1}
    assert issue_rows(batch) == [
        (5, "CustomerID", "", "The row names no customer."),
        (8, "InvoiceNo + StockCode", "536365:FIBRE", "Row 2 has the same external id with different values."),
    ]
    lines = sorted(
        ResultLine.objects.values_list("external_id", "kind", "measure", "line_amount_minor", "customer_id", "seller_id", "currency")
    )
    assert lines == [
        ("536365:FIBRE", "invoice", "invoiced", 1_530, catalog.acme.pk, org.sam.pk, "GBP"),
        ("C536379:FIBRE", "credit_note", "invoiced", -255, catalog.acme.pk, org.sam.pk, "GBP"),
    ]
    assert rollups_compare() == []


def test_the_same_mess_all_or_nothing_imports_nothing(org, catalog, tmp_path):
    retail_mapping()
    rows = [retail("536365", "FIBRE", "6", "2.55"), retail("536367", "FIBRE", "2", "3.00", customer="")]
    batch = results_import_file(actor=None, path_or_file=write(tmp_path, "shop.csv", csv_bytes(rows)), mapping_name="retail")
    assert (batch.status, batch.lines_created, batch.rows_rejected) == ("rejected", 0, 1)
    assert nothing_imported()


def test_churn_may_be_zero_and_credit_notes_are_negative(org, catalog, tmp_path):
    rows = [
        equipoise_row("CH1", kind="churn", amount="0", motion="renewal"),
        equipoise_row("CH2", kind="churn", amount="500"),
        equipoise_row("CN1", kind="credit_note", amount="120.00"),
        equipoise_row("INV", kind="invoice", amount="-40.00"),
        equipoise_row("BK0", amount="0.00"),
        equipoise_row("BKNEG", amount="-250.00"),
    ]
    batch = results_import_file(actor=None, path_or_file=write(tmp_path, "r.csv", csv_bytes(rows)), mapping_name="equipoise")
    assert (batch.status, batch.lines_created, batch.skipped_reasons) == ("committed", 5, {"zero amount": 1})
    assert sorted(ResultLine.objects.values_list("external_id", "kind", "line_amount_minor")) == [
        ("BKNEG", "booking", -25_000),
        ("CH1", "churn", 0),
        ("CH2", "churn", -50_000),
        ("CN1", "credit_note", -12_000),
        ("INV", "credit_note", -4_000),
    ]
    assert rollups_compare() == []


def test_a_row_without_seller_credits_the_customers_owner_or_is_rejected(org, catalog, tmp_path):
    catalog.globex.owner = None
    catalog.globex.save()
    rows = [equipoise_row("O1", sellers=""), equipoise_row("O2", sellers="", customer_code="GLOBEX")]
    batch = results_import_file(
        actor=None, path_or_file=write(tmp_path, "r.csv", csv_bytes(rows)), mapping_name="equipoise", mode="quarantine"
    )
    assert ResultLine.objects.get().seller_id == org.sam.pk
    assert issue_rows(batch) == [(3, "sellers", "", "The row names no seller (and the customer has no owner to credit).")]


def test_repeats_beyond_the_remembered_window_are_still_caught(org, catalog, tmp_path, monkeypatch):
    # Memory does not grow with the file: the reader remembers a window of external ids, and a
    # repeat of an older row is caught by the ingest's look-up of what this batch already wrote.
    from equipoise.results.importing import rows as rows_module

    monkeypatch.setattr(rows_module, "SEEN_WINDOW", 2)
    retail_mapping()
    file_rows = [
        retail("1", "FIBRE", "6", "2.55"),  # row 2
        retail("2", "FIBRE", "1", "1.00"),  # row 3
        retail("3", "FIBRE", "1", "1.00"),  # row 4: the window is full and forgets rows 2–3
        retail("1", "FIBRE", "6", "2.55"),  # row 5: exact repeat of row 2 → skipped
        retail("2", "FIBRE", "9", "1.00"),  # row 6: row 3's id with other values → rejected
    ]
    batch = results_import_file(
        actor=org.admin,
        path_or_file=write(tmp_path, "shop.csv", csv_bytes(file_rows)),
        mapping_name="retail",
        mode="quarantine",
        chunk_lines=1,
    )
    assert (batch.lines_created, batch.rows_skipped, batch.rows_rejected) == (3, 1, 1)
    assert batch.skipped_reasons == {"duplicate row": 1}
    assert issue_rows(batch) == [
        (6, "InvoiceNo + StockCode", "2:FIBRE", "An earlier row of this file has the same external id with different values.")
    ]
    assert sorted(ResultLine.objects.values_list("external_id", "line_amount_minor")) == [
        ("1:FIBRE", 1530),
        ("2:FIBRE", 100),
        ("3:FIBRE", 100),
    ]
    assert rollups_compare() == []

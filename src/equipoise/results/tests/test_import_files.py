"""File import: formats, encodings, bad input, duplicates, modes, corrections and atomicity."""

from __future__ import annotations

import codecs
import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

from equipoise.core.errors import AccessDenied, ApplicationError
from equipoise.org.models import Customer, Person, ProductLine
from equipoise.results import ingest
from equipoise.results.importing.readers import MAX_LINE_CHARS
from equipoise.results.importing.report import neutralise, report_rows
from equipoise.results.models import ImportBatch, ImportIssue, ResultLine, ResultLineRevision, Rollup
from equipoise.results.rollups import rollups_compare
from equipoise.results.services import results_import_file
from equipoise.results.tests.test_import_helpers import (
    EQUIPOISE_HEADER,
    csv_bytes,
    equipoise_row,
    issue_rows,
    mapping_from,
    nothing_imported,
    write,
)


def _zip_without_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def run(path, mapping="equipoise", **options):
    return results_import_file(actor=options.pop("actor", None), path_or_file=path, mapping_name=mapping, **options)


def test_an_equipoise_file_imports_with_split_credit_and_defaults(org, catalog, tmp_path):
    rows = [
        equipoise_row("L1"),
        equipoise_row("L2", amount="500.01", sellers="seller;other_seller", shares="60;40", motion="expansion"),
        equipoise_row("L3", customer_code="globex", product_application="", sellers="olga seller", kind="", motion=""),
    ]
    batch = run(write(tmp_path, "results.csv", csv_bytes(rows)), actor=org.admin)
    assert (batch.status, batch.rows_read, batch.lines_created, batch.rows_rejected, batch.rows_skipped) == ("committed", 3, 3, 0, 0)
    assert batch.created_by == org.admin and batch.file_name == "results.csv" and len(batch.file_sha256) == 64
    assert batch.source == "file" and batch.mapping_name == "equipoise"
    credits = sorted(ResultLine.objects.values_list("external_id", "seller_id", "amount_minor", "line_amount_minor", "motion", "region_id"))
    assert credits == [
        ("L1", org.sam.pk, 100_000, 100_000, "new", org.north.pk),
        ("L2", org.sam.pk, 30_001, 50_001, "expansion", org.north.pk),
        ("L2", org.olga.pk, 20_000, 50_001, "expansion", org.north.pk),
        ("L3", org.olga.pk, 100_000, 100_000, "new", org.south.pk),
    ]
    l3 = ResultLine.objects.get(external_id="L3")
    assert (l3.kind, l3.product_line_id, l3.product_application_id, l3.currency) == ("booking", catalog.connectivity.pk, None, "EUR")
    assert rollups_compare() == []


def test_a_seller_may_not_import(org, catalog, tmp_path):
    with pytest.raises(AccessDenied):
        run(write(tmp_path, "r.csv", csv_bytes([equipoise_row()])), actor=org.seller)
    assert not ImportBatch.objects.exists() and nothing_imported()


def test_semicolon_decimal_comma_windows_1252(org, catalog, tmp_path):
    catalog.acme.name = "Société Générale"
    catalog.acme.save()
    mapping_from(
        "equipoise",
        "french",
        columns={
            "external_id": "Référence",
            "date": "Date",
            "amount": "Montant",
            "customer_name": "Client",
            "product_line": "Gamme",
            "seller": "Vendeur",
        },
        optional_columns=[],
        date_format="%d/%m/%Y",
        decimal_separator=",",
        thousands_separator=".",
        seller_match="name",
    )
    content = (
        "Référence;Date;Montant;Client;Gamme;Vendeur\n"
        "F-1;31/01/2027;1.234,56;Société Générale;CONN;Sam Seller\n"
        "F-2;01/02/2027;-10,5;société  générale;CONN;Sam Seller\n"
    )
    batch = run(write(tmp_path, "export.csv", content.encode("cp1252")), mapping="french")
    assert (batch.status, batch.lines_created) == ("committed", 2)
    assert sorted(ResultLine.objects.values_list("external_id", "line_amount_minor", "occurred_on", "customer_id")) == [
        ("F-1", 123_456, date(2027, 1, 31), catalog.acme.pk),
        ("F-2", -1_050, date(2027, 2, 1), catalog.acme.pk),
    ]
    assert rollups_compare() == []


def test_utf8_with_bom_and_tab_delimiter(org, catalog, tmp_path):
    content = codecs.BOM_UTF8 + csv_bytes([equipoise_row("B1")], delimiter="\t")
    batch = run(write(tmp_path, "bom.tsv", content))
    assert (batch.status, batch.lines_created) == ("committed", 1)


def test_xlsx_with_dates_and_numbers(org, catalog, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(EQUIPOISE_HEADER)
    sheet.append(["X1", date(2027, 3, 1), 1234.5, "ACME", "CONN", "FIBRE", "seller", None, "booking", "new"])
    sheet.append(["X2", "2027-03-02", 7, "GLOBEX", "CONN", None, "other_seller", None, None, None])
    sheet.append([None] * len(EQUIPOISE_HEADER))
    path = tmp_path / "results.xlsx"
    workbook.save(path)
    batch = run(path)
    assert (batch.status, batch.lines_created, batch.skipped_reasons) == ("committed", 2, {"blank row": 1})
    assert sorted(ResultLine.objects.values_list("external_id", "line_amount_minor", "occurred_on")) == [
        ("X1", 123_450, date(2027, 3, 1)),
        ("X2", 700, date(2027, 3, 2)),
    ]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "The file is empty"),
        ("blank.csv", b"\xef\xbb\xbf\r\n  \n", "The file is empty"),
        ("binary.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a CSV file but an image"),
        ("nul.csv", b"external_id,date\x00\x00\x01\x02" + bytes(range(256)), "This is a binary file"),
        ("noise.csv", bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 50, "binary file, or text in an unknown encoding"),
        ("utf16.csv", "external_id,date\n".encode("utf-16"), "UTF-16"),
        ("header-only.csv", ",".join(EQUIPOISE_HEADER).encode() + b"\n", "a header but no rows"),
        ("fake.xlsx", b"not a zip at all", "not a readable XLSX workbook"),
        ("document.xlsx", _zip_without_workbook(), "not a readable XLSX workbook"),
        ("workbook.csv", b"PK\x03\x04" + bytes(200), "not a CSV file but a ZIP archive or an Excel workbook (XLSX)"),
    ],
)
def test_unreadable_files_are_rejected_with_a_clear_error(org, catalog, tmp_path, name, content, reason):
    batch = run(write(tmp_path, name, content))
    assert batch.status == "rejected"
    issues = issue_rows(batch)
    assert len(issues) == 1 and reason in issues[0][3], issues
    assert reason in batch.failure and batch.rows_rejected == 0  # the file, not a row
    assert nothing_imported()


def test_missing_column_names_it(org, catalog, tmp_path):
    header = [column for column in EQUIPOISE_HEADER if column != "amount"]
    batch = run(write(tmp_path, "r.csv", csv_bytes([equipoise_row()], header=header)))
    assert batch.status == "rejected"
    [(row, column, _, reason)] = issue_rows(batch)
    assert (row, column) == (1, "amount")
    assert reason.startswith("The file has no column 'amount', which the mapping needs.")
    assert nothing_imported()


@pytest.mark.parametrize(
    ("values", "column", "reason"),
    [
        ({"amount": "twelve"}, "amount", "'twelve' is not an amount"),
        ({"amount": "12.345"}, "amount", "more than 2 decimals"),
        ({"amount": ""}, "amount", "The amount is blank."),
        ({"date": "2027-02-30"}, "date", "'2027-02-30' is not a date that exists."),
        ({"date": "next week"}, "date", "'next week' is not a date: write it as YYYY-MM-DD."),
        ({"sellers": "seller;teammate", "shares": "60;30"}, "shares", "The sellers' shares sum to 90%, not 100%."),
        ({"sellers": "seller;teammate", "shares": "100"}, "shares", "2 sellers but 1 shares"),
        ({"sellers": "seller;seller", "shares": "50;50"}, "sellers", "The same seller appears twice in the split."),
        ({"kind": "quote"}, "kind", "Unknown kind"),
        ({"motion": "upsell"}, "motion", "Unknown motion"),
        ({"customer_code": "NOPE"}, "customer_code", "Unknown customer (the mapping rejects unknown customers)."),
        ({"product_line": "NOPE"}, "product_line", "Unknown product line"),
        ({"sellers": "nobody@example.com"}, "sellers", "No person has this e-mail address"),
    ],
)
def test_a_bad_value_rejects_the_file_and_names_row_and_column(org, catalog, tmp_path, values, column, reason):
    rows = [equipoise_row("OK1"), equipoise_row("BAD", **values), equipoise_row("OK2")]
    batch = run(write(tmp_path, "r.csv", csv_bytes(rows)))
    assert (batch.status, batch.rows_rejected, batch.lines_created) == ("rejected", 1, 0)
    issues = issue_rows(batch)
    assert [(row, col) for row, col, _, _ in issues] == [(3, column)]
    assert reason in issues[0][3]
    assert nothing_imported()


def test_a_ten_megabyte_line_is_refused_naming_its_row(org, catalog, tmp_path):
    content = csv_bytes([equipoise_row("L1")]) + b"L2,2027-01-15," + b"9" * (10 * 1024 * 1024) + b",ACME,CONN,,seller,,,\n"
    batch = run(write(tmp_path, "long.csv", content), mode="quarantine")
    assert batch.status == "rejected"
    [(row, _, _, reason)] = issue_rows(batch)
    assert row == 3 and f"Row 3 is longer than {MAX_LINE_CHARS:,} characters" in reason
    assert nothing_imported()


def test_a_huge_quoted_field_is_refused(org, catalog, tmp_path):
    content = csv_bytes([equipoise_row("L1")]) + b'L2,2027-01-15,"' + b"9\n" * (MAX_LINE_CHARS // 2 + 10) + b'",ACME\n'
    batch = run(write(tmp_path, "quoted.csv", content))
    assert batch.status == "rejected"
    assert "Row 3 cannot be read as CSV" in issue_rows(batch)[0][3]
    assert nothing_imported()


def test_the_same_file_twice_is_a_duplicate_unless_forced(org, catalog, tmp_path):
    path = write(tmp_path, "r.csv", csv_bytes([equipoise_row("L1"), equipoise_row("L2")]))
    first = run(path)
    second = run(path)
    assert (first.status, second.status, second.lines_created, second.rows_read) == ("committed", "duplicate", 0, 0)
    assert f"already imported with the mapping 'equipoise' as batch #{first.pk}" in issue_rows(second)[0][3]
    assert ResultLine.objects.count() == 2
    forced = run(path, force=True)
    assert (forced.status, forced.lines_created, forced.lines_unchanged) == ("committed", 0, 2)
    assert rollups_compare() == []


def test_a_rejected_file_may_be_imported_again(org, catalog, tmp_path):
    path = write(tmp_path, "r.csv", csv_bytes([equipoise_row("L1", amount="x")]))
    assert run(path).status == "rejected"
    assert run(path).status == "rejected"  # not a "duplicate": nothing of it was imported


def test_all_or_nothing_against_quarantine(org, catalog, tmp_path):
    rows = [
        equipoise_row("L1"),
        equipoise_row("L2", amount="abc"),
        equipoise_row("L3"),
        equipoise_row("L4", date="2027-13-01", customer_code="NOPE"),
        equipoise_row("L5", amount="0"),
    ]
    path = write(tmp_path, "r.csv", csv_bytes(rows))
    strict = run(path)
    assert (strict.status, strict.rows_read, strict.lines_created, strict.rows_rejected, strict.rows_skipped) == ("rejected", 5, 0, 2, 1)
    # Row 5 has a date that does not exist and an unknown customer: both are reported at once
    assert [issue[:2] for issue in issue_rows(strict)] == [(3, "amount"), (5, "date"), (5, "customer_code")]
    assert nothing_imported()
    lenient = run(path, mode="quarantine")
    assert (lenient.status, lenient.lines_created, lenient.rows_rejected, lenient.skipped_reasons) == (
        "committed",
        2,
        2,
        {"zero amount": 1},
    )
    quarantined = dict(lenient.issues.values_list("row_number", "quarantined_row"))
    assert quarantined[3]["amount"] == "abc" and quarantined[3]["external_id"] == "L2"
    assert sorted(ResultLine.objects.values_list("external_id", flat=True)) == ["L1", "L3"]
    assert rollups_compare() == []


def test_issues_are_capped_at_ten_thousand_and_say_so(org, catalog, tmp_path):
    rows = [equipoise_row(f"L{index}", amount="x", date="never") for index in range(5_001)]
    batch = run(write(tmp_path, "r.csv", csv_bytes(rows)))
    assert (batch.status, batch.rows_rejected) == ("rejected", 5_001)
    assert batch.issues.count() == 10_001
    note = batch.issues.order_by("row_number", "id").first()
    assert note.row_number == 0
    assert note.reason == "The report lists the first 10,000 problems; 2 more were found. Fix these and import again."


def test_a_corrected_row_is_a_correction_with_its_revision(org, catalog, tmp_path):
    first = run(write(tmp_path, "week1.csv", csv_bytes([equipoise_row("L1"), equipoise_row("L2")])))
    second = run(write(tmp_path, "week2.csv", csv_bytes([equipoise_row("L1"), equipoise_row("L2", amount="1200.00")])))
    assert (second.lines_created, second.lines_corrected, second.lines_unchanged) == (0, 1, 1)
    line = ResultLine.objects.get(external_id="L2")
    assert (line.line_amount_minor, line.version, line.batch_id) == (120_000, 2, second.pk)
    revision = ResultLineRevision.objects.get()
    assert (revision.external_id, revision.previous["amount_minor"], revision.batch_id, revision.replaced_by_batch_id) == (
        "L2",
        100_000,
        first.pk,
        second.pk,
    )
    assert rollups_compare() == []


def test_a_failure_mid_import_leaves_nothing(org, catalog, tmp_path, monkeypatch):
    rows = [equipoise_row(f"L{index}") for index in range(10)]
    calls = []

    def failing(method):
        original = getattr(ingest.Ingestor, method)

        def chunk(self, lines):
            # Lines read in this process come as LineInput values, those from a reading process as credit rows.
            calls.append(len(lines.line_rows) if isinstance(lines, ingest.PreparedLines) else len(lines))
            if len(calls) == 2:
                raise KeyboardInterrupt("killed mid-import")
            return original(self, lines)

        return chunk

    monkeypatch.setattr(ingest.Ingestor, "ingest", failing("ingest"))
    monkeypatch.setattr(ingest.Ingestor, "ingest_prepared", failing("ingest_prepared"))
    with pytest.raises(KeyboardInterrupt):
        run(write(tmp_path, "r.csv", csv_bytes(rows)), chunk_lines=3)
    assert calls == [3, 3]
    assert nothing_imported()
    assert not ImportBatch.objects.exists() and not ImportIssue.objects.exists()


def test_source_option_and_unknown_mapping(org, catalog, tmp_path):
    path = write(tmp_path, "r.csv", csv_bytes([equipoise_row("L1")]))
    batch = run(path, source="billing")
    assert ResultLine.objects.get().source == "billing" == batch.source
    with pytest.raises(ApplicationError, match="There is no mapping named 'nope'"):
        run(path, mapping="nope")
    with pytest.raises(ApplicationError, match="not all-or-nothing or quarantine"):
        run(path, mode="sometimes")


def test_error_report_neutralises_formulas(org, catalog, tmp_path):
    rows = [equipoise_row("L1", customer_code='=HYPERLINK("http://evil","x")'), equipoise_row("@SUM(A1)", amount="+1+2")]
    batch = run(write(tmp_path, "r.csv", csv_bytes(rows)))
    text = "".join(report_rows(batch.issues.all()))
    assert text.startswith("\ufeffrow,column,value,reason\r\n")
    assert '2,customer_code,"\'=HYPERLINK(""http://evil"",""x"")",Unknown customer' in text
    assert "3,amount,'+1+2," in text
    assert [neutralise(value) for value in ("=1", "+1", "-1", "@x", "\tx", "plain", "")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "plain",
        "",
    ]


def test_amount_reader_handles_separators_and_parentheses():
    from equipoise.results.importing.parsing import AmountReader

    swiss = AmountReader(decimal_separator=".", thousands_separator="'")
    assert swiss.minor("1'234.5", "CHF") == 123_450
    assert swiss.minor("(12.00)", "CHF") == -1_200
    assert AmountReader(decimal_separator=",", thousands_separator=" ").minor("1 234 567,89", "EUR") == 123_456_789
    with pytest.raises(ValueError, match="has more than 0 decimals"):
        AmountReader().minor("12.5", "JPY")
    with pytest.raises(ValueError, match="larger than any amount"):
        AmountReader().minor("1" * 20, "EUR")
    assert AmountReader().product_minor("3", "0.425", "EUR") == 128  # 1.275 → 1.28, half to even


def test_rollups_reconcile_after_several_imports(org, catalog, tmp_path):
    run(write(tmp_path, "a.csv", csv_bytes([equipoise_row(f"A{i}", sellers="seller;teammate", shares="33.33;66.67") for i in range(5)])))
    run(write(tmp_path, "b.csv", csv_bytes([equipoise_row(f"A{i}", amount="7.77") for i in range(3)])))
    assert Rollup.objects.exists()
    assert rollups_compare() == []


def test_a_row_with_a_bad_value_also_gets_its_unknown_references_reported(org, catalog, tmp_path):
    """Fixing the date should not reveal, on the next import, that the customer and the seller
    are unknown too: the first report lists all three."""
    rows = [equipoise_row("L1", date="2027-02-30", customer_code="NOPE", sellers="nobody@example.com", motion="upsell")]
    batch = run(write(tmp_path, "r.csv", csv_bytes(rows)))
    assert batch.status == "rejected"
    assert [issue[1] for issue in issue_rows(batch)] == ["date", "motion", "customer_code", "sellers"]
    assert nothing_imported()


def test_checking_the_references_of_a_bad_row_creates_nothing(org, catalog, tmp_path):
    """Where the mapping creates unknown customers, products and sellers, a row that is invalid
    anyway creates none of them, in either mode, and its unknown references are no problem."""
    creating = {"unknown_customers": "create", "unknown_products": "create", "unknown_sellers": "create"}
    mapping_from("equipoise", "creating", **creating, defaults={"region": "North"})
    customers, people = Customer.objects.count(), Person.objects.count()
    rows = [
        equipoise_row("L1", amount="abc", customer_code="NEW-CO", product_line="New line", product_application="", sellers="Newton Seller")
    ]
    for mode in ("all_or_nothing", "quarantine"):
        batch = run(write(tmp_path, f"{mode}.csv", csv_bytes(rows)), mapping="creating", mode=mode)
        assert batch.rows_rejected == 1
        assert [issue[1] for issue in issue_rows(batch)] == ["amount"]
    assert (Customer.objects.count(), Person.objects.count()) == (customers, people)
    assert not ProductLine.objects.filter(name="New line").exists()

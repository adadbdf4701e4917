"""``equipoise import``: summary, exit codes, --list-mappings."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from equipoise.results.models import ImportBatch, ResultLine
from equipoise.results.tests.test_import_helpers import csv_bytes, equipoise_row, nothing_imported, write


def import_command(*args):
    out = io.StringIO()
    call_command("import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_list_mappings(db):
    output = import_command("--list-mappings")
    for name in ("equipoise", "salesforce-opportunities", "hubspot-deals", "crm-opportunities"):
        assert name in output


def test_a_good_file_prints_the_summary(org, catalog, tmp_path):
    path = write(tmp_path, "week.csv", csv_bytes([equipoise_row("L1"), equipoise_row("L2", amount="0")]))
    output = import_command(str(path), "--mapping", "equipoise", "--source", "weekly", "--user", "admin")
    batch = ImportBatch.objects.get()
    assert f"Import #{batch.pk} of week.csv with 'equipoise' into source 'weekly': Imported" in output
    assert "  lines created              1" in output
    assert "    zero amount                           1" in output
    assert ImportBatch.objects.get().created_by == org.admin
    again = import_command(str(path), "--mapping", "equipoise", "--source", "weekly")
    assert "Same file as an earlier import" in again and "nothing was imported" in again
    assert ResultLine.objects.count() == 1


def test_a_rejected_file_exits_2_and_shows_the_first_errors(org, catalog, tmp_path):
    path = write(tmp_path, "bad.csv", csv_bytes([equipoise_row("L1", amount="ten"), equipoise_row("L2", date="2027-02-30")]))
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import", str(path), "--mapping", "equipoise", stdout=out, stderr=io.StringIO())
    assert raised.value.returncode == 2
    assert "row 2 [amount] 'ten': 'ten' is not an amount" in out.getvalue()
    assert "row 3 [date] '2027-02-30': '2027-02-30' is not a date that exists." in out.getvalue()
    assert nothing_imported()


@pytest.mark.parametrize(
    "args",
    [
        ["--mapping", "equipoise"],
        ["/no/such/file.csv", "--mapping", "equipoise"],
        ["FILE", "--mapping", "nope"],
        ["FILE", "--mapping", "equipoise", "--user", "nobody"],
    ],
)
def test_invalid_input_exits_2(org, catalog, tmp_path, args):
    path = write(tmp_path, "r.csv", csv_bytes([equipoise_row()]))
    with pytest.raises(CommandError) as raised:
        call_command("import", *[str(path) if arg == "FILE" else arg for arg in args], stdout=io.StringIO(), stderr=io.StringIO())
    assert raised.value.returncode == 2
    assert nothing_imported()


def test_the_progress_bar_runs_no_thread_so_the_file_is_read_in_a_second_process(org, catalog, tmp_path, monkeypatch):
    """In a terminal the command draws a progress bar; rich's own refresh thread would make the
    process multi-threaded, where forking is unsafe and the import falls back to a writer thread."""
    from equipoise.results.importing import fileimport, forked

    monkeypatch.setattr(forked, "ENABLED", True)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich treats stderr as a terminal: the bar is drawn
    asked: list[bool] = []

    def available() -> bool:
        asked.append(forked.available())
        return asked[-1]

    monkeypatch.setattr(fileimport, "forked_reading_available", available)
    path = write(tmp_path, "week.csv", csv_bytes([equipoise_row(f"L{index}") for index in range(30)]))
    err = io.StringIO()
    call_command("import", str(path), "--mapping", "equipoise", stdout=io.StringIO(), stderr=err)
    assert asked == [True]
    assert ResultLine.objects.count() == 30


def test_a_capped_report_counts_the_problems_found(org, catalog, tmp_path, monkeypatch):
    # Given a report capped at 3 problems, and a file with 8 (two per row)
    monkeypatch.setattr("equipoise.results.importing.report.ISSUE_CAP", 3)
    rows = [equipoise_row(f"L{index}", amount="x", date="never") for index in range(4)]
    path = write(tmp_path, "bad.csv", csv_bytes(rows))
    out = io.StringIO()

    # When it is imported from the command line
    with pytest.raises(CommandError):
        call_command("import", str(path), "--mapping", "equipoise", stdout=out, stderr=io.StringIO())

    # Then the summary counts the 8 found (not the 3 kept plus the note) and lists only real problems
    batch = ImportBatch.objects.get()
    text = out.getvalue()
    assert f"First problems (3 of 8 found; the page /results/imports/{batch.pk}/ lists the first 3):" in text
    assert "The report lists the first" not in text
    assert text.count("  row ") == 3


def test_a_few_problems_are_all_listed_without_a_misleading_count(org, catalog, tmp_path):
    path = write(tmp_path, "bad.csv", csv_bytes([equipoise_row("L1", amount="ten")]))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", str(path), "--mapping", "equipoise", stdout=out, stderr=io.StringIO())
    assert "Problems (1):\n  row 2 [amount] 'ten'" in out.getvalue()


def test_a_file_missing_one_or_several_columns_says_so_in_good_english(org, catalog, tmp_path):
    one = [{key: value for key, value in equipoise_row("L1").items() if key != "amount"}]
    import_fails = []
    for name, rows in (("one.csv", one), ("several.csv", [{"order": "A1", "when": "2027-03-01"}])):
        out = io.StringIO()
        with pytest.raises(CommandError):
            call_command("import", str(write(tmp_path, name, csv_bytes(rows))), "--mapping", "equipoise", stdout=out, stderr=io.StringIO())
        import_fails.append(out.getvalue())
    assert "The file has no column 'amount', which the mapping needs." in import_fails[0]
    assert (
        "The file lacks the columns 'external_id', 'date', 'amount', 'customer_code', 'product_line', 'sellers', which" in import_fails[1]
    )


def test_the_progress_bar_says_saving_once_every_row_is_read():
    import importlib

    stage = importlib.import_module("equipoise.results.management.commands.import").stage  # "import" is a keyword
    assert [stage(0, 1), stage(50, 100), stage(99, 100)] == ["Importing"] * 3
    assert [stage(100, 100), stage(101, 100)] == ["Saving"] * 2
    assert stage(0, 0) == "Importing"  # an empty file has no size to be done with

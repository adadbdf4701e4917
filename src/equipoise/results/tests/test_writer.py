"""The background writer: chunks written on a second thread land in the caller's transaction."""

from datetime import date, timedelta

import pytest
from django.db import transaction

from equipoise.results.importing.writer import BackgroundWriter
from equipoise.results.ingest import Ingestor
from equipoise.results.models import ResultLine, Rollup
from equipoise.results.rollups import rollups_compare
from equipoise.results.tests.conftest import line, make_batch


def _chunk(org, catalog, first, count):
    return [
        line(org, catalog, f"W{n}", row=n + 2, occurred_on=date(2027, 1, 1) + timedelta(days=n % 40), amount_minor=1_000 + n)
        for n in range(first, first + count)
    ]


def test_chunks_written_in_the_background_equal_a_rebuild(org, catalog):
    ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
    writer = BackgroundWriter(ingestor)
    for first in (0, 50, 100):
        writer.submit(_chunk(org, catalog, first, 50))
    outcomes = writer.close()
    ingestor.flush()
    assert ResultLine.objects.count() == 150
    assert ingestor.counts.created == 150
    assert [repeats for repeats, _ in outcomes] == [[], [], []]
    assert rollups_compare() == []


def test_a_repeat_across_chunks_comes_back_as_an_outcome(org, catalog):
    ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
    writer = BackgroundWriter(ingestor)
    writer.submit(_chunk(org, catalog, 0, 5))
    again = line(org, catalog, "W3", row=99, occurred_on=date(2027, 1, 4), amount_minor=1_003)
    changed = line(org, catalog, "W4", row=100, occurred_on=date(2027, 1, 5), amount_minor=1)
    writer.submit([again, changed])
    outcomes = writer.close()
    assert outcomes[-1] == ([99], [(100, "W4")])
    ingestor.flush()  # lines are held until then
    assert ResultLine.objects.count() == 5


def test_an_error_on_the_writer_is_raised_in_the_caller_and_the_batch_rolls_back(org, catalog, monkeypatch):
    ingestor = Ingestor(batch=make_batch(), defer_rollups=True)
    real = ingestor.ingest
    calls = []

    def failing(chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(chunk)

    monkeypatch.setattr(ingestor, "ingest", failing)
    writer = BackgroundWriter(ingestor)
    with pytest.raises(RuntimeError, match="disk full"), transaction.atomic():
        for first in range(0, 500, 50):
            writer.submit(_chunk(org, catalog, first, 50))
        writer.close()
    writer.close()  # closing again after the error is harmless
    assert calls[:2] == [50, 50]
    assert ResultLine.objects.count() == 0
    assert Rollup.objects.count() == 0


@pytest.mark.parametrize("forking", [False, True], ids=["writer-thread", "reader-process"])
def test_a_file_broken_after_chunks_were_written_in_the_background_leaves_nothing(org, catalog, tmp_path, monkeypatch, forking):
    """Whichever way rows are read while others are written: the error comes after rows were
    written, and the batch keeps none of them."""
    from equipoise.results.importing import forked
    from equipoise.results.models import ImportIssue
    from equipoise.results.services import results_import_file
    from equipoise.results.tests.test_import_helpers import csv_bytes, equipoise_row, nothing_imported, write

    monkeypatch.setattr(forked, "ENABLED", forking)
    monkeypatch.setattr(forked, "CHUNK_ROWS", 2)
    content = csv_bytes([equipoise_row(f"L{index}") for index in range(20)]) + b"L99,2027-01-15," + b"9" * (2 * 1024 * 1024) + b"\n"
    batch = results_import_file(actor=None, path_or_file=write(tmp_path, "late.csv", content), mapping_name="equipoise", chunk_lines=3)
    assert batch.status == "rejected"
    assert "Row 22 is longer than" in ImportIssue.objects.get(batch=batch).reason
    assert nothing_imported()


def _import_with_a_reader_that(monkeypatch, tmp_path, at_row, action, rows=20):
    """Import ``rows`` rows (20) with the reading process running ``action()`` when it reaches row ``at_row``."""
    from equipoise.results.importing import fileimport, forked
    from equipoise.results.services import results_import_file
    from equipoise.results.tests.test_import_helpers import csv_bytes, equipoise_row, write

    monkeypatch.setattr(forked, "ENABLED", True)
    monkeypatch.setattr(forked, "CHUNK_ROWS", 2)
    read_rows = fileimport._rows

    def reading(*args):
        for index, item in enumerate(read_rows(*args)):
            if index == at_row:
                action()
            yield item

    monkeypatch.setattr(fileimport, "_rows", reading)
    path = write(tmp_path, "rows.csv", csv_bytes([equipoise_row(f"L{index}") for index in range(rows)]))
    return results_import_file(actor=None, path_or_file=path, mapping_name="equipoise", chunk_lines=3)


def test_a_reader_process_that_fails_stops_the_import_and_keeps_nothing(org, catalog, tmp_path, monkeypatch):
    """An unexpected error while reading in the child (a bug, not a bad file) reaches this process
    with the child's traceback, after rows were already written; nothing of the batch is kept."""
    from equipoise.results.tests.test_import_helpers import nothing_imported

    def planted():
        raise ZeroDivisionError("planted in the reading process")

    with pytest.raises(RuntimeError, match="planted in the reading process"):
        _import_with_a_reader_that(monkeypatch, tmp_path, 12, planted)
    assert nothing_imported()


def test_a_reader_process_killed_halfway_rejects_the_batch_and_keeps_no_line(org, catalog, tmp_path, monkeypatch):
    """Should the reading process die (killed, out of memory), the import says so in the batch's
    error report and keeps none of the rows already written."""
    import os
    import signal

    from equipoise.results.models import ImportIssue
    from equipoise.results.tests.test_import_helpers import nothing_imported

    # In the child: the test's process is the parent.
    batch = _import_with_a_reader_that(monkeypatch, tmp_path, 12, lambda: os.kill(os.getpid(), signal.SIGKILL))
    assert batch.status == "rejected"
    reason = ImportIssue.objects.get(batch=batch).reason
    assert "stopped before the end of it (killed by SIGKILL)" in reason and "nothing was imported" in reason
    assert nothing_imported()


def test_garbage_collection_waits_while_a_forked_import_streams_and_resumes_after_it(org, catalog, tmp_path, monkeypatch):
    """Neither process collects cycles while the file streams (their tuples hold none), and this
    process collects again once the import ends: committed, or stopped by an error."""
    import gc

    from equipoise.results.tests.test_import_helpers import nothing_imported

    seen: list[bool] = []
    ingest_prepared = Ingestor.ingest_prepared

    def recording(self, prepared):
        seen.append(gc.isenabled())
        return ingest_prepared(self, prepared)

    monkeypatch.setattr(Ingestor, "ingest_prepared", recording)

    def child_checks():
        if gc.isenabled():
            raise AssertionError("the reading process collects")

    assert gc.isenabled()
    batch = _import_with_a_reader_that(monkeypatch, tmp_path, 12, child_checks)
    assert batch.status == "committed" and batch.lines_created == 20
    assert seen and not any(seen)
    assert gc.isenabled()

    def planted():
        raise ZeroDivisionError("planted in the reading process")

    with pytest.raises(RuntimeError, match="planted"):
        _import_with_a_reader_that(monkeypatch, tmp_path, 12, planted, rows=21)  # another file
    assert gc.isenabled()
    assert ResultLine.objects.count() == 20 and not nothing_imported()

"""The error report of a batch as CSV: row, column, value, reason.

Values come from the imported file, so they are untrusted: a cell starting with ``=``, ``+``, ``-``,
``@`` (or a tab or carriage return, which some spreadsheets skip before a formula) gets a leading
apostrophe so a spreadsheet shows it as text instead of running it as a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from equipoise.results.models import ImportBatch, ImportIssue

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
REPORT_COLUMNS = ("row", "column", "value", "reason")
# What the row column says for a problem of the whole file (row number 0 of a file import).
FILE_ROW = "file"

# A report keeps at most this many problems; a note at its top says how many more were found.
ISSUE_CAP = 10_000
CAP_NOTE = "The report lists the first {listed:,} problems; {more:,} more were found. Fix these and import again."


_CAP_NOTE_START = CAP_NOTE[: CAP_NOTE.index("{")]


@dataclass(frozen=True)
class ProblemCount:
    """How many problems a batch's report lists, and how many were found (more when it is capped)."""

    listed: int
    found: int


def problem_count(batch: ImportBatch) -> ProblemCount:
    """The problems of a batch as its report lists them, not counting the note of a capped report.
    Batches from before ``problems_found`` was recorded count what they list."""
    if batch.problems_found:
        return ProblemCount(listed=min(batch.problems_found, ISSUE_CAP), found=batch.problems_found)
    listed = batch.issues.count()
    return ProblemCount(listed=listed, found=listed)


def without_cap_note(batch: ImportBatch) -> QuerySet[ImportIssue]:
    """The batch's problems themselves: its issues without the note of a capped report."""
    return batch.issues.exclude(row_number=0, reason__startswith=_CAP_NOTE_START)


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def report_rows(issues: QuerySet[ImportIssue], *, rows_are_indexes: bool = False) -> Iterator[str]:
    """The report as CSV lines (UTF-8 with a BOM so spreadsheets pick the encoding), streamed.

    In a file's report row 0 is no row (the header is row 1): a problem of the whole file says
    ``file`` there, as the batch page does. An API push numbers its lines from 0
    (``rows_are_indexes``), so there 0 is the first line."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(REPORT_COLUMNS)
    for row_number, column, value, reason in (
        issues.order_by("row_number", "id").values_list("row_number", "column", "value", "reason").iterator(chunk_size=2000)
    ):
        row = row_number if row_number or rows_are_indexes else FILE_ROW
        yield writer.writerow([row, neutralise(column), neutralise(value), neutralise(reason)])

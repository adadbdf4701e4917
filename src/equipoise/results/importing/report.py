"""The error report of a batch as CSV: row, column, value, reason.

Values come from the imported file, so they are untrusted: a cell starting with ``=``, ``+``, ``-``,
``@`` (or a tab or carriage return, which some spreadsheets skip before a formula) gets a leading
apostrophe so a spreadsheet shows it as text instead of running it as a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from equipoise.results.models import ImportIssue

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
REPORT_COLUMNS = ("row", "column", "value", "reason")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def report_rows(issues: QuerySet[ImportIssue]) -> Iterator[str]:
    """The report as CSV lines (UTF-8 with a BOM so spreadsheets pick the encoding), streamed."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(REPORT_COLUMNS)
    for row_number, column, value, reason in (
        issues.order_by("row_number", "id").values_list("row_number", "column", "value", "reason").iterator(chunk_size=2000)
    ):
        yield writer.writerow([row_number, neutralise(column), neutralise(value), neutralise(reason)])

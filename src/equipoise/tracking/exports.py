"""A tracking table as CSV or XLSX: one line per row and period, then the row's total.

Text that came from data (customer, team and product names) is untrusted: a cell starting with
``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some spreadsheets skip before
reading a formula) is prefixed with an apostrophe, so no spreadsheet runs it as a formula.
Figures are written as numbers (exact decimals in major units), never as text.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.cell.cell import TYPE_STRING  # type: ignore[import-untyped, unused-ignore]

from equipoise.core.money import Money, minor_unit_exponent
from equipoise.tracking.domain import Figures
from equipoise.tracking.tables import Table, TableRow

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ["Row", "Period", "From", "To", "Plan", "Actual", "Variance", "Attainment %", "Pace %", "Projection", "Currency"]
_PERCENT = Decimal("0.01")


def neutralise(value: str) -> str:
    """Text a spreadsheet will show as text, never run as a formula."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def _amount(amount_minor: int | None, currency: str) -> Decimal | None:
    return None if amount_minor is None else Money.from_minor(amount_minor, currency).amount


def _percent(ratio: Decimal | None) -> Decimal | None:
    return None if ratio is None else (ratio * 100).quantize(_PERCENT)


def _line(row: TableRow, period: str, start: str, end: str, figures: Figures, currency: str) -> list[Any]:
    return [
        neutralise(row.label),
        period,
        start,
        end,
        _amount(figures.plan_minor, currency),
        _amount(figures.actual_minor, currency),
        _amount(figures.variance_minor, currency),
        _percent(figures.attainment),
        _percent(figures.pace),
        _amount(figures.projection_minor, currency),
        currency,
    ]


def records(table: Table) -> list[list[Any]]:
    """The header, then per row (the totals last) a line per period and a "Total" line."""
    lines: list[list[Any]] = [list(HEADER)]
    for row in [*table.rows, table.totals]:
        for period, figures in zip(table.periods, row.figures, strict=True):
            lines.append(_line(row, period.label, period.start.isoformat(), period.end.isoformat(), figures, table.currency))
        lines.append(_line(row, "Total", table.start.isoformat(), table.end.isoformat(), row.total, table.currency))
    return lines


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def to_csv(table: Table) -> str:
    """UTF-8 text with a byte-order mark, so spreadsheets read the names right."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in records(table):
        writer.writerow([_text(value) for value in line])
    return buffer.getvalue()


def _about(table: Table) -> list[tuple[str, str]]:
    about = [
        ("Scope", table.scope.label),
        ("Rows", table.rows_label),
        ("Grain", table.view.grain.label),
        ("From", table.start.isoformat()),
        ("To", table.end.isoformat()),
        ("Measure", table.measure_label),
        ("Currency", table.currency),
        ("As of", table.as_of.isoformat()),
    ]
    about += [(chip.dimension_label, chip.value_label) for chip in table.filters]
    if table.plan_source:
        about.append(("Plan", table.plan_source))
    if table.plan_note:
        about.append(("Note", table.plan_note))
    return about


def to_xlsx(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Plan vs actual"
    amount_format = "#,##0" if minor_unit_exponent(table.currency) == 0 else "#,##0." + "0" * minor_unit_exponent(table.currency)
    for line in records(table):
        sheet.append(line)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                # Stored as text whatever it looks like: openpyxl would otherwise take "=…" for a formula.
                cell.data_type = TYPE_STRING
            elif cell.column in (5, 6, 7, 10):
                cell.number_format = amount_format
            elif cell.column in (8, 9):
                cell.number_format = "0.00"
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJK", (34, 14, 12, 12, 16, 16, 16, 13, 10, 16, 9), strict=True):
        sheet.column_dimensions[column].width = width
    about = workbook.create_sheet("About")
    for label, value in _about(table):
        about.append([label, neutralise(value)])
        about.cell(row=about.max_row, column=2).data_type = TYPE_STRING
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 70
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

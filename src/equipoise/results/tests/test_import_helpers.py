"""Helpers shared by the import, push API and page tests (no tests here)."""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path
from typing import Any

from equipoise.results.importing.presets import PRESETS
from equipoise.results.models import ColumnMapping, ImportBatch, ResultLine, Rollup

EQUIPOISE_HEADER = [
    "external_id",
    "date",
    "amount",
    "customer_code",
    "product_line",
    "product_application",
    "sellers",
    "shares",
    "kind",
    "motion",
]


def equipoise_row(external_id: str = "L1", **values: Any) -> dict[str, Any]:
    row = {
        "external_id": external_id,
        "date": "2027-01-15",
        "amount": "1000.00",
        "customer_code": "ACME",
        "product_line": "CONN",
        "product_application": "FIBRE",
        "sellers": "seller",
        "shares": "",
        "kind": "booking",
        "motion": "new",
    }
    row.update(values)
    return row


def csv_bytes(rows: list[dict[str, Any]], *, header: list[str] | None = None, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    header = header or (list(rows[0]) if rows else EQUIPOISE_HEADER)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=delimiter, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def mapping_from(preset: str, name: str, **changes: Any) -> ColumnMapping:
    """A custom mapping: a preset's configuration with ``changes`` (``defaults`` are merged)."""
    config = copy.deepcopy(PRESETS[preset]["config"])
    defaults = changes.pop("defaults", None)
    config.update(changes)
    if defaults:
        config["defaults"] = {**config.get("defaults", {}), **defaults}
    return ColumnMapping.objects.create(name=name, config=config)


def nothing_imported() -> bool:
    return not ResultLine.objects.exists() and not Rollup.objects.exists()


def issue_rows(batch: ImportBatch) -> list[tuple[int, str, str, str]]:
    return list(batch.issues.order_by("row_number", "id").values_list("row_number", "column", "value", "reason"))

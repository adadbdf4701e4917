"""Lines pushed through the API, validated by the same rules as file rows (see :mod:`.resolve`).

A pushed line names its references by code (customer, product line and application, region) and its
sellers by user name or person id; amounts are signed integer minor units and dates ISO
``YYYY-MM-DD``. Unknown references are always rejected: the API creates no customers, products or
people. Issues are numbered by the line's index in the payload (from 0).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from django.db import transaction

from equipoise.results.importing.lines import CanonicalLine, Problem, SellerRef, truncate
from equipoise.results.importing.parsing import DateReader
from equipoise.results.importing.resolve import LineResolver, Policy
from equipoise.results.importing.runner import BatchRun, RowOutcome, start_clock
from equipoise.results.models import BatchChannel, BatchStatus, ImportBatch

MAX_PUSH_LINES = 10_000

# Where a rule's field is in an API line.
API_FIELDS = {
    "date": "date",
    "amount": "amount_minor",
    "customer": "customer_code",
    "customer_name": "customer_code",
    "product": "product_line_code",
    "product_line": "product_line_code",
    "product_application": "product_application_code",
    "region": "region_code",
    "seller": "sellers",
    "shares": "sellers",
}


def api_field(field: str) -> str:
    return API_FIELDS.get(field, field)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _canonical(index: int, line: dict[str, Any], dates: DateReader) -> RowOutcome:
    problems: list[Problem] = []
    occurred_on = None
    try:
        occurred_on = dates.read(_text(line.get("date")))
    except ValueError as error:
        problems.append(Problem("date", truncate(line.get("date")), str(error)))
    sellers: list[SellerRef] = []
    for position, seller in enumerate(line.get("sellers") or []):
        username, person_id = _text(seller.get("username")), seller.get("person_id")
        if bool(username) == (person_id is not None):
            problems.append(Problem("sellers", f"sellers[{position}]", "Name each seller by username or by person_id (one of them)."))
            continue
        reference, match = (username, "username") if username else (str(person_id), "person_id")
        sellers.append(SellerRef(reference, int(seller.get("share_bp") or 0), match))
    canonical = CanonicalLine(
        row=index,
        external_id=_text(line.get("external_id")),
        kind=_text(line.get("kind")),
        occurred_on=occurred_on or date.min,  # only with a problem about the date, which stops the line
        amount_minor=int(line.get("amount_minor") or 0),
        currency=_text(line.get("currency")),
        customer_code=_text(line.get("customer_code")),
        customer_name="",
        product_line=_text(line.get("product_line_code")),
        product_application=_text(line.get("product_application_code")),
        region=_text(line.get("region_code")),
        motion=_text(line.get("motion")),
        sellers=sellers,
    )
    if problems or occurred_on is None:  # the line's references are checked too (see BatchRun)
        return RowOutcome(row=index, line=canonical, problems=problems, cells=line)
    return RowOutcome(row=index, line=canonical, cells=line)


def _outcomes(lines: Sequence[dict[str, Any]]) -> Iterator[RowOutcome]:
    dates = DateReader(("iso",))
    seen: dict[str, tuple[int, str]] = {}
    for index, line in enumerate(lines):
        external_id = _text(line.get("external_id"))
        if external_id:
            content = json.dumps(line, sort_keys=True, default=str)
            previous = seen.get(external_id)
            if previous is None:
                seen[external_id] = (index, content)
            elif previous[1] == content:
                yield RowOutcome(row=index, skipped="duplicate line")
                continue
            else:
                problem = Problem(
                    "external_id", truncate(external_id), f"Line {previous[0]} has the same external id with different values."
                )
                yield RowOutcome(row=index, problems=[problem], cells=line)
                continue
        yield _canonical(index, line, dates)


def push_lines(*, actor: Any, source: str, mode: str, lines: Sequence[dict[str, Any]]) -> ImportBatch:
    """Validate and ingest pushed lines as one batch (committed, or rejected in all-or-nothing mode)."""
    started = start_clock()
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            channel=BatchChannel.API,
            source=source,
            mode=mode,
            status=BatchStatus.COMMITTED,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        run = BatchRun(
            batch=batch,
            resolver=LineResolver(source=source, policy=Policy()),
            column=api_field,
            describe=lambda cells: {key: truncate(value, 500) for key, value in cells.items()},
        )
        return run.run(_outcomes(lines), started=started)

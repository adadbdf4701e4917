"""The canonical line every channel produces before resolution, and what can become of a row.

A file row (through a mapping) and an API line both become a :class:`CanonicalLine`: values parsed,
references (customer, product, region, sellers) still as the text the source wrote.
:mod:`.resolve` turns it into a :class:`~equipoise.results.ingest.LineInput`, or says why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row is invalid: the field (or column) it is about, the value as given, the reason."""

    field: str
    value: str
    reason: str


class RowInvalid(Exception):
    """The row's problems; ``line``, where the mapping could still read the row's references, what
    it read (its other values may be placeholders), so that they are checked too."""

    def __init__(self, problems: list[Problem], line: CanonicalLine | None = None) -> None:
        super().__init__(problems[0].reason if problems else "invalid")
        self.problems = problems
        self.line = line


class RowSkipped(Exception):
    """The row is not a result (a lost deal, a fee, a repeat): skipped and counted under ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class SellerRef:
    """A seller as the source names them. ``match``: auto, name, email, username or person_id."""

    reference: str
    share_bp: int
    match: str


@dataclass(slots=True)
class CanonicalLine:
    row: int
    external_id: str
    kind: str
    occurred_on: date
    amount_minor: int  # signed, as given (kind rules apply in resolution)
    currency: str
    customer_code: str
    customer_name: str
    product_line: str
    product_application: str
    region: str
    motion: str
    sellers: list[SellerRef]


def truncate(value: object, limit: int = 200) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"

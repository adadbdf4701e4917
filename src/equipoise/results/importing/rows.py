"""A file row, through a mapping, to a :class:`CanonicalLine` — or a skip, or the row's problems.

Order of the checks (each documented in docs/importing.md):

1. a blank row is skipped ("blank row");
2. the mapping's filters: a row they exclude (a lost deal, a prospect without a customer yet) is
   skipped and counted as "<column> is <value>", before anything else is checked;
3. a product value listed as non-product (postage, fees) is skipped ("non-product line");
4. the external id: the same id again with exactly the same cells is skipped ("duplicate row");
   with different cells it is an error (the first occurrence stands);
5. every value is parsed; all problems of the row are reported together.
"""

from __future__ import annotations

from datetime import date

from equipoise.core.errors import ApplicationError
from equipoise.core.money import allocate_minor
from equipoise.results.importing.config import FIELD_LABELS, MappingConfig
from equipoise.results.importing.lines import CanonicalLine, Problem, RowInvalid, RowSkipped, SellerRef, truncate
from equipoise.results.importing.parsing import AmountReader, DateReader
from equipoise.results.importing.readers import Cell

_HASH_MASK = (1 << 64) - 1
SEEN_WINDOW = 200_000


class RowMapper:
    """Reads the cells of one file's rows by a mapping (column positions fixed from the header)."""

    def __init__(self, *, config: MappingConfig, header: list[str], default_currency: str) -> None:
        self.config = config
        positions: dict[str, int] = {}
        for index, name in enumerate(header):
            key = name.strip().casefold()
            if key and key in positions:
                mapped = {column.casefold() for names in config.columns.values() for column in names}
                if key in mapped:
                    raise ApplicationError(f"The header has the column {name!r} twice: rename one of them.", field=name, row=1)
                continue
            positions[key] = index
        missing = [column for column in config.required_columns() if column.casefold() not in positions]
        if missing:
            shown = ", ".join(repr(column) for column in missing)
            found = ", ".join(repr(column) for column in header[:30] if column)
            lacks = f"has no column {shown}" if len(missing) == 1 else f"lacks the columns {shown}"
            raise ApplicationError(f"The file {lacks}, which the mapping needs. Columns found: {found or 'none'}.", field=missing[0], row=1)
        self.width = len(header)
        # field -> positions (None: the column is optional and absent)
        self.at: dict[str, list[int | None]] = {
            field: [positions.get(column.casefold()) for column in columns] for field, columns in config.columns.items()
        }
        self.index: dict[str, int | None] = {field: found[0] for field, found in self.at.items() if len(found) == 1}
        self.column_of = {field: " + ".join(columns) for field, columns in config.columns.items()}
        self.filters = [(positions[f.column.casefold()], f.column, f.values, f.keep) for f in config.filters]
        self.amounts = AmountReader(decimal_separator=config.decimal_separator, thousands_separator=config.thousands_separator)
        self.dates = DateReader(config.date_formats)
        self.default_currency = config.defaults.get("currency") or default_currency
        self.default_kind = config.defaults.get("kind", "booking")
        self.default_motion = config.defaults.get("motion", "new")
        self.kind_map = config.value_maps.get("kind", {})
        self.motion_map = config.value_maps.get("motion", {})
        self.product_at = [self._one("product_application"), self._one("product_line")]
        self.non_products = config.non_product_codes
        # external id -> first row number << 64 | hash of the row's cells: one int per line keeps
        # the memory of a million-row file to tens of megabytes.
        # External ids of recent rows, to name the earlier row of a repeat. Bounded: a repeat of a
        # row older than the window is still caught, by the ingest's look-up of the lines this
        # batch has written, so memory does not grow with the file.
        self._seen: dict[str, int] = {}

    def _one(self, field: str) -> int | None:
        found = self.at.get(field)
        return found[0] if found else None

    def column(self, field: str) -> str:
        """The file's column for a field (for the error report)."""
        if field == "customer":
            return self.column_of.get("customer_code") or self.column_of.get("customer_name") or "customer"
        if field == "product":
            return self.column_of.get("product_application") or self.column_of.get("product_line") or "product"
        if field in ("sellers", "seller"):
            return self.column_of.get("sellers") or self.column_of.get("seller") or "seller"
        if field == "shares":
            return self.column_of.get("shares") or self.column_of.get("sellers") or self.column_of.get("seller") or "shares"
        if field == "amount":
            return self.column_of.get("amount") or f"{self.column_of.get('quantity')} × {self.column_of.get('unit_price')}"
        return self.column_of.get(field) or FIELD_LABELS.get(field, field)

    def cells_as_dict(self, header: list[str], cells: list[Cell]) -> dict[str, str]:
        return {header[i] if i < len(header) and header[i] else f"column {i + 1}": truncate(value, 500) for i, value in enumerate(cells)}

    def _text(self, cells: list[Cell], field: str) -> str:
        """The field's cell as trimmed text ("" when unmapped or absent); ``cells`` are padded to the header."""
        index = self.index.get(field)
        if index is None:
            return ""
        value = cells[index]
        return value.strip() if value.__class__ is str else str(value)

    def _raw(self, cells: list[Cell], field: str) -> Cell:
        index = self.index.get(field)
        if index is None:
            return ""
        value = cells[index]
        return value.strip() if value.__class__ is str else value

    def read(self, row: int, cells: list[Cell]) -> CanonicalLine:
        if not "".join(map(str, cells)).strip():
            raise RowSkipped("blank row")
        width = len(cells)
        if width < self.width:  # a short row: the missing cells are blank
            cells = [*cells, *([""] * (self.width - width))]
        for index, column, values, keep in self.filters:
            value = cells[index] if index < width else ""
            text = value.strip() if isinstance(value, str) else str(value)
            if (text.casefold() in values) != keep:
                raise RowSkipped(f"{column} is {truncate(text, 60) or 'blank'}")
        if self.non_products:
            for product_index in self.product_at:
                if product_index is not None and product_index < width:
                    value = cells[product_index]
                    text = value.strip() if isinstance(value, str) else str(value)
                    if text.casefold() in self.non_products:
                        raise RowSkipped("non-product line")
        problems: list[Problem] = []
        if width > self.width and any(cell != "" for cell in cells[self.width :]):
            problems.append(Problem("", f"{width} values", f"The row has {width} values but the header has {self.width} columns."))
        external_id = ":".join(
            "" if index is None or index >= width else (str(cells[index]).strip()) for index in self.at["external_id"]
        ).strip(":")
        if external_id:
            digest = (row << 64) | (hash(tuple(cells)) & _HASH_MASK)
            previous = self._seen.get(external_id)
            if previous is None:
                if len(self._seen) >= SEEN_WINDOW:
                    self._seen.clear()
                self._seen[external_id] = digest
            elif previous & _HASH_MASK == digest & _HASH_MASK:
                raise RowSkipped("duplicate row")
            else:
                raise RowInvalid(
                    [Problem("external_id", truncate(external_id), f"Row {previous >> 64} has the same external id with different values.")]
                )
        currency = self._text(cells, "currency").upper() or self.default_currency
        amount_minor = 0
        amount_currency = currency if len(currency) == 3 else "EUR"  # a bad code is reported in resolution
        if "amount" in self.at:
            try:
                amount = self._raw(cells, "amount")
                if amount == "":
                    raise ValueError("The amount is blank.")
                amount_minor = self.amounts.minor(amount, amount_currency)
            except ValueError as error:
                problems.append(Problem("amount", truncate(self._text(cells, "amount")), str(error)))
        else:
            factors = []
            for field in ("quantity", "unit_price"):
                try:
                    value = self._raw(cells, field)
                    if value == "":
                        raise ValueError(f"The {field.replace('_', ' ')} is blank.")
                    factors.append(self.amounts.decimal(value))
                except ValueError as error:
                    problems.append(Problem(field, truncate(self._text(cells, field)), str(error)))
            if len(factors) == 2:
                try:
                    amount_minor = self.amounts.product_minor(factors[0], factors[1], amount_currency)
                except ValueError as error:
                    problems.append(Problem("amount", f"{factors[0]} × {factors[1]}", str(error)))
        occurred_on = None
        try:
            occurred_on = self.dates.read(self._raw(cells, "date"))
        except ValueError as error:
            problems.append(Problem("date", truncate(self._text(cells, "date")), str(error)))
        kind_text = self._text(cells, "kind")
        kind = self.kind_map.get(kind_text.casefold(), kind_text.casefold()) if kind_text else self.default_kind
        motion_text = self._text(cells, "motion")
        motion = self.motion_map.get(motion_text.casefold(), motion_text.casefold()) if motion_text else self.default_motion
        application = self._text(cells, "product_application")
        if application:
            application = self.config.product_aliases.get(application.casefold(), application)
        sellers = self._sellers(cells, problems)
        line = CanonicalLine(
            row=row,
            external_id=external_id,
            kind=kind,
            occurred_on=occurred_on or date.min,  # only with a problem about the date, which stops the row
            amount_minor=amount_minor,
            currency=currency,
            customer_code=self._text(cells, "customer_code"),
            customer_name=self._text(cells, "customer_name"),
            product_line=self._text(cells, "product_line"),
            product_application=application,
            region=self._text(cells, "region") or "",
            motion=motion,
            sellers=sellers,
        )
        if problems or occurred_on is None:
            raise RowInvalid(problems, line)
        return line

    def _sellers(self, cells: list[Cell], problems: list[Problem]) -> list[SellerRef]:
        match = self.config.seller_match
        if "seller" in self.at:
            name = self._text(cells, "seller")
            return [SellerRef(name, 10_000, match)] if name else []
        if "sellers" not in self.at:
            return []
        return self.split_sellers(self._text(cells, "sellers"), self._text(cells, "shares"), problems)

    def split_sellers(self, text: str, shares_text: str, problems: list[Problem]) -> list[SellerRef]:
        """The sellers of a sellers cell and their shares (equal when no shares are given); trimmed texts."""
        match = self.config.seller_match
        separator = self.config.seller_separator
        if separator not in text and not shares_text:
            return [SellerRef(text, 10_000, match)] if text else []
        names = [part.strip() for part in text.split(separator)]
        names = [name for name in names if name]
        if not names:
            return []
        if not shares_text:
            return [SellerRef(name, share, match) for name, share in zip(names, allocate_minor(10_000, [1] * len(names)), strict=True)]
        parts = [part.strip().rstrip("%").strip() for part in shares_text.split(separator)]
        if len(parts) != len(names):
            problems.append(
                Problem("shares", truncate(shares_text), f"{len(names)} sellers but {len(parts)} shares: give one share per seller.")
            )
            return []
        shares = []
        for part in parts:
            try:
                basis_points = self.amounts.decimal(part) * 100
            except ValueError:
                problems.append(Problem("shares", truncate(shares_text), f"{part!r} is not a percentage."))
                return []
            if basis_points != basis_points.to_integral_value():
                problems.append(Problem("shares", truncate(shares_text), f"{part}% has more than two decimals."))
                return []
            shares.append(int(basis_points))
        return [SellerRef(name, share, match) for name, share in zip(names, shares, strict=True)]

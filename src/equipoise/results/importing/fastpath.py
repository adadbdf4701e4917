"""The common file row, read straight to its :class:`~equipoise.results.ingest.LineInput`.

:class:`~.rows.RowMapper` and :class:`~.resolve.LineResolver` collect every problem of a row with
its column and value, and build a :class:`~.lines.CanonicalLine` on the way: that is most of the
time of a million-line import, though nearly every row of a real file is the simple case (known
references, a plain amount, a readable date) and has nothing to report. :func:`fast_path`
compiles one import's mapper and resolver into a function that reads such a row in one step and
returns exactly the line ``resolver.resolve(mapper.read(row, cells))`` would (the property tests in
``tests/test_fastpath.py`` hold it to that), or None for anything else: a skip, a problem, a
repeated external id, a reference to create. The slow path then handles the row as before, so every
message, count and creation still comes from one place.

A row the fast path takes is registered in the mapper's window of external ids exactly as
:meth:`~.rows.RowMapper.read` registers it; a row it declines is not, so the slow path finds the
window as it would have without the fast path.

References are looked up through memos keyed by the raw cells, since a file repeats a few kinds,
products and sellers over and over. A memo is bounded, and off for what the policy creates on
import: a created product or seller can change what an earlier lookup found.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, TypeVar

from equipoise.core.money import minor_unit_exponent
from equipoise.results.importing import rows as row_module
from equipoise.results.importing.lines import Problem, SellerRef
from equipoise.results.importing.parsing import _SPACES, MAX_AMOUNT_MINOR
from equipoise.results.importing.resolve import KINDS, MOTIONS, NEGATIVE_KINDS, LineResolver, _key
from equipoise.results.importing.rows import RowMapper
from equipoise.results.ingest import LineInput, content_digest, credits_text
from equipoise.results.models import ResultKind

# Off, every row takes the slow path: the end-to-end tests import a file both ways.
ENABLED = True

# Entries per memo: far more distinct values than a file has kinds or products, a few megabytes.
MEMO_LIMIT = 50_000

# External ids longer than this are the slow path's to report (the column holds 128 characters).
_MAX_EXTERNAL_ID = 128
# More digits than any accepted amount has (with a sign): int() never sees a huge number.
_MAX_DIGITS = 20
_TOO_LARGE = MAX_AMOUNT_MINOR + 1
_HASH_MASK = (1 << 64) - 1
_INVOICE = ResultKind.INVOICE.value
_CREDIT_NOTE = ResultKind.CREDIT_NOTE.value

RowToLine = Callable[[int, list[Any]], LineInput | None]
Credits = tuple[tuple[int, int], ...]
Product = tuple[int, int | None]

_LINE_FIELDS = (
    "row", "source", "external_id", "kind", "occurred_on", "currency", "amount_minor", "customer_id", "region_id",
    "product_line_id", "product_application_id", "motion", "credits", "digest",
)  # fmt: skip

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Memo(dict[K, V]):
    """A bounded memo: a miss computes the value, and keeps it while there is room."""

    def __init__(self, compute: Callable[[K], V], *, limit: int) -> None:
        super().__init__()
        self._compute = compute
        self._limit = limit

    def __missing__(self, key: K) -> V:
        value = self._compute(key)
        if len(self) < self._limit:
            self[key] = value
        return value


def _minor(whole: str, fraction: str, exponent: int) -> int:
    """A signed amount written with fewer or more decimals than the currency has (trailing zeros),
    in minor units; 0 when it is not plain digits or has too many decimals (the slow path says why)."""
    sign = whole[:1]
    unsigned = whole[1:] if sign == "-" or sign == "+" else whole
    if not (unsigned + fraction).isdigit() or not (unsigned + fraction).isascii() or len(unsigned) > _MAX_DIGITS:
        return 0
    fraction = fraction.rstrip("0")
    if len(fraction) > exponent:
        return 0
    minor = int(unsigned or "0") * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    return -minor if sign == "-" else minor


def fast_path(*, mapper: RowMapper, resolver: LineResolver) -> RowToLine | None:
    """A function of (row number, cells) to the row's line, or to None for the slow path.

    The cells are text, as a CSV reader gives them. None instead of a function: this mapping has no
    simple case (an amount computed from quantity × unit price, no date or external id column), or
    LineInput has changed shape (update :data:`_LINE_FIELDS`).
    """
    at = mapper.index
    id_positions = mapper.at["external_id"]
    amount_at, date_at = at.get("amount"), at.get("date")
    if amount_at is None or date_at is None or all(position is None for position in id_positions) or LineInput._fields != _LINE_FIELDS:
        return None
    new = tuple.__new__  # LineInput's fields by position, in the order of _LINE_FIELDS
    config, policy, directory = mapper.config, resolver.policy, resolver.directory
    width, seen, window = mapper.width, mapper._seen, row_module.SEEN_WINDOW
    source, dates = resolver.source, mapper.dates
    date_cache = dates._cache
    id_at = id_positions[0] if len(id_positions) == 1 else None
    filters = [(position, values, keep) for position, _, values, keep in mapper.filters]
    currency_at, kind_at, motion_at, region_at = at.get("currency"), at.get("kind"), at.get("motion"), at.get("region")
    code_at, name_at = at.get("customer_code"), at.get("customer_name")
    line_at, application_at = at.get("product_line"), at.get("product_application")
    seller_at, sellers_at, shares_at = at.get("seller"), at.get("sellers"), at.get("shares")
    thousands = mapper.amounts.thousands_separator
    decimal_comma = mapper.amounts.decimal_separator == ","
    plain_numbers = not thousands and not decimal_comma
    by_code = directory.customers_by_code
    fallback_to_owner = policy.seller_fallback_to_owner

    def currency_of(raw: str) -> tuple[str, int] | None:
        currency = raw.strip().upper() or mapper.default_currency
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            return None
        return currency, minor_unit_exponent(currency)

    def value_of(raw: str, value_map: dict[str, str], default: str, allowed: frozenset[str]) -> str | None:
        text = raw.strip()
        value = value_map.get(text.casefold(), text.casefold()) if text else default
        return value if value in allowed else None

    def region_of(text: str) -> int | None:
        found = directory.regions.get(_key(text), [])
        return found[0] if len(found) == 1 else None

    def product_of(cells: tuple[str, str]) -> Product | None:
        line_raw, application_raw = cells
        if config.non_product_codes:
            for position, raw in ((application_at, application_raw), (line_at, line_raw)):
                if position is not None and raw.strip().casefold() in config.non_product_codes:
                    return None
        application, line_reference = application_raw.strip(), line_raw.strip()
        if application:
            application = config.product_aliases.get(application.casefold(), application)
        line_id = None
        if line_reference:
            found_lines = directory.lines.get(_key(line_reference), [])
            if len(found_lines) != 1:
                return None
            line_id = found_lines[0]
        if application:
            found = directory.applications.get(_key(application), [])
            if line_id is not None and len(found) > 1:
                found = [item for item in found if item[1] == line_id]
            if len(found) != 1 or (line_id is not None and found[0][1] != line_id):
                return None
            application_id, application_line_id = found[0]
            return application_line_id, application_id
        if line_id is not None:
            return line_id, None
        if policy.default_product_line:
            found_lines = directory.lines.get(_key(policy.default_product_line), [])
            if len(found_lines) == 1:
                return found_lines[0], None
        return None

    def credits_of(refs: list[SellerRef]) -> Credits | None:
        """The sellers' credits; () when the row names none (the customer's owner may be credited)."""
        credits: list[tuple[int, int]] = []
        total = 0
        for seller in refs:
            _, found = directory.people_matching(seller.reference.strip(), seller.match)
            if seller.share_bp <= 0 or len(found) != 1 or any(found[0] == person_id for person_id, _ in credits):
                return None
            credits.append((found[0], seller.share_bp))
            total += seller.share_bp
        return tuple(credits) if total == 10_000 or not refs else None

    def with_text(credits: Credits | None) -> tuple[Credits, str] | None:
        """Credits with their text for the fingerprint, made once per memo entry rather than per row."""
        return None if credits is None else (credits, credits_text(credits))

    def one_seller(raw: str) -> tuple[Credits, str] | None:
        name = raw.strip()
        return with_text(credits_of([SellerRef(name, 10_000, config.seller_match)] if name else []))

    def several_sellers(raw: str | tuple[str, str]) -> tuple[Credits, str] | None:
        """The credits of a sellers cell, or of a sellers cell and a shares cell."""
        names, shares = (raw, "") if isinstance(raw, str) else raw
        problems: list[Problem] = []
        refs = mapper.split_sellers(names.strip(), shares.strip(), problems)
        return None if problems else with_text(credits_of(refs))

    # What the policy creates on import may change what a lookup finds: those memos stay empty.
    products = _Memo(product_of, limit=0 if policy.create_products else MEMO_LIMIT)
    seller_credits = _Memo(one_seller, limit=0 if policy.create_sellers else MEMO_LIMIT)
    sellers_credits = _Memo(several_sellers, limit=0 if policy.create_sellers else MEMO_LIMIT)
    currencies = _Memo(currency_of, limit=MEMO_LIMIT)
    kinds: _Memo[str, str | None] = _Memo(lambda raw: value_of(raw, mapper.kind_map, mapper.default_kind, KINDS), limit=MEMO_LIMIT)
    motions: _Memo[str, str | None] = _Memo(lambda raw: value_of(raw, mapper.motion_map, mapper.default_motion, MOTIONS), limit=MEMO_LIMIT)
    regions = _Memo(region_of, limit=MEMO_LIMIT)
    iso_days: _Memo[date, str] = _Memo(date.isoformat, limit=MEMO_LIMIT)  # for the fingerprint
    no_credits = ((), credits_text(()))
    # Unmapped or absent columns read as blank.
    default_currency, default_kind, default_motion = currencies[""], kinds[""], motions[""]

    def line(row: int, cells: list[Any]) -> LineInput | None:
        if len(cells) != width:
            # Exports often drop trailing blank cells or add some: read as the slow path reads them.
            if len(cells) < width:
                cells = [*cells, *[""] * (width - len(cells))]
            elif any(cells[width:]):
                return None
        for position, values, keep in filters:
            if (cells[position].strip().casefold() in values) != keep:
                return None
        if id_at is not None:
            external_id = cells[id_at].strip().strip(":")
        else:
            external_id = ":".join(["" if position is None else cells[position].strip() for position in id_positions]).strip(":")
        if not external_id or len(external_id) > _MAX_EXTERNAL_ID or external_id in seen:
            return None
        found_currency = currencies[cells[currency_at]] if currency_at is not None else default_currency
        kind = kinds[cells[kind_at]] if kind_at is not None else default_kind
        motion = motions[cells[motion_at]] if motion_at is not None else default_motion
        if found_currency is None or kind is None or motion is None:
            return None
        currency, exponent = found_currency

        # The amount: [+-]digits[.digits], the mapping's separators removed as the slow path does.
        text = cells[amount_at].strip()
        if not plain_numbers:
            if thousands:
                text = text.translate(_SPACES) if thousands == " " else text.replace(thousands, "")
            if decimal_comma:
                if "." in text:
                    return None
                text = text.replace(",", ".")
        whole, _, fraction = text.partition(".")
        if len(fraction) == exponent:  # the usual way to write an amount: its minor units, after a sign
            sign = whole[:1]
            digits = whole[1:] + fraction if sign == "-" or sign == "+" else whole + fraction
            if not (digits.isdigit() and digits.isascii()):
                return None
            amount = int(digits) if len(digits) <= _MAX_DIGITS else _TOO_LARGE
            if sign == "-":
                amount = -amount
        else:
            amount = _minor(whole, fraction, exponent)
        if amount == 0 or not -MAX_AMOUNT_MINOR <= amount <= MAX_AMOUNT_MINOR:
            return None  # the slow path skips a zero amount (or keeps zero churn) and reports the rest
        if kind in NEGATIVE_KINDS:
            amount = -abs(amount)
        elif amount < 0 and kind == _INVOICE:
            kind = _CREDIT_NOTE

        date_text = cells[date_at]
        occurred_on = date_cache.get(date_text)
        if occurred_on is None:
            try:
                occurred_on = dates.read(date_text)
            except ValueError:
                return None

        code = cells[code_at].strip() if code_at is not None else ""
        if code:
            customer = by_code.get(code.casefold())
        else:
            name = cells[name_at].strip() if name_at is not None else ""
            matches = directory.customers_by_name().get(_key(name), []) if name else []
            customer = matches[0] if len(matches) == 1 else None
        if customer is None:
            return None
        region_text = cells[region_at].strip() if region_at is not None else ""
        region_id = regions[region_text] if region_text else customer.home_region_id
        product = products[(cells[line_at] if line_at is not None else "", cells[application_at] if application_at is not None else "")]
        if region_id is None or product is None:
            return None

        if seller_at is not None:
            found_credits = seller_credits[cells[seller_at]]
        elif sellers_at is not None:
            shares = cells[shares_at] if shares_at is not None else ""
            found_credits = sellers_credits[cells[sellers_at] if shares == "" else (cells[sellers_at], shares)]
        else:
            found_credits = no_credits  # the seller column is unmapped, or optional and absent
        if found_credits is None:
            return None
        credits, credits_written = found_credits
        if not credits:
            if not fallback_to_owner or customer.owner_id is None:
                return None
            credits = ((customer.owner_id, 10_000),)
            credits_written = credits_text(credits)

        if len(seen) >= window:
            seen.clear()
        seen[external_id] = (row << 64) | (hash(tuple(cells)) & _HASH_MASK)
        # The fingerprint too: where the file is read in a second process, that one computes it.
        digest = content_digest(
            kind, iso_days[occurred_on], currency, amount, customer.id, region_id, product[0], product[1], motion, credits_written
        )
        return new(
            LineInput,
            (
                row, source, external_id, kind, occurred_on, currency, amount, customer.id, region_id, product[0], product[1], motion,
                credits, digest,
            ),
        )  # fmt: skip

    return line

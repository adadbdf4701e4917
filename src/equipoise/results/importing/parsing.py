"""Amounts and dates as files write them, read by a mapping's settings.

Amounts become exact integer minor units without floats: a typed amount with more decimals than the
currency has is refused (never rounded silently); quantity × unit price is rounded by the one
rounding rule (:func:`~equipoise.core.money.round_to_minor`). Errors are :class:`ValueError` with a
message meant for the error report.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from equipoise.core.money import minor_unit_exponent, round_to_minor

# The largest amount accepted, in minor units (as the API): far below the 64-bit column limit, so
# sums of many lines still fit.
MAX_AMOUNT_MINOR = 10**15
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPACES = str.maketrans("", "", " \u00a0\u202f\t")
_EARLIEST, _LATEST = date(1900, 1, 1), date(2199, 12, 31)


class AmountReader:
    """Text (or a spreadsheet number) to a Decimal, by the mapping's separators."""

    def __init__(self, *, decimal_separator: str = ".", thousands_separator: str = "") -> None:
        self.decimal_separator = decimal_separator
        self.thousands_separator = thousands_separator
        hint = f"'{decimal_separator}' as decimal separator"
        hint += f" and '{thousands_separator}' between thousands" if thousands_separator else " and no thousands separator"
        self.hint = hint

    def normalise(self, value: Any) -> str:
        """The number as plain ``-1234.5`` text; ValueError when it is not one."""
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not an amount.")
        if isinstance(value, int | Decimal):
            return str(value)
        if isinstance(value, float):
            return repr(value)
        text = str(value).strip()
        raw = text
        negative = False
        if text.startswith("(") and text.endswith(")"):
            negative, text = True, text[1:-1]
        if self.thousands_separator:
            spaces = self.thousands_separator == " "
            text = text.translate(_SPACES) if spaces else text.replace(self.thousands_separator, "")
        if self.decimal_separator == ",":
            if "." in text:
                raise ValueError(f"{raw!r} is not an amount: this mapping reads numbers with {self.hint}.")
            text = text.replace(",", ".")
        elif "," in text:
            raise ValueError(f"{raw!r} is not an amount: this mapping reads numbers with {self.hint}.")
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"{raw!r} is not an amount: write digits such as 1234.50 ({self.hint}).")
        if negative:
            text = text[1:] if text.startswith("-") else "-" + text.lstrip("+")
        return text

    def minor(self, value: Any, currency: str) -> int:
        """A typed amount in major units to minor units; refuses excess decimals."""
        text = self.normalise(value)
        exponent = minor_unit_exponent(currency)
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0")
        if len(fraction) > exponent:
            shown = value if isinstance(value, str) else text
            raise ValueError(f"{shown!r} has more than {exponent} decimals, the most {currency} allows.")
        minor = sign * (int(whole or "0") * 10**exponent + int(fraction.ljust(exponent, "0") or "0"))
        _check_bounds(minor, value)
        return minor

    def decimal(self, value: Any) -> Decimal:
        try:
            return Decimal(self.normalise(value))
        except InvalidOperation as error:  # pragma: no cover - normalise only lets numbers through
            raise ValueError(f"{value!r} is not a number.") from error

    def product_minor(self, quantity: Any, unit_price: Any, currency: str) -> int:
        """Quantity × unit price in minor units, rounded by the one rounding rule."""
        minor = round_to_minor(self.decimal(quantity) * self.decimal(unit_price), currency)
        _check_bounds(minor, f"{quantity} × {unit_price}")
        return minor


def _check_bounds(minor: int, shown: Any) -> None:
    if abs(minor) > MAX_AMOUNT_MINOR:
        raise ValueError(f"{shown!r} is larger than any amount Equipoise accepts.")


class DateReader:
    """Text (or a spreadsheet date) to a date, trying the mapping's formats in order."""

    def __init__(self, formats: tuple[str, ...] = ("iso",)) -> None:
        self.formats = formats
        self.description = " or ".join("YYYY-MM-DD" if fmt == "iso" else fmt for fmt in formats)
        # Dates repeat a lot in a file: parse each text once (bounded, so memory stays flat).
        self._cache: dict[str, date] = {}

    def read(self, value: Any) -> date:
        if isinstance(value, datetime):
            return _in_range(value.date(), value)
        if isinstance(value, date):
            return _in_range(value, value)
        text = str(value).strip()
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        if not text:
            raise ValueError("The date is blank.")
        parsed = self._parse(text)
        if len(self._cache) < 20_000:
            self._cache[text] = parsed
        return parsed

    def _parse(self, text: str) -> date:
        looked_like_a_date = False
        for fmt in self.formats:
            if fmt == "iso":
                head = text[:10]
                if _ISO_DATE.fullmatch(head) and (len(text) == 10 or text[10] in " T"):
                    looked_like_a_date = True
                    try:
                        parsed = date.fromisoformat(head)
                    except ValueError:
                        continue
                    return _in_range(parsed, text)
                continue
            try:
                parsed = datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
            except ValueError as error:
                if "out of range" in str(error) or "must be in" in str(error):
                    looked_like_a_date = True
                continue
            return _in_range(parsed, text)
        if looked_like_a_date:
            raise ValueError(f"{text!r} is not a date that exists.")
        raise ValueError(f"{text!r} is not a date: write it as {self.description}.")


def _in_range(day: date, shown: Any) -> date:
    if not _EARLIEST <= day <= _LATEST:
        raise ValueError(f"{shown!s} is outside the years 1900–2199.")
    return day

"""Pieces every router of the API shares: the error body, months, money, the acting user, pagination.

Money leaves the API as integer minor units (``*_minor``) next to its ``currency``, and as an exact
decimal string in major units ("12345.67") for people reading it. Never as a float.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import BeforeValidator, StrictInt, WithJsonSchema

from equipoise.core.errors import ApplicationError
from equipoise.core.money import Money, minor_unit_exponent
from equipoise.core.periods import month_start, parse_month

# The largest amount the API accepts, in minor units: far above any plan, far below the 64-bit
# column limit, so sums of many amounts still fit in the database.
MAX_AMOUNT_MINOR = 10**15
# The largest page a list returns, whatever ``limit`` asks for.
MAX_PAGE_SIZE = 500


class ErrorOut(Schema):
    error: str = Field(description="What was wrong and how to fix it.")
    field: str | None = Field(None, description="The input field the error is about, when there is one.")


ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _month(value: Any) -> date:
    if isinstance(value, date):
        return month_start(value)
    if not isinstance(value, str):
        raise ValueError("Write the month as a string YYYY-MM, for example 2027-01.")
    try:
        return parse_month(value)
    except ApplicationError as error:
        raise ValueError(error.message) from error


# A month as "YYYY-MM" in, the first day of that month inside.
Month = Annotated[
    date,
    BeforeValidator(_month),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "examples": ["2027-01"]}),
]
# Strict: a JSON integer, never a float, a boolean or a numeric string.
AmountMinor = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT_MINOR, description="Integer minor units (cents).")]
# A record id: bounded so that a huge number is a 400, not a database overflow.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
CurrencyCode = Annotated[str, Field(pattern="^[A-Z]{3}$", examples=["EUR"])]


def month_text(month: date) -> str:
    return f"{month:%Y-%m}"


def decimal_text(amount_minor: int, currency: str) -> str:
    """Exact major units as a string, with as many decimals as the currency has ("12345.67")."""
    return f"{Money.from_minor(amount_minor, currency).amount:.{minor_unit_exponent(currency)}f}"


def acting_user(request: HttpRequest) -> Any:
    """The authenticated user of an API request (bearer token or session), set by the auth classes."""
    return getattr(request, "auth", None)


class SerializedPagination(LimitOffsetPagination):
    """ninja's limit/offset pagination, turning only the page's rows into JSON-ready dicts.

    Views return a (scoped, ordered) queryset; ``serialize`` runs on the sliced page, so a list
    costs the same number of queries whatever its length.
    """

    def __init__(self, *, serialize: Callable[[Any], dict[str, Any]], **kwargs: Any) -> None:
        self.serialize = serialize
        super().__init__(max_limit=MAX_PAGE_SIZE, **kwargs)

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        page[self.items_attribute] = [self.serialize(item) for item in page[self.items_attribute]]
        return page

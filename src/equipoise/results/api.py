"""The results part of the REST API: push result lines (``POST /api/v1/results``).

A push is one batch, validated and made idempotent exactly like a file import (same row rules,
see ``results.importing.resolve``): the same line again changes nothing, a changed line is a
correction. Executives and sales ops / admins (or their tokens) may push; anyone else hears 403.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import StrictInt

from equipoise.api.schemas import ERRORS, acting_user
from equipoise.core.errors import AccessDenied
from equipoise.results.importing.push import MAX_PUSH_LINES
from equipoise.results.services import results_push, user_may_import

router = Router(tags=["results"])

Text = Annotated[str, Field(max_length=500)]


class SellerIn(Schema):
    username: Text | None = Field(None, description="The seller's user name; or give person_id.")
    person_id: StrictInt | None = Field(None, ge=1, le=2**63 - 1, description="The seller's person id; or give username.")
    share_bp: StrictInt = Field(10_000, ge=0, le=10_000, description="Share in basis points (10000 = 100%); shares sum to 10000.")


class LineIn(Schema):
    external_id: Annotated[str, Field(max_length=500, description="The line's id in your system, unique per source.")]
    kind: Text = Field("booking", description="booking, invoice, credit_note, renewal or churn.")
    date: Text = Field(description="YYYY-MM-DD", examples=["2027-01-15"])
    amount_minor: StrictInt = Field(
        ge=-(10**15), le=10**15, description="Signed integer minor units; credit notes and churn are stored negative whatever the sign."
    )
    currency: Text = Field(examples=["EUR"])
    customer_code: Text
    product_line_code: Text
    product_application_code: Text | None = None
    region_code: Text | None = Field(None, description="Default: the customer's home region.")
    motion: Text = Field("new", description="new, renewal or expansion.")
    sellers: list[SellerIn] = Field(
        default_factory=list, max_length=100, description="Credited sellers; none: the customer's owner is credited."
    )


class PushIn(Schema):
    source: Annotated[str, Field(min_length=1, max_length=64, description="Where the lines come from, e.g. billing.")]
    mode: Literal["all_or_nothing", "quarantine"] = "all_or_nothing"
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_PUSH_LINES)]


class LineError(Schema):
    index: int = Field(description="The line's position in `lines`, from 0.")
    field: str
    value: str
    reason: str


class PushOut(Schema):
    batch_id: int
    status: str = Field(description="committed, or rejected (all_or_nothing with an invalid line: nothing was imported).")
    created: int
    corrected: int
    unchanged: int
    skipped: int
    rejected: int
    errors: list[LineError]


@router.post("", response={200: PushOut, **ERRORS}, summary="Push result lines")
def push(request: HttpRequest, payload: PushIn) -> dict[str, Any]:
    """Validate and import up to 10,000 result lines as one batch. Every line is checked; the answer lists
    each invalid line's index, field, value and reason. In `all_or_nothing` mode (the default) any invalid
    line means nothing is imported (`status` rejected); in `quarantine` mode the valid lines are imported."""
    user = acting_user(request)
    if not user_may_import(user):
        raise AccessDenied("Your role may not push results: use a token of an executive or sales ops user.")
    batch, errors = results_push(actor=user, payload=payload.model_dump())
    return {
        "batch_id": batch.pk,
        "status": batch.status,
        "created": batch.lines_created,
        "corrected": batch.lines_corrected,
        "unchanged": batch.lines_unchanged,
        "skipped": batch.rows_skipped,
        "rejected": batch.rows_rejected,
        "errors": errors,
    }

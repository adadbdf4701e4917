"""The quotas part of the REST API: quotas (read) and bottom-up commits (read, create, update).

Scope is the selectors': a seller sees only their own rows, a manager their subtree, company-wide
roles everyone. Ids and people outside the caller's scope answer 404, as if they did not exist.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from equipoise.api.schemas import (
    ERRORS,
    AmountMinor,
    CurrencyCode,
    Id,
    Month,
    SerializedPagination,
    acting_user,
    decimal_text,
    month_text,
)
from equipoise.core.errors import ApplicationError
from equipoise.core.money import validate_currency
from equipoise.org.models import Motion
from equipoise.org.selectors import access_person_by_id, company_get, person_for_user
from equipoise.quotas import selectors, services
from equipoise.quotas.models import Commit, Quota, QuotaAllocation

router = Router(tags=["quotas"])


# --- schemas -------------------------------------------------------------------------------------


class QuotaOut(Schema):
    id: int
    allocation_id: int
    plan_id: int
    person_id: int
    person_name: str
    bucket_id: int
    bucket_label: str
    motion: str
    month: str
    amount_minor: int
    amount: str
    currency: str


class QuotaFilter(Schema):
    allocation: Id | None = Field(None, description="An allocation id; the current allocation when absent.")
    person: Id | None = Field(None, description="Only this person's quotas.")
    team: Id | None = Field(None, description="Only quotas of this person's subtree (a manager and everyone below).")
    month_from: Month | None = None
    month_to: Month | None = None
    bucket: Id | None = None


class CommitOut(Schema):
    id: int
    person_id: int
    person_name: str
    month: str
    motion: str
    amount_minor: int
    amount: str
    currency: str
    note: str
    updated_at: str


class CommitFilter(Schema):
    person: Id | None = None
    month_from: Month | None = None
    month_to: Month | None = None
    motion: Motion | None = None


class CommitIn(Schema):
    person_id: Id | None = Field(None, description="Whose commit; your own when absent.")
    month: Month
    motion: Motion
    amount_minor: AmountMinor
    currency: CurrencyCode | None = Field(None, description="Defaults to the company's reporting currency.")
    note: str = Field("", max_length=500)


class CommitUpdateIn(Schema):
    amount_minor: AmountMinor
    currency: CurrencyCode | None = Field(None, description="Unchanged when absent.")
    note: str = Field("", max_length=500)


# --- serialisation -------------------------------------------------------------------------------


def quota_data(quota: Quota) -> dict[str, Any]:
    currency = quota.allocation.plan.currency
    return {
        "id": quota.pk,
        "allocation_id": quota.allocation_id,
        "plan_id": quota.allocation.plan_id,
        "person_id": quota.person_id,
        "person_name": quota.person.full_name,
        "bucket_id": quota.bucket_id,
        "bucket_label": quota.bucket.label,
        "motion": quota.bucket.motion,
        "month": month_text(quota.month),
        "amount_minor": quota.amount_minor,
        "amount": decimal_text(quota.amount_minor, currency),
        "currency": currency,
    }


def commit_data(commit: Commit) -> dict[str, Any]:
    return {
        "id": commit.pk,
        "person_id": commit.person_id,
        "person_name": commit.person.full_name,
        "month": month_text(commit.month),
        "motion": commit.motion,
        "amount_minor": commit.amount_minor,
        "amount": decimal_text(commit.amount_minor, commit.currency),
        "currency": commit.currency,
        "note": commit.note,
        "updated_at": commit.updated_at.isoformat(),
    }


# Services name fields by concept; the API names them as the client sent them.
_COMMIT_FIELDS = {"person": "person_id", "amount": "amount_minor"}

_QUOTA_RELATED = (
    "person",
    "allocation__plan",
    "bucket__region",
    "bucket__product_line",
    "bucket__product_application",
    "bucket__customer",
)


# --- quotas --------------------------------------------------------------------------------------


@router.get("/quotas", response=list[QuotaOut], summary="Quotas in your scope, filtered")
@paginate(SerializedPagination, serialize=quota_data)
def quota_list(request: HttpRequest, filters: Query[QuotaFilter]) -> QuerySet[Quota]:
    user = acting_user(request)
    # People outside the caller's scope are refused first, whether or not there are quotas yet.
    person = access_person_by_id(user, filters.person) if filters.person is not None else None
    team = access_person_by_id(user, filters.team) if filters.team is not None else None
    allocation: QuotaAllocation | None
    if filters.allocation is not None:
        allocation = selectors.access_allocation_by_id(user, filters.allocation)
    else:
        allocation = selectors.current_allocation(user)
    if allocation is None:
        return Quota.objects.none()
    quotas = selectors.quotas_visible(user, allocation)
    if person is not None:
        quotas = quotas.filter(person=person)
    if team is not None:
        quotas = quotas.filter(person__path__startswith=team.path)
    if filters.month_from is not None:
        quotas = quotas.filter(month__gte=filters.month_from)
    if filters.month_to is not None:
        quotas = quotas.filter(month__lte=filters.month_to)
    if filters.bucket is not None:
        quotas = quotas.filter(bucket_id=filters.bucket)
    return quotas.select_related(*_QUOTA_RELATED).order_by("person__path", "month", "bucket__position", "bucket_id")


@router.get("/quotas/{quota_id}", response={200: QuotaOut, **ERRORS}, summary="One quota")
def quota_detail(request: HttpRequest, quota_id: int) -> dict[str, Any]:
    return quota_data(selectors.access_quota_by_id(acting_user(request), quota_id))


# --- commits -------------------------------------------------------------------------------------


@router.get("/commits", response=list[CommitOut], summary="Commits in your scope")
@paginate(SerializedPagination, serialize=commit_data)
def commit_list(request: HttpRequest, filters: Query[CommitFilter]) -> QuerySet[Commit]:
    user = acting_user(request)
    commits = selectors.commits_visible(user)
    if filters.person is not None:
        commits = commits.filter(person=access_person_by_id(user, filters.person))
    if filters.month_from is not None:
        commits = commits.filter(month__gte=filters.month_from)
    if filters.month_to is not None:
        commits = commits.filter(month__lte=filters.month_to)
    if filters.motion is not None:
        commits = commits.filter(motion=filters.motion)
    return commits.order_by("month", "motion", "person__path", "id")


@router.post("/commits", response={200: CommitOut, 201: CommitOut, **ERRORS}, summary="Enter or change a commit")
def commit_upsert(request: HttpRequest, payload: CommitIn) -> Status[dict[str, Any]]:
    """Creates the commit for (person, month, motion), or updates it when it exists: 201 or 200."""
    user = acting_user(request)
    person_id = payload.person_id
    if person_id is None:
        own = person_for_user(user)
        if own is None:
            raise ApplicationError("You have no place in the sales organisation: say whose commit this is.", field="person_id")
        person_id = own.pk
    currency = validate_currency(payload.currency or company_get().reporting_currency)
    existed = selectors.commits_visible(user).filter(person_id=person_id, month=payload.month, motion=payload.motion).exists()
    try:
        commit = services.commit_upsert(
            actor=user,
            person_id=person_id,
            month=payload.month,
            motion=payload.motion,
            amount_minor=payload.amount_minor,
            currency=currency,
            note=payload.note,
        )
    except ApplicationError as error:
        error.field = _COMMIT_FIELDS.get(error.field or "", error.field)
        raise
    return Status(200 if existed else 201, commit_data(commit))


@router.put("/commits/{commit_id}", response={200: CommitOut, **ERRORS}, summary="Change a commit's amount and note")
def commit_update(request: HttpRequest, commit_id: int, payload: CommitUpdateIn) -> dict[str, Any]:
    user = acting_user(request)
    commit = selectors.access_commit_by_id(user, commit_id)
    updated = services.commit_upsert(
        actor=user,
        person_id=commit.person_id,
        month=commit.month,
        motion=commit.motion,
        amount_minor=payload.amount_minor,
        currency=payload.currency or commit.currency,
        note=payload.note,
    )
    return commit_data(updated)

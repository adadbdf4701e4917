"""The plans part of the REST API: plan versions, their buckets and monthly amounts.

Plans are company-level: people who do not see the company (managers, sellers) get 404 for any
plan id, and writes are refused by the services (403) for roles that may not make them.
"""

from typing import Any

from django.db import models, transaction
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
from equipoise.core.periods import add_months
from equipoise.org.models import Customer, Motion, ProductApplication, ProductLine, Region
from equipoise.org.selectors import company_get, dimension_by_code
from equipoise.planning import domain, selectors, services
from equipoise.planning.models import PlanBucket, PlanKind, PlanState, PlanVersion, SeasonalityProfile

router = Router(tags=["plans"])


# --- schemas -------------------------------------------------------------------------------------


class PlanOut(Schema):
    id: int
    name: str
    kind: str
    state: str
    start_month: str = Field(examples=["2027-01"])
    horizon_months: int
    end_month: str
    currency: str
    total_target_minor: int
    total_target: str = Field(description="The total target as an exact decimal string in major units.")
    grr_objective_bp: int | None
    nrr_objective_bp: int | None
    max_logo_churn_bp: int | None
    growth_bp_per_month: int
    seasonality: str | None
    revised_from_id: int | None
    notes: str
    created_at: str
    approved_at: str | None


class BucketOut(Schema):
    id: int
    plan_id: int
    label: str
    region_code: str | None
    product_line_code: str | None
    product_application_code: str | None
    customer_code: str | None
    motion: str = Field(description="new, renewal or expansion; empty for all motions.")
    target_kind: str
    target_share_bp: int | None
    target_minor: int
    target: str
    currency: str


class MonthAmountOut(Schema):
    month: str
    amount_minor: int
    amount: str


class YearAmountOut(Schema):
    fiscal_year: str
    first_month: str
    last_month: str
    amount_minor: int
    amount: str


class BucketDetailOut(BucketOut):
    months: list[MonthAmountOut]
    fiscal_years: list[YearAmountOut]
    total_minor: int
    total: str


class ReconciliationOut(Schema):
    total_target_minor: int
    buckets_minor: int
    months_minor: int
    unassigned_minor: int
    share_total_bp: int | None
    is_reconciled: bool


class PlanDetailOut(PlanOut):
    buckets: list[BucketDetailOut]
    months: list[MonthAmountOut] = Field(description="Each month's total over all buckets.")
    fiscal_years: list[YearAmountOut]
    total_minor: int
    total: str
    reconciliation: ReconciliationOut


class BucketIn(Schema):
    region_code: str | None = None
    product_line_code: str | None = None
    product_application_code: str | None = None
    customer_code: str | None = Field(None, description="A named account's code.")
    motion: Motion | None = None
    target_minor: AmountMinor | None = Field(None, description="The bucket's horizon target; give this or target_share_bp.")
    target_share_bp: int | None = Field(None, description="The bucket's share of the plan total in basis points (2500 = 25%).")
    reason: str = ""


class PlanCreateIn(Schema):
    name: str = Field(max_length=200)
    kind: PlanKind = PlanKind.TOP_DOWN
    start_month: Month
    horizon_months: int = Field(24, description="12 to 36 months.")
    currency: CurrencyCode | None = Field(None, description="Defaults to the company's reporting currency.")
    total_target_minor: AmountMinor = 0
    grr_objective_bp: int | None = None
    nrr_objective_bp: int | None = None
    max_logo_churn_bp: int | None = None
    growth_bp_per_month: int = 0
    seasonality: str | None = Field(None, description="The name of a seasonality profile; flat when absent.")
    notes: str = ""
    buckets: list[BucketIn] = Field(default_factory=list, description="Created with the plan: a bad bucket creates nothing.")


class PlanFilter(Schema):
    kind: PlanKind | None = None
    state: PlanState | None = None


class ReasonIn(Schema):
    reason: str = ""


class BucketTargetIn(Schema):
    target_minor: AmountMinor | None = None
    target_share_bp: int | None = None
    reason: str = ""


class MonthSetIn(Schema):
    bucket_id: Id
    month: Month
    amount_minor: AmountMinor
    reason: str = ""


class MonthSetOut(Schema):
    plan_id: int
    bucket_id: int
    month: str
    amount_minor: int
    amount: str
    bucket_target_minor: int
    reconciliation: ReconciliationOut


# --- serialisation -------------------------------------------------------------------------------


def plan_data(plan: PlanVersion) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "name": plan.name,
        "kind": plan.kind,
        "state": plan.state,
        "start_month": month_text(plan.start_month),
        "horizon_months": plan.horizon_months,
        "end_month": month_text(add_months(plan.start_month, plan.horizon_months - 1)),
        "currency": plan.currency,
        "total_target_minor": plan.total_target_minor,
        "total_target": decimal_text(plan.total_target_minor, plan.currency),
        "grr_objective_bp": plan.grr_objective_bp,
        "nrr_objective_bp": plan.nrr_objective_bp,
        "max_logo_churn_bp": plan.max_logo_churn_bp,
        "growth_bp_per_month": plan.growth_bp_per_month,
        "seasonality": plan.seasonality.name if plan.seasonality is not None else None,
        "revised_from_id": plan.revised_from_id,
        "notes": plan.notes,
        "created_at": plan.created_at.isoformat(),
        "approved_at": plan.approved_at.isoformat() if plan.approved_at else None,
    }


def _code(record: Region | ProductLine | ProductApplication | Customer | None) -> str | None:
    return record.code if record is not None else None


def bucket_data(bucket: PlanBucket, currency: str) -> dict[str, Any]:
    return {
        "id": bucket.pk,
        "plan_id": bucket.plan_id,
        "label": bucket.label,
        "region_code": _code(bucket.region),
        "product_line_code": _code(bucket.product_line),
        "product_application_code": _code(bucket.product_application),
        "customer_code": _code(bucket.customer),
        "motion": bucket.motion,
        "target_kind": bucket.target_kind,
        "target_share_bp": bucket.target_share_bp,
        "target_minor": bucket.target_minor,
        "target": decimal_text(bucket.target_minor, currency),
        "currency": currency,
    }


def _reconciliation_data(check: domain.Reconciliation) -> dict[str, Any]:
    return {
        "total_target_minor": check.total_target_minor,
        "buckets_minor": check.buckets_minor,
        "months_minor": check.months_minor,
        "unassigned_minor": check.unassigned_minor,
        "share_total_bp": check.share_total_bp,
        "is_reconciled": check.is_reconciled,
    }


def plan_detail_data(plan: PlanVersion) -> dict[str, Any]:
    """The plan with every bucket's monthly amounts, monthly and fiscal-year totals, and reconciliation."""
    grid = selectors.plan_grid(plan)
    currency = plan.currency

    def months(values: list[int]) -> list[dict[str, Any]]:
        return [
            {"month": month_text(month), "amount_minor": amount, "amount": decimal_text(amount, currency)}
            for month, amount in zip(grid.months, values, strict=True)
        ]

    def years(values: list[int]) -> list[dict[str, Any]]:
        return [
            {
                "fiscal_year": label,
                "first_month": month_text(year_months[0]),
                "last_month": month_text(year_months[-1]),
                "amount_minor": amount,
                "amount": decimal_text(amount, currency),
            }
            for (label, year_months), amount in zip(grid.years, values, strict=True)
        ]

    buckets = [
        {
            **bucket_data(row.bucket, currency),
            "months": months(row.months),
            "fiscal_years": years(row.year_totals),
            "total_minor": row.total,
            "total": decimal_text(row.total, currency),
        }
        for row in grid.rows
    ]
    return {
        **plan_data(plan),
        "buckets": buckets,
        "months": months(grid.month_totals),
        "fiscal_years": years(grid.year_totals),
        "total_minor": grid.total,
        "total": decimal_text(grid.total, currency),
        "reconciliation": _reconciliation_data(grid.reconciliation),
    }


# --- parsing helpers -----------------------------------------------------------------------------

# Services name fields by concept; the API names them as the client sent them.
_PLAN_FIELDS = {
    "total_target": "total_target_minor",
    "grr_objective": "grr_objective_bp",
    "nrr_objective": "nrr_objective_bp",
    "max_logo_churn": "max_logo_churn_bp",
}
_BUCKET_FIELDS = {
    "target_share": "target_share_bp",
    "region": "region_code",
    "product_line": "product_line_code",
    "product_application": "product_application_code",
    "customer": "customer_code",
}


def _renamed(error: ApplicationError, names: dict[str, str], prefix: str = "") -> ApplicationError:
    field = names.get(error.field or "", error.field)
    error.field = f"{prefix}{field}" if field else prefix.rstrip(".") or None
    return error


def _by_code(model: type[models.Model], code: str | None, field: str) -> Any:
    return dimension_by_code(model, code, field=field) if code else None


def _bucket_add(actor: Any, plan: PlanVersion, payload: BucketIn) -> PlanBucket:
    return services.bucket_add(
        actor=actor,
        plan=plan,
        region=_by_code(Region, payload.region_code, "region_code"),
        product_line=_by_code(ProductLine, payload.product_line_code, "product_line_code"),
        product_application=_by_code(ProductApplication, payload.product_application_code, "product_application_code"),
        customer=_by_code(Customer, payload.customer_code, "customer_code"),
        motion=payload.motion or "",
        target_minor=payload.target_minor,
        target_share_bp=payload.target_share_bp,
        reason=payload.reason,
    )


def _seasonality(name: str | None) -> SeasonalityProfile | None:
    if not name:
        return None
    profile = SeasonalityProfile.objects.filter(name=name).first()
    if profile is None:
        raise ApplicationError(f"There is no seasonality profile named {name!r}.", field="seasonality")
    return profile


# --- endpoints -----------------------------------------------------------------------------------


@router.get("/plans", response=list[PlanOut], summary="List plan versions")
@paginate(SerializedPagination, serialize=plan_data)
def plan_list(request: HttpRequest, filters: Query[PlanFilter]) -> QuerySet[PlanVersion]:
    plans = selectors.plans_visible(acting_user(request))
    if filters.kind is not None:
        plans = plans.filter(kind=filters.kind)
    if filters.state is not None:
        plans = plans.filter(state=filters.state)
    return plans.order_by("-created_at", "-id")


@router.post("/plans", response={201: PlanDetailOut, **ERRORS}, summary="Create a draft plan, optionally with buckets")
def plan_create(request: HttpRequest, payload: PlanCreateIn) -> Status[dict[str, Any]]:
    actor = acting_user(request)
    # One transaction: a bucket that fails leaves no half-built plan behind.
    with transaction.atomic():
        try:
            plan = services.plan_create(
                actor=actor,
                name=payload.name,
                kind=payload.kind,
                start_month=payload.start_month,
                horizon_months=payload.horizon_months,
                currency=payload.currency or company_get().reporting_currency,
                total_target_minor=payload.total_target_minor,
                grr_objective_bp=payload.grr_objective_bp,
                nrr_objective_bp=payload.nrr_objective_bp,
                max_logo_churn_bp=payload.max_logo_churn_bp,
                seasonality=_seasonality(payload.seasonality),
                growth_bp_per_month=payload.growth_bp_per_month,
                notes=payload.notes,
            )
        except ApplicationError as error:
            raise _renamed(error, _PLAN_FIELDS) from None
        for index, bucket in enumerate(payload.buckets):
            try:
                _bucket_add(actor, plan, bucket)
            except ApplicationError as error:
                raise _renamed(error, _BUCKET_FIELDS, prefix=f"buckets.{index}.") from None
    plan.refresh_from_db()
    return Status(201, plan_detail_data(plan))


@router.get("/plans/{plan_id}", response={200: PlanDetailOut, **ERRORS}, summary="A plan with its monthly amounts")
def plan_detail(request: HttpRequest, plan_id: int) -> dict[str, Any]:
    return plan_detail_data(selectors.access_plan_by_id(acting_user(request), plan_id))


@router.post("/plans/{plan_id}/approve", response={200: PlanOut, **ERRORS}, summary="Approve a reconciled draft")
def plan_approve(request: HttpRequest, plan_id: int, payload: ReasonIn | None = None) -> dict[str, Any]:
    actor = acting_user(request)
    plan = selectors.access_plan_by_id(actor, plan_id)
    try:
        approved = services.plan_approve(actor=actor, plan=plan, reason=payload.reason if payload else "")
    except ApplicationError as error:
        raise _renamed(error, {**_PLAN_FIELDS, **_BUCKET_FIELDS}) from None
    return plan_data(approved)


@router.get("/plans/{plan_id}/buckets", response={200: list[BucketOut], **ERRORS}, summary="A plan's buckets")
def bucket_list(request: HttpRequest, plan_id: int) -> list[dict[str, Any]]:
    plan = selectors.access_plan_by_id(acting_user(request), plan_id)
    return [bucket_data(bucket, plan.currency) for bucket in selectors.plan_buckets(plan)]


@router.post("/plans/{plan_id}/buckets", response={201: BucketOut, **ERRORS}, summary="Add a bucket to a draft")
def bucket_create(request: HttpRequest, plan_id: int, payload: BucketIn) -> Status[dict[str, Any]]:
    actor = acting_user(request)
    plan = selectors.access_plan_by_id(actor, plan_id)
    try:
        bucket = _bucket_add(actor, plan, payload)
    except ApplicationError as error:
        raise _renamed(error, _BUCKET_FIELDS) from None
    return Status(201, bucket_data(selectors.plan_buckets(plan).get(pk=bucket.pk), plan.currency))


@router.patch("/buckets/{bucket_id}", response={200: BucketOut, **ERRORS}, summary="Change a bucket's target")
def bucket_update(request: HttpRequest, bucket_id: int, payload: BucketTargetIn) -> dict[str, Any]:
    actor = acting_user(request)
    bucket = selectors.access_bucket_by_id(actor, bucket_id)
    try:
        bucket = services.bucket_set_target(
            actor=actor,
            bucket=bucket,
            target_minor=payload.target_minor,
            target_share_bp=payload.target_share_bp,
            reason=payload.reason,
        )
    except ApplicationError as error:
        raise _renamed(error, _BUCKET_FIELDS) from None
    plan = bucket.plan
    return bucket_data(selectors.plan_buckets(plan).get(pk=bucket.pk), plan.currency)


@router.put("/plans/{plan_id}/months", response={200: MonthSetOut, **ERRORS}, summary="Set one bucket's amount for one month")
def plan_month_set(request: HttpRequest, plan_id: int, payload: MonthSetIn) -> dict[str, Any]:
    actor = acting_user(request)
    plan = selectors.access_plan_by_id(actor, plan_id)
    try:
        row = services.plan_month_set(
            actor=actor,
            plan=plan,
            bucket_id=payload.bucket_id,
            month=payload.month,
            amount_minor=payload.amount_minor,
            reason=payload.reason,
        )
    except ApplicationError as error:
        raise _renamed(error, {"amount": "amount_minor"}) from None
    return {
        "plan_id": plan.pk,
        "bucket_id": row.bucket_id,
        "month": month_text(row.month),
        "amount_minor": row.amount_minor,
        "amount": decimal_text(row.amount_minor, plan.currency),
        "bucket_target_minor": row.bucket.target_minor,
        "reconciliation": _reconciliation_data(services.plan_reconciliation(plan)),
    }

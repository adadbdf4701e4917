"""The retention part of the REST API: ``GET /api/v1/retention``, and contracts (``/api/v1/contracts``).

Retention answers the page's figures as JSON: amounts in integer minor units with the currency,
ratios as exact decimal strings (1 = 100%, six decimals, half-to-even) next to their integer
numerator and denominator. Scope is the selectors': a seller gets only their own customers, a
manager their subtree; any other person or scope answers 404, as if it did not exist.

``POST /api/v1/contracts`` creates or updates up to 5,000 contracts by (source, external id),
idempotently, answering with counts and each invalid row's index, field, value and reason.
Executives and sales ops / admins may push contracts; anyone else hears 403.
"""

# No ``from __future__ import annotations`` here: ninja reads the endpoints' annotations at runtime.
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import StrictInt

from equipoise.api.schemas import ERRORS, Id, SerializedPagination, acting_user
from equipoise.results import contracts as contract_services
from equipoise.results import retention_selectors as selectors
from equipoise.results.models import Contract
from equipoise.results.retention import Ratio, RetentionFigures, RetentionPeriod, annual_recurring_minor

router = Router(tags=["retention"])

Text = Annotated[str, Field(max_length=500)]


class RetentionQuery(Schema):
    scope: str = Field("", description="company, team:<person id>, seller:<person id> or region:<region id>; yours when absent.")
    grain: str = Field("month", description="month, quarter (fiscal) or year (fiscal).")
    period: str = Field("", description="YYYY-MM: the period of `grain` containing this month; the current one when absent.")
    product_line: str = Field("", description="Only contracts (or results) of this product line id.")
    show: str = Field("all", description="Which customers to list: all, churned, contracted, expanded, retained or new.")
    limit: int = Field(100, ge=1, le=500, description="Customers per page.")
    offset: int = Field(0, ge=0, description="Customers to skip.")


class RatioOut(Schema):
    value: str = Field(description="Exact decimal string, six decimals (1 = 100%).")
    numerator: int
    denominator: int


class FiguresOut(Schema):
    cohort_customers: int = Field(description="Customers active at the baseline (the day before the period).")
    churned_customers: int
    contracted_customers: int
    expanded_customers: int
    retained_customers: int
    new_customers: int = Field(description="Active at the end, not at the baseline: outside the ratios.")
    start_minor: int = Field(description="Σ ARR (or trailing revenue) of the cohort at the baseline.")
    end_minor: int = Field(description="Σ of the cohort at the end.")
    kept_minor: int = Field(description="Σ min(end, start) over the cohort.")
    new_minor: int
    grr: RatioOut | None = Field(description="kept ÷ start; null without a cohort.")
    nrr: RatioOut | None = Field(description="end ÷ start.")
    logo_churn: RatioOut | None = Field(description="churned ÷ cohort.")


class PeriodOut(Schema):
    grain: str
    period: str = Field(description="The period's first month, YYYY-MM.")
    label: str
    start: str
    end: str
    baseline: str = Field(description="The day before the period: where the cohort is taken.")
    as_of: str = Field(description="The day compared with the baseline: the period's end, or today while it is in progress.")
    in_progress: bool = Field(description="True while the period has not ended: its figures are to date.")


class TrendOut(Schema):
    period: PeriodOut
    figures: FiguresOut


class ObjectiveOut(Schema):
    objective_bp: int | None = Field(description="From the approved top-down plan (an annual rate); null when not set.")
    met: bool | None = Field(
        description="The figure (to date, while the period is in progress) against the objective; null when either is "
        "missing or the objective does not apply to the period (see `applies`)."
    )
    applies: bool = Field(description="The objective judges this period: a fiscal year the approved plan covers.")
    final: bool = Field(description="The period has ended; false: `met` is only how things stand so far.")
    status: str | None = Field(description="met or missed (final), on_track or off_track (so far), or null (not judged).")


class BreakdownOut(Schema):
    key: str
    label: str
    scope: str | None = Field(description="The scope this row opens, if it is one.")
    figures: FiguresOut


class CustomerOut(Schema):
    customer_id: int
    code: str
    name: str
    category: str = Field(description="churned, contracted, expanded, retained or new.")
    start_minor: int
    end_minor: int
    change_minor: int


class RetentionOut(Schema):
    scope: str
    scope_label: str
    basis: str = Field(description="contracts, or activity (the company has no contracts: purchases within the lapse window).")
    currency: str
    lapse_after_months: int
    product_line: int | None
    period: PeriodOut
    figures: FiguresOut
    objectives: dict[str, ObjectiveOut] = Field(description="grr, nrr and logo_churn (a maximum).")
    plan: str | None
    objective_fit: str = Field(
        description="applies; no_plan; not_a_fiscal_year (the objectives are annual: months and quarters are not judged); "
        "outside_plan (a fiscal year the approved plan does not cover)."
    )
    has_customers: bool = Field(description="Anyone in the period (cohort or new): false means there is nothing to measure.")
    other_currencies: list[str] = Field(description="Currencies left out: figures are in the company's reporting currency.")
    trend: list[TrendOut]
    breakdown: list[BreakdownOut]
    customer_count: int = Field(description="Customers in `show`, before limit and offset.")
    customers: list[CustomerOut]


def _ratio(ratio: Ratio | None) -> dict[str, Any] | None:
    if ratio is None:
        return None
    return {"value": str(ratio.quantized(6)), "numerator": ratio.numerator, "denominator": ratio.denominator}


def figures_data(figures: RetentionFigures) -> dict[str, Any]:
    return {
        "cohort_customers": figures.cohort_count,
        "churned_customers": figures.churned_count,
        "contracted_customers": figures.contracted_count,
        "expanded_customers": figures.expanded_count,
        "retained_customers": figures.retained_count,
        "new_customers": figures.new_count,
        "start_minor": figures.start_minor,
        "end_minor": figures.end_minor,
        "kept_minor": figures.kept_minor,
        "new_minor": figures.new_minor,
        "grr": _ratio(figures.grr),
        "nrr": _ratio(figures.nrr),
        "logo_churn": _ratio(figures.logo_churn),
    }


def _period(period: RetentionPeriod, as_of: Any) -> dict[str, Any]:
    return {
        "grain": period.grain.value,
        "period": period.key,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "baseline": period.baseline.isoformat(),
        "as_of": as_of.isoformat(),
        "in_progress": as_of < period.end,
    }


@router.get("/retention", response={200: RetentionOut, **ERRORS}, summary="GRR, NRR and logo churn for a scope and period")
def retention_get(request: HttpRequest, query: Query[RetentionQuery]) -> dict[str, Any]:
    """Retention of a scope over one period, with the trend before it, a breakdown by team and seller
    (for the company and teams), and the customers behind the figures (paged by limit and offset)."""
    report = selectors.retention_report(
        acting_user(request), scope=query.scope, grain=query.grain, period=query.period, product_line=query.product_line
    )
    customers = selectors.filter_balances(report.balances, query.show)
    page = customers[query.offset : query.offset + query.limit]
    labels = selectors.customer_labels(balance.customer_id for balance in page)
    return {
        "scope": report.scope.text,
        "scope_label": report.scope.label,
        "basis": report.basis.value,
        "currency": report.currency,
        "lapse_after_months": report.lapse_after_months,
        "product_line": report.product_line.pk if report.product_line else None,
        "period": _period(report.period, report.as_of),
        "figures": figures_data(report.figures),
        "objectives": {
            key: {
                "objective_bp": check.objective_bp,
                "met": check.met,
                "applies": check.applies,
                "final": check.final,
                "status": check.status.value if check.status else None,
            }
            for key, check in report.objectives.items()
        },
        "plan": report.plan_name,
        "objective_fit": report.objective_fit.value,
        "has_customers": report.has_customers,
        "other_currencies": report.other_currencies,
        "trend": [{"period": _period(point.period, point.as_of), "figures": figures_data(point.figures)} for point in report.trend],
        "breakdown": [
            {"key": row.key, "label": row.label, "scope": row.scope_text, "figures": figures_data(row.figures)} for row in report.breakdown
        ],
        "customer_count": len(customers),
        "customers": [
            {
                "customer_id": balance.customer_id,
                "code": labels.get(balance.customer_id, ("", ""))[0],
                "name": labels.get(balance.customer_id, ("", ""))[1],
                "category": balance.category.value if balance.category else "",
                "start_minor": balance.start_minor,
                "end_minor": balance.end_minor,
                "change_minor": balance.change_minor,
            }
            for balance in page
        ],
    }


# --- contracts -----------------------------------------------------------------------------------


class ContractIn(Schema):
    external_id: Annotated[str, Field(max_length=500, description="The contract's id in your system, unique per source.")]
    customer_code: Text
    seller_username: Text | None = Field(None, description="The seller's user name; or seller_person_id; neither: the customer's owner.")
    seller_person_id: StrictInt | None = Field(None, ge=1, le=2**63 - 1)
    product_line_code: Text | None = None
    starts_on: Text = Field(description="YYYY-MM-DD, the first day of the contract.", examples=["2027-01-01"])
    ends_on: Text = Field(description="YYYY-MM-DD, the last day (inclusive).", examples=["2027-12-31"])
    billing_period: Text = Field("annual", description="monthly or annual: what amount_minor is per.")
    currency: Text = Field(examples=["EUR"])
    amount_minor: StrictInt = Field(description="Integer minor units per billing period, ≥ 0.")
    renews_external_id: Text | None = Field(None, description="The earlier contract of the same customer this one renews.")
    renews_source: Text | None = Field(None, description="The source of the renewed contract; this batch's source when absent.")


class ContractsIn(Schema):
    source: Annotated[str, Field(min_length=1, max_length=64, description="Where the contracts come from, e.g. billing.")]
    mode: Literal["all_or_nothing", "valid_only"] = Field(
        "all_or_nothing", description="all_or_nothing: any invalid row saves nothing; valid_only: the valid rows are saved."
    )
    contracts: Annotated[list[ContractIn], Field(min_length=1, max_length=contract_services.MAX_CONTRACTS_PER_BATCH)]


class RowErrorOut(Schema):
    index: int = Field(description="The row's position in `contracts`, from 0.")
    field: str
    value: str
    reason: str


class ContractsOut(Schema):
    status: str = Field(description="committed, or rejected (all_or_nothing with an invalid row: nothing was saved).")
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowErrorOut]


@router.post("/contracts", response={200: ContractsOut, **ERRORS}, summary="Create or update contracts")
def contracts_push(request: HttpRequest, payload: ContractsIn) -> dict[str, Any]:
    """Create or update contracts by (source, external id); the same contracts again change nothing."""
    result = contract_services.contracts_upsert(
        actor=acting_user(request),
        source=payload.source,
        rows=[row.model_dump() for row in payload.contracts],
        mode=payload.mode,
    )
    return {
        "status": result.status,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "rejected": result.rejected,
        "errors": [error.__dict__ for error in result.errors],
    }


class ContractOut(Schema):
    id: int
    source: str
    external_id: str
    customer_code: str
    seller_id: int | None
    product_line_code: str | None
    starts_on: str
    ends_on: str
    billing_period: str
    currency: str
    amount_minor: int
    arr_minor: int = Field(description="Annual recurring revenue: amount × 12 (monthly) or amount (annual).")
    renews_id: int | None


class ContractFilter(Schema):
    customer: Id | None = None
    seller: Id | None = None


def contract_data(contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.pk,
        "source": contract.source,
        "external_id": contract.external_id,
        "customer_code": contract.customer.code,
        "seller_id": contract.seller_id,
        "product_line_code": contract.product_line.code if contract.product_line else None,
        "starts_on": contract.starts_on.isoformat(),
        "ends_on": contract.ends_on.isoformat(),
        "billing_period": contract.billing_period,
        "currency": contract.currency,
        "amount_minor": contract.amount_minor,
        "arr_minor": annual_recurring_minor(contract.amount_minor, contract.billing_period),
        "renews_id": contract.renews_id,
    }


@router.get("/contracts", response=list[ContractOut], summary="Contracts in your scope")
@paginate(SerializedPagination, serialize=contract_data)
def contract_list(request: HttpRequest, filters: Query[ContractFilter]) -> QuerySet[Contract]:
    return contract_services.contract_list(acting_user(request), customer_id=filters.customer, seller_id=filters.seller)

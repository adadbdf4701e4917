"""Retention for a scope and period, read on behalf of an acting user (the maths: :mod:`.retention`;
the scopes a user may ask for: :mod:`.retention_scopes`; objectives: :mod:`.retention_objectives`).

With contracts (the company has at least one), retention reads only contracts overlapping the
range from the first baseline to the last end (indexed by ``customer, starts_on`` and
``ends_on``), in the company's reporting currency. Without contracts, it reads result lines of
that range widened by the lapse window, aggregated per customer, seller and month in the database.
A report costs a fixed number of queries, whatever the number of customers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import CharField, Count, Exists, Func, OuterRef, Q, Sum
from django.utils import timezone

from equipoise.core.access import Role
from equipoise.core.errors import ApplicationError, NotFound
from equipoise.core.periods import add_months, month_start, parse_month
from equipoise.org.models import Customer, Person, ProductLine
from equipoise.org.selectors import company_get
from equipoise.planning.selectors import approved_plan
from equipoise.results import retention
from equipoise.results.models import Contract, Measure, ResultKind, ResultLine
from equipoise.results.retention import (
    Basis,
    ContractTerm,
    CustomerBalance,
    MonthActivity,
    RetentionFigures,
    RetentionGrain,
    RetentionPeriod,
)
from equipoise.results.retention_objectives import ObjectiveCheck, ObjectiveFit, objective_check, objective_fit

# The scopes live in their own module; these names are read from here too (views, API, tests).
from equipoise.results.retention_scopes import (  # noqa: F401
    SCOPE_SELLER_OPTIONS_LIMIT,
    RetentionScope,
    _viewer,
    access_retention_scope,
    home_scope,
    picker_options,
    product_line_options,
    scope_options,
)

# How many periods the trend shows, the chosen one last.
TREND_PERIODS = {RetentionGrain.MONTH: 12, RetentionGrain.QUARTER: 8, RetentionGrain.YEAR: 4}
NO_SELLER_KEY = "none"
OTHER_KEY = "other"
PURCHASE_KINDS = (ResultKind.BOOKING, ResultKind.RENEWAL, ResultKind.INVOICE)


def data_exists() -> bool:
    return Contract.objects.exists() or ResultLine.objects.exists()


# --- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    period: RetentionPeriod
    as_of: date
    figures: RetentionFigures


@dataclass(frozen=True)
class BreakdownRow:
    key: str
    label: str
    scope_text: str | None  # where the row leads; None: not a scope of its own
    figures: RetentionFigures


@dataclass(frozen=True)
class RetentionReport:
    scope: RetentionScope
    period: RetentionPeriod
    as_of: date
    basis: Basis
    currency: str
    lapse_after_months: int
    product_line: ProductLine | None
    figures: RetentionFigures
    balances: list[CustomerBalance]  # the period's customers, largest movement first
    objectives: dict[str, ObjectiveCheck]
    plan_name: str | None
    trend: list[TrendPoint]
    breakdown: list[BreakdownRow]
    other_currencies: list[str]
    objective_fit: ObjectiveFit = ObjectiveFit.NO_PLAN  # whether the plan's objectives judge this period
    plan_first_month: date | None = None
    plan_horizon_months: int | None = None

    @property
    def in_progress(self) -> bool:
        return self.as_of < self.period.end

    @property
    def plan_last_month(self) -> date | None:
        if self.plan_first_month is None or self.plan_horizon_months is None:
            return None
        return add_months(self.plan_first_month, self.plan_horizon_months - 1)

    @property
    def has_customers(self) -> bool:
        """Anyone in the period: the cohort, or customers new in it."""
        return bool(self.balances)

    @property
    def trend_has_customers(self) -> bool:
        return any(point.figures.cohort_count or point.figures.new_count for point in self.trend)

    def objective_fit_of(self, period: RetentionPeriod) -> ObjectiveFit:
        """Whether the approved plan's objectives judge ``period`` (one of the trend's, say)."""
        return objective_fit(period, self.plan_first_month, self.plan_horizon_months)


def parse_grain(text: str) -> RetentionGrain:
    value = (text or "month").strip().lower()
    try:
        return RetentionGrain(value)
    except ValueError as error:
        raise ApplicationError(f"{text!r} is not a grain: use month, quarter or year.", field="grain") from error


def _period(grain: RetentionGrain, text: str, today: date, fiscal_year_start_month: int) -> RetentionPeriod:
    month = parse_month(text, field="period") if (text or "").strip() else month_start(today)
    period = retention.period_containing(grain, month, fiscal_year_start_month)
    if period.start > today:
        raise ApplicationError(f"{period.label} has not started yet: pick a period up to {today:%Y-%m}.", field="period")
    return period


def _product_line(raw: str | int | None) -> ProductLine | None:
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    found = ProductLine.objects.filter(pk=int(text)).first() if text.isdigit() and int(text) < 2**63 else None
    if found is None:
        raise NotFound("That product line", field="product_line")
    return found


@dataclass(frozen=True)
class _Unit:
    """One breakdown row's share of the data: contract terms or monthly activity."""

    terms: list[ContractTerm]
    activity: list[MonthActivity]


def _positions(unit: _Unit, basis: Basis, days: Iterable[date], lapse_after_months: int) -> dict[date, retention.Position]:
    if basis == Basis.CONTRACTS:
        return retention.customer_arr_on_days(unit.terms, days)
    return retention.activity_positions_on_days(unit.activity, days, lapse_after_months=lapse_after_months)


class _RowMap:
    """Which breakdown row a seller's figures belong to: each direct report's subtree, the head's own.

    The head is the team's manager, or for the company the one top person with reports. Each active
    direct report always has a row; other top people, people no longer active, the head's own
    customers and contracts without a seller get rows when they have customers in the period."""

    def __init__(self, scope: RetentionScope, viewer_role: Role) -> None:
        self.rows: list[tuple[str, str, str | None]] = []
        self.always: set[str] = set()
        self.subtrees: dict[int, str] = {}
        self.own: dict[int, str] = {}
        self.paths: dict[int, str] = {}
        self._keys: dict[int | None, str] = {}
        self.enabled = scope.kind != "seller" and viewer_role != Role.SELLER
        if not self.enabled:
            return
        people = Person.objects.all() if scope.subtree_path is None else Person.objects.filter(path__startswith=scope.subtree_path)
        self.paths = dict(people.values_list("id", "path"))
        with_reports = Exists(Person.objects.filter(manager_id=OuterRef("pk")))
        head = scope.person if scope.kind == "team" or scope.within_path is not None else None
        tops: list[Person] = []
        if head is None:
            tops = list(Person.objects.filter(manager__isnull=True).annotate(has_reports=with_reports).order_by("path"))
            heads = [top for top in tops if top.has_reports]  # type: ignore[attr-defined]
            head = heads[0] if len(heads) == 1 else None
        if head is not None:
            for report in Person.objects.filter(manager=head).annotate(has_reports=with_reports).order_by("path"):
                key = str(report.pk)
                kind = "team" if report.has_reports else "seller"
                # As on the tracking page: someone no longer active gets a row only while they have
                # customers in the period, and it says they are no longer active.
                label = report.label if report.is_active else f"{report.label} (no longer active)"
                self.rows.append((key, label, f"{kind}:{report.pk}"))
                self.subtrees[report.pk] = key
                if report.is_active:
                    self.always.add(key)
            self.rows.append((f"own:{head.pk}", f"{head.full_name} (own customers)", f"seller:{head.pk}"))
            self.own[head.pk] = f"own:{head.pk}"
        for top in tops:
            if head is not None and top.pk == head.pk:
                continue
            self.rows.append((str(top.pk), top.label, f"team:{top.pk}"))
            self.subtrees[top.pk] = str(top.pk)
        self.rows.append((NO_SELLER_KEY, "No seller", None))
        self.rows.append((OTHER_KEY, "Elsewhere in the organisation", None))

    def key(self, seller_id: int | None) -> str:
        """The row of a seller's figures (asked once per seller; a report has a row of activity per
        customer, seller and month)."""
        found = self._keys.get(seller_id)
        if found is None:
            found = self._keys[seller_id] = self._find(seller_id)
        return found

    def _find(self, seller_id: int | None) -> str:
        if seller_id is None:
            return NO_SELLER_KEY
        if seller_id in self.own:
            return self.own[seller_id]
        for part in self.paths.get(seller_id, "").strip("/").split("/"):
            if part.isdigit() and int(part) in self.subtrees:
                return self.subtrees[int(part)]
        return OTHER_KEY


_CONTRACT_FIELDS = ("id", "customer_id", "seller_id", "starts_on", "ends_on", "billing_period", "amount_minor", "renewed_by__starts_on")


def _contract_units(
    scope: RetentionScope, currency: str, product_line: ProductLine | None, start: date, end: date, rows: _RowMap
) -> tuple[dict[str, _Unit], list[str]]:
    """Contracts that may be in force between ``start`` and ``end``, per breakdown row ("" = all),
    and the other currencies found there.

    Two reads, each through the ``ends_on`` index: contracts running on or after ``start``, and
    contracts that ended before it but are bridged into it by a renewal starting later."""
    contracts = Contract.objects.filter(scope.condition())
    if product_line is not None:
        contracts = contracts.filter(product_line=product_line)
    running = contracts.filter(ends_on__gte=start, starts_on__lte=end)
    bridged = contracts.filter(ends_on__lt=start, renewed_by__starts_on__gt=start, renewed_by__ends_on__gte=start)
    units: dict[str, _Unit] = defaultdict(lambda: _Unit([], []))
    for queryset in (running.filter(currency=currency), bridged.filter(currency=currency)):
        for pk, customer, seller, starts_on, ends_on, billing, amount, renewal_starts_on in queryset.values_list(*_CONTRACT_FIELDS):
            term = ContractTerm(pk, customer, starts_on, ends_on, billing, amount, renewal_starts_on, seller)
            units[""].terms.append(term)
            if rows.enabled:
                units[rows.key(seller)].terms.append(term)
    others = running.exclude(currency=currency).values_list("currency", flat=True).distinct().order_by()
    return units, sorted(others)


class _MonthText(Func):
    """A date's month as ``YYYY-MM`` text, worked out by the database itself: Django's TruncMonth
    calls back into Python for every row on SQLite (3 s of a report over a million lines)."""

    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 7)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM')", **extra)


def _activity_units(
    scope: RetentionScope, currency: str, product_line: ProductLine | None, start: date, end: date, measure: str, rows: _RowMap
) -> tuple[dict[str, _Unit], list[str]]:
    """Result lines from ``start`` to ``end`` per customer, seller and month, per breakdown row ("" = all),
    and the other currencies found there. Grouped in the database: one row per customer, seller and month."""
    subtree = scope.subtree_path
    seller_ids = list(Person.objects.filter(path__startswith=subtree).values_list("id", flat=True)) if subtree is not None else None
    lines = ResultLine.objects.filter(
        scope.condition(seller_ids=seller_ids), occurred_on__gte=start, occurred_on__lte=end, measure__in=(Measure.BOOKED, Measure.INVOICED)
    )
    if product_line is not None:
        lines = lines.filter(product_line=product_line)
    grouped = (
        lines.filter(currency=currency)
        .annotate(month=_MonthText("occurred_on"))
        .values("customer_id", "seller_id", "month")
        .annotate(
            revenue=Sum("amount_minor", filter=Q(measure=measure)),
            purchases=Count("id", filter=Q(amount_minor__gt=0, kind__in=PURCHASE_KINDS)),
        )
        .order_by()
        .values_list("customer_id", "seller_id", "month", "revenue", "purchases")
    )
    units: dict[str, _Unit] = defaultdict(lambda: _Unit([], []))
    everything = units[""].activity
    months: dict[str, date] = {}
    for customer_id, seller_id, month_text, revenue, purchases in grouped:
        month = months.get(month_text)
        if month is None:
            month = months[month_text] = date(int(month_text[:4]), int(month_text[5:7]), 1)
        activity = MonthActivity(customer_id, month, revenue or 0, purchases)
        everything.append(activity)
        if rows.enabled:
            units[rows.key(seller_id)].activity.append(activity)
    others = lines.exclude(currency=currency).values_list("currency", flat=True).distinct().order_by()
    return units, sorted(others)


def retention_report(
    user: Any,
    *,
    scope: str = "",
    grain: str = "month",
    period: str = "",
    product_line: str | int | None = None,
    today: date | None = None,
) -> RetentionReport:
    """GRR, NRR and logo churn for a scope and period, with the customers behind them, the trend
    over the periods before, and (for teams and the company) a breakdown by the org tree."""
    role, _ = _viewer(user)
    today = today or timezone.localdate()
    company = company_get()
    chosen_scope = access_retention_scope(user, scope)
    chosen_grain = parse_grain(grain)
    chosen_period = _period(chosen_grain, period, today, company.fiscal_year_start_month)
    line = _product_line(product_line)
    currency = company.reporting_currency
    lapse = company.lapse_after_months
    basis = Basis.CONTRACTS if Contract.objects.exists() else Basis.ACTIVITY
    periods = retention.periods_ending_with(chosen_period, TREND_PERIODS[chosen_grain], company.fiscal_year_start_month)
    first, as_of = periods[0].baseline, chosen_period.end_as_of(today)
    rows = _RowMap(chosen_scope, role)
    if basis == Basis.CONTRACTS:
        units, other_currencies = _contract_units(chosen_scope, currency, line, first, as_of, rows)
    else:
        widen = max(lapse, retention.TRAILING_REVENUE_MONTHS) - 1
        since = add_months(month_start(first), -widen)
        units, other_currencies = _activity_units(chosen_scope, currency, line, since, as_of, company.actual_measure, rows)
    windows = [(item.baseline, item.end_as_of(today)) for item in periods]
    positions = _positions(units.get("", _Unit([], [])), basis, [day for window in windows for day in window], lapse)
    trend = [
        TrendPoint(item, end, retention.figures_between(positions[baseline], positions[end]))
        for item, (baseline, end) in zip(periods, windows, strict=True)
    ]
    figures = trend[-1].figures  # the chosen period is the trend's last
    balances = retention.balances_between(positions[chosen_period.baseline], positions[as_of])
    breakdown = []
    if rows.enabled:
        for key, label, scope_text in rows.rows:
            unit = units.get(key)
            if unit is None and key not in rows.always:
                continue
            row = _positions(unit or _Unit([], []), basis, windows[-1], lapse)
            row_figures = retention.figures_between(row[chosen_period.baseline], row[as_of])
            if key not in rows.always and not (row_figures.cohort_count or row_figures.new_count):
                continue  # customers in the trend's earlier periods only: nothing to show for this one
            breakdown.append(BreakdownRow(key, label, scope_text, row_figures))
    plan = approved_plan()
    # The plan's objectives are annual rates for the months it covers: they judge a fiscal year the
    # plan covers, provisionally while it is in progress (see retention_objectives).
    fit = objective_fit(chosen_period, plan.start_month if plan else None, plan.horizon_months if plan else None)
    judged = {"applies": fit == ObjectiveFit.APPLIES, "final": as_of >= chosen_period.end}
    objectives = {
        "grr": objective_check(figures.grr, plan.grr_objective_bp if plan else None, higher_is_better=True, **judged),
        "nrr": objective_check(figures.nrr, plan.nrr_objective_bp if plan else None, higher_is_better=True, **judged),
        "logo_churn": objective_check(figures.logo_churn, plan.max_logo_churn_bp if plan else None, higher_is_better=False, **judged),
    }
    return RetentionReport(
        scope=chosen_scope,
        period=chosen_period,
        as_of=as_of,
        basis=basis,
        currency=currency,
        lapse_after_months=lapse,
        product_line=line,
        figures=figures,
        balances=retention.sorted_for_review([balance for balance in balances if balance.category is not None]),
        objectives=objectives,
        plan_name=plan.name if plan else None,
        trend=trend,
        breakdown=breakdown,
        other_currencies=other_currencies,
        objective_fit=fit,
        plan_first_month=plan.start_month if plan else None,
        plan_horizon_months=plan.horizon_months if plan else None,
    )


def filter_balances(balances: Sequence[CustomerBalance], category: str) -> list[CustomerBalance]:
    """The balances of one category (``all``: every one)."""
    if category in ("", "all"):
        return list(balances)
    try:
        wanted = retention.Category(category)
    except ValueError as error:
        raise ApplicationError(
            f"{category!r} is not a category: use all, churned, contracted, expanded, retained or new.", field="show"
        ) from error
    return [balance for balance in balances if balance.category == wanted]


def customer_labels(customer_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Code and name of the customers shown (one query for a page of them)."""
    return {pk: (code, name) for pk, code, name in Customer.objects.filter(pk__in=list(customer_ids)).values_list("id", "code", "name")}

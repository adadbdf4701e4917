"""Plan vs actual for a scope, by rows, over periods — always on behalf of an acting user.

A scope is the company, a team (a manager's subtree), a seller, or a customer (within the user's
own scope). Everything here starts from :func:`equipoise.org.selectors.visible_people`: a scope,
customer or person outside it is :class:`~equipoise.core.errors.NotFound`, exactly as if it did
not exist, on every route (page, partial, export, API).

The plan is the approved top-down plan for the company and the quotas of the current allocation
for a team or seller; actuals come from rollups and result lines (see :mod:`.actuals`). A table
costs a fixed number of queries, whatever the number of result lines.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.utils import timezone

from equipoise.core.errors import ApplicationError, NotFound
from equipoise.core.periods import add_months, month_end, month_start
from equipoise.org.models import Customer, Motion, Person, ProductApplication, ProductLine, Region
from equipoise.org.selectors import company_get
from equipoise.planning.models import PlanVersion
from equipoise.planning.selectors import approved_plan
from equipoise.quotas.models import QuotaAllocation
from equipoise.quotas.selectors import current_allocation
from equipoise.results.models import Measure, ResultLine
from equipoise.tracking import actuals, domain, plans
from equipoise.tracking.actuals import COMPANY, OTHER_KEY, OWN_KEY, SELLER, TEAM, ActualRequest, OrgRow
from equipoise.tracking.dissection import FILTER_DIMENSIONS, ROW_LABELS, Dissection, drill_period, next_rows, widening_notice
from equipoise.tracking.domain import MONTHLY_GRAINS, Figures, Grain, MonthlyPlan, Period, PlanSplit
from equipoise.tracking.navigation import Crumb, drill_cell, drill_row, horizon_view, presets, when_crumbs, where_crumbs
from equipoise.tracking.scopes import (
    Scope,
    access_customer_by_id,
    access_scope,
    home_scope,
    scope_options,
    with_reports_flag,
)
from equipoise.tracking.tables import ChartData, FilterChip, Table, TableRow

__all__ = [
    "CUSTOMER_ROWS_LIMIT",
    "ChartData",
    "Crumb",
    "FilterChip",
    "Scope",
    "Table",
    "TableRow",
    "access_customer_by_id",
    "access_scope",
    "dissect",
    "form_defaults",
    "home_scope",
    "results_exist",
    "scope_options",
]

# Customers are many: a table shows the largest this many, and the rest as one row.
CUSTOMER_ROWS_LIMIT = 50
MOTION_ORDER = [motion.value for motion in Motion]


def results_exist() -> bool:
    return ResultLine.objects.exists()


# --- the table -----------------------------------------------------------------------------------


@dataclass
class _Context:
    """What the table's parts share while it is built."""

    user: Any
    view: Dissection
    scope: Scope
    filters: dict[str, object]
    filter_labels: dict[str, str]
    region_top: dict[int, int]
    region_names: dict[int, str]
    fiscal_year_start_month: int
    plan: PlanVersion | None
    allocation: QuotaAllocation | None


def _regions() -> tuple[dict[int, int], dict[int, str]]:
    """Every region's top-level region (countries roll up to their region), and names."""
    parents: dict[int, int | None] = {}
    names: dict[int, str] = {}
    for pk, parent, name in Region.objects.values_list("id", "parent_id", "name"):
        parents[pk], names[pk] = parent, name
    top: dict[int, int] = {}
    for pk in parents:
        node, seen = pk, set()
        while parents.get(node) is not None and node not in seen:
            seen.add(node)
            node = parents[node]  # type: ignore[assignment]
        top[pk] = node
    return top, names


def _resolve_filters(
    user: Any, view: Dissection, scope: Scope, region_top: Mapping[int, int], region_names: Mapping[int, str]
) -> tuple[dict[str, object], dict[str, str]]:
    filters: dict[str, object] = {}
    labels: dict[str, str] = {}
    for dimension, value in view.filters:
        if dimension == "region":
            assert isinstance(value, int)
            if value not in region_top:
                raise NotFound("That region", field="region")
            if region_top[value] != value:
                top = region_top[value]
                raise ApplicationError(
                    f"{region_names[value]} is a country; tracking groups by region: use {region_names[top]} (region={top}).",
                    field="region",
                )
            labels[dimension] = region_names[value]
        elif dimension == "product_line":
            assert isinstance(value, int)
            name = ProductLine.objects.filter(pk=value).values_list("name", flat=True).first()
            if name is None:
                raise NotFound("That product line", field="product_line")
            labels[dimension] = name
        elif dimension == "product_application":
            assert isinstance(value, int)
            name = ProductApplication.objects.filter(pk=value).values_list("name", flat=True).first()
            if name is None:
                raise NotFound("That product application", field="product_application")
            labels[dimension] = name
        elif dimension == "motion":
            if value not in MOTION_ORDER:
                raise ApplicationError(f"{value!r} is not a motion: use new, renewal or expansion.", field="motion")
            labels[dimension] = str(Motion(str(value)).label)
        elif dimension == "customer":
            if scope.customer is not None:
                continue  # the scope names the customer
            assert isinstance(value, int)
            labels[dimension] = access_customer_by_id(user, value).name
        filters[dimension] = value
    if scope.customer is not None:
        filters["customer"] = scope.customer.pk
        labels["customer"] = scope.customer.name
    return filters, labels


def _default_rows(scope: Scope, filters: Mapping[str, object]) -> str:
    if scope.kind == TEAM:
        return "org"
    if scope.kind == SELLER:
        return next_rows(filtered=filters, has_reports=False, after="org") or "motion"
    return next_rows(filtered=filters, has_reports=True) or "motion"


def _org_rows(scope: Scope) -> tuple[list[OrgRow], dict[str, Person], set[str]]:
    """The org tree's rows: the scope's direct reports (each a subtree), the scope person's own
    results, and for the company the other people at the top. Returns the rows, their people, and
    the keys of rows shown even when empty (the reports)."""
    if scope.kind == TEAM:
        assert scope.person is not None
        head: Person | None = scope.person
        tops: list[Person] = []
    else:
        tops = list(with_reports_flag(Person.objects.filter(manager__isnull=True)).order_by("path"))
        heads = [person for person in tops if person.has_reports]  # type: ignore[attr-defined]
        head = heads[0] if len(heads) == 1 else None
    rows: list[OrgRow] = []
    people: dict[str, Person] = {}
    always: set[str] = set()
    if head is not None:
        for report in with_reports_flag(Person.objects.filter(manager=head)).order_by("path"):
            key = str(report.pk)
            rows.append(OrgRow(key=key, person_id=report.pk, path=report.path, subtree=report.has_reports))
            people[key] = report
            if report.is_active:
                always.add(key)
        rows.append(OrgRow(key=OWN_KEY, person_id=head.pk, path=head.path, subtree=False))
        people[OWN_KEY] = head
    for top in tops:
        if head is not None and top.pk == head.pk:
            continue
        key = str(top.pk)
        rows.append(OrgRow(key=key, person_id=top.pk, path=top.path, subtree=top.has_reports))  # type: ignore[attr-defined]
        people[key] = top
        if head is None:
            always.add(key)
    return rows, people, always


def _range(view: Dissection, as_of: date, fiscal_year_start_month: int, plan: PlanVersion | None) -> tuple[date, date]:
    default_start, default_end = domain.default_range(
        as_of, fiscal_year_start_month, plan.start_month if plan else None, plan.horizon_months if plan else None
    )
    start, end = view.start, view.end
    if start is None and end is None:
        start, end = default_start, default_end
    elif start is None:
        assert end is not None
        start = default_start if default_start <= end else month_start(end)
    elif end is None:
        end = default_end if default_end >= start else month_end(start)
    return domain.align_range(view.grain, start, end)


class _PeriodIndex:
    """Which column a base period (a day or a month's first day) falls in."""

    def __init__(self, columns: Sequence[Period]) -> None:
        self.starts = [column.start for column in columns]
        self.ends = [column.end for column in columns]

    def __call__(self, day: date) -> int | None:
        position = bisect.bisect_right(self.starts, day) - 1
        if position < 0 or day > self.ends[position]:
            return None
        return position


def _per_column(amounts: Mapping[date, int], index: _PeriodIndex, width: int) -> list[int]:
    result = [0] * width
    for day, amount in amounts.items():
        position = index(day)
        if position is not None:
            result[position] += amount
    return result


def _figures_row(
    *,
    actual: Sequence[int],
    plan_months: MonthlyPlan | None,
    columns: Sequence[Period],
    start: date,
    end: date,
    as_of: date,
    currency: str,
) -> tuple[list[Figures], Figures]:
    plans: list[int | None] = list(domain.spread_plan(plan_months, columns)) if plan_months is not None else [None] * len(columns)
    figures = [
        Figures.of(plan_minor=plan, actual_minor=amount, start=column.start, end=column.end, as_of=as_of, currency=currency)
        for column, plan, amount in zip(columns, plans, actual, strict=True)
    ]
    total_plan = None if plan_months is None else sum(plan for plan in plans if plan is not None)
    total = Figures.of(plan_minor=total_plan, actual_minor=sum(actual), start=start, end=end, as_of=as_of, currency=currency)
    return figures, total


def _plan_for(
    ctx: _Context, measure: str, *, start: date, end: date, rows: str, org_rows: Sequence[OrgRow]
) -> tuple[PlanSplit | None, str, str]:
    """The plan split for the table, a sentence saying where it comes from, and a note when absent."""
    scope, plan, allocation = ctx.scope, ctx.plan, ctx.allocation
    if measure == Measure.CHURNED:
        return None, "", "Churn is not planned: the table shows actuals only."
    if plan is not None and not _overlaps_horizon(plan, start, end):
        # A plan of zero would read as a target missed (or beaten): outside its horizon there is none.
        first, last = domain.horizon_range(plan.start_month, plan.horizon_months)
        return None, "", f"The plan “{plan.name}” covers {domain.range_label(first, last)}, not this range: the table shows actuals only."
    if scope.kind == COMPANY:
        if plan is None:
            return None, "", "No top-down plan is approved yet: the table shows actuals only."
        facts = plans.company_plan_facts(plan, start=start, end=end, region_top=ctx.region_top)
        source = f"Plan: the approved top-down plan “{plan.name}”."
        if rows != "org":
            return domain.split_plan(facts, filters=ctx.filters, rows=rows), source, ""
        if allocation is None:
            split = domain.split_plan(facts, filters=ctx.filters, rows=None)
            split.rows_unknown = True
            return split, source, "No quotas yet: teams show no plan."
        people = [row.person_id for row in org_rows if row.key != OWN_KEY]
        row_facts = plans.quota_facts(allocation, person_ids=people, start=start, end=end, region_top=ctx.region_top)
        return domain.split_plan(facts, filters=ctx.filters, rows=rows, row_facts=row_facts), f"{source} Teams: their quotas.", ""
    if allocation is None:
        return None, "", "No quotas yet: the table shows actuals only."
    assert scope.person is not None
    people = [scope.person.pk] + ([row.person_id for row in org_rows if row.key != OWN_KEY] if rows == "org" else [])
    facts = plans.quota_facts(allocation, person_ids=people, start=start, end=end, region_top=ctx.region_top)
    own = [fact for fact in facts if fact.person == scope.person.pk]
    others = [fact for fact in facts if fact.person != scope.person.pk] if rows == "org" else None
    split = domain.split_plan(own, filters=ctx.filters, rows=rows, row_facts=others)
    whose = "the team's quota" if scope.kind == TEAM else "the seller's quota"
    return split, f"Plan: {whose} from “{allocation.plan.name}”.", ""


def _overlaps_horizon(plan: PlanVersion, start: date, end: date) -> bool:
    first, last = domain.horizon_range(plan.start_month, plan.horizon_months)
    return start <= last and first <= end


def _row_plan(split: PlanSplit | None, dimension: str, key: object) -> MonthlyPlan | None:
    if split is None:
        return None
    return split.row(key, dimension)


def _labels(dimension: str, keys: Sequence[Any], ctx: _Context) -> dict[Any, str]:
    if dimension == "region":
        return {key: ctx.region_names.get(key, f"Region {key}") for key in keys}
    if dimension == "motion":
        return {key: str(Motion(key).label) if key in MOTION_ORDER else str(key) for key in keys}
    if dimension == "product_line":
        return dict(ProductLine.objects.filter(pk__in=keys).values_list("id", "name"))
    if dimension == "product_application":
        names: dict[Any, str] = dict(ProductApplication.objects.filter(pk__in=[key for key in keys if key]).values_list("id", "name"))
        return {**names, 0: "No product application"}
    if dimension == "customer":
        return dict(Customer.objects.filter(pk__in=keys).values_list("id", "name"))
    return {}


def _chart(
    *, base: str, start: date, end: date, as_of: date, totals: Mapping[tuple[date, Any], int], plan_months: MonthlyPlan | None
) -> ChartData:
    per_point: dict[date, int] = {}
    per_month: dict[tuple[date, str], int] = {}
    for (point, motion), amount in totals.items():
        per_point[point] = per_point.get(point, 0) + amount
        key = (month_start(point), motion)
        per_month[key] = per_month.get(key, 0) + amount
    if base == actuals.DAY_BASE:
        points = [start + offset * domain.ONE_DAY for offset in range((end - start).days + 1)]
        point_plans = [domain.plan_between(plan_months, day, day) for day in points] if plan_months is not None else None
    else:
        points, cursor = [], month_start(start)
        while cursor <= end:
            points.append(cursor)
            cursor = add_months(cursor, 1)
        point_plans = [domain.month_total(plan_months.get(point, 0)) for point in points] if plan_months is not None else None
    cumulative_actual: list[int | None] = []
    running = 0
    for point in points:
        running += per_point.get(point, 0)
        # Nothing is known of days to come: the actual line stops at today.
        cumulative_actual.append(running if point <= as_of else None)
    if base == actuals.MONTH_BASE:
        points = [min(month_end(point), end) for point in points]
    cumulative_plan = None
    if point_plans is not None:
        cumulative_plan, running = [], 0
        for amount in point_plans:
            running += amount
            cumulative_plan.append(running)
    months, cursor = [], month_start(start)
    while cursor <= end:
        months.append(cursor)
        cursor = add_months(cursor, 1)
    month_plan = (
        [domain.plan_between(plan_months, max(month, start), min(month_end(month), end)) for month in months]
        if plan_months is not None
        else None
    )
    by_motion = {
        motion: [per_month.get((month, motion), 0) for month in months]
        for motion in MOTION_ORDER
        if any(per_month.get((month, motion)) for month in months)
    }
    return ChartData(
        points=points,
        cumulative_plan=cumulative_plan,
        cumulative_actual=cumulative_actual,
        months=months,
        month_plan=month_plan,
        month_actual_by_motion=by_motion,
    )


def dissect(user: Any, view: Dissection, *, today: date | None = None) -> Table:
    """Plan vs actual for ``view`` as ``user`` sees it: rows × periods, totals, drills, crumbs, charts.

    Invariant: rows' actuals sum exactly to the totals (a remainder row — other customers, people
    outside the tree — carries what the rows shown do not), and the periods' figures sum to the
    row's total; so each drill level sums to the cell it came from.
    """
    as_of = today or timezone.localdate()
    company = company_get()
    scope = access_scope(user, view.scope)
    measure = view.measure or company.actual_measure
    if measure not in Measure.values:
        raise ApplicationError(f"{measure!r} is not a measure: use booked, invoiced or churned.", field="measure")
    region_top, region_names = _regions()
    filters, filter_labels = _resolve_filters(user, view, scope, region_top, region_names)
    rows_dimension = view.rows or _default_rows(scope, filters)
    if rows_dimension == "org" and not scope.has_reports:
        raise ApplicationError("A seller has no team to split by: choose other rows, such as customer or motion.", field="rows")

    allocation = current_allocation(user) if scope.kind != COMPANY or rows_dimension == "org" else None
    plan = approved_plan() if scope.kind == COMPANY else (allocation.plan if allocation is not None else None)
    currency = plan.currency if plan is not None else company.reporting_currency
    ctx = _Context(
        user=user,
        view=view,
        scope=scope,
        filters=filters,
        filter_labels=filter_labels,
        region_top=region_top,
        region_names=region_names,
        fiscal_year_start_month=company.fiscal_year_start_month,
        plan=plan,
        allocation=allocation,
    )
    start, end = _range(view, as_of, company.fiscal_year_start_month, plan)
    columns = domain.periods(view.grain, start, end, company.fiscal_year_start_month)
    base = actuals.MONTH_BASE if view.grain in MONTHLY_GRAINS else actuals.DAY_BASE
    canonical = replace(
        view,
        scope=scope.text,
        rows=rows_dimension,
        start=start,
        end=end,
        measure=measure,
        filters=tuple((d, filters[d]) for d in FILTER_DIMENSIONS if d in filters and not (d == "customer" and scope.customer)),
    )
    region_ids = None
    if "region" in filters:
        region_ids = tuple(sorted(pk for pk, top in region_top.items() if top == filters["region"]))
    request = ActualRequest(
        kind=scope.kind,
        person_id=scope.person.pk if scope.person is not None else None,
        person_path=scope.person.path if scope.person is not None else "",
        measure=measure,
        currency=currency,
        start=start,
        end=end,
        base=base,
        region_ids=region_ids,
        product_line=filters.get("product_line"),  # type: ignore[arg-type]
        product_application=filters.get("product_application"),  # type: ignore[arg-type]
        motion=filters.get("motion"),  # type: ignore[arg-type]
        customer=filters.get("customer"),  # type: ignore[arg-type]
    )

    org_rows: list[OrgRow] = []
    org_people: dict[str, Person] = {}
    always_shown: set[str] = set()
    if rows_dimension == "org":
        org_rows, org_people, always_shown = _org_rows(scope)
    split, plan_source, plan_note = _plan_for(ctx, measure, start=start, end=end, rows=rows_dimension, org_rows=org_rows)

    customer_order: list[int] = []
    if rows_dimension in ("org", "customer"):
        totals, _ = actuals.by_dimension(request, None, region_top=region_top)
        if rows_dimension == "org":
            row_cells = actuals.by_org(request, org_rows)
        else:
            named = sorted(split.named_customers) if split is not None and not split.rows_unknown else []
            if request.customer is not None:
                named = [customer for customer in named if customer == request.customer]
            row_cells, customer_order = actuals.by_customer(request, limit=CUSTOMER_ROWS_LIMIT, always=named)
    else:
        totals, row_cells = actuals.by_dimension(request, rows_dimension, region_top=region_top)

    index = _PeriodIndex(columns)
    width = len(columns)
    total_by_period: dict[date, int] = {}
    for (point, _motion), amount in totals.items():
        total_by_period[point] = total_by_period.get(point, 0) + amount
    total_actual = _per_column(total_by_period, index, width)
    per_key = actuals.by_period(row_cells)

    def make_row(key: Any, label: str, plan_months: MonthlyPlan | None, **extra: Any) -> TableRow:
        figures, total = _figures_row(
            actual=_per_column(per_key.get(key, {}), index, width),
            plan_months=plan_months,
            columns=columns,
            start=start,
            end=end,
            as_of=as_of,
            currency=currency,
        )
        return TableRow(key=str(key), label=label, figures=figures, total=total, **extra)

    rows: list[TableRow] = []
    if rows_dimension == "org":
        for org_row in org_rows:
            person = org_people[org_row.key]
            if org_row.key == OWN_KEY:
                row = make_row(OWN_KEY, f"{person.full_name} (own results)", None, kind="own", note="Credited to the manager personally")
            else:
                plan_months = _row_plan(split, "org", person.pk)
                label = f"Team {person.label}" if org_row.subtree else person.full_name
                row = make_row(org_row.key, label, plan_months, drill=drill_row(canonical, scope, filters, "org", person.pk, person))
            if org_row.key in always_shown or row.total.actual_minor or row.total.plan_minor:
                rows.append(row)
    else:
        keys: list[Any]
        if rows_dimension == "customer":
            keys = customer_order
        else:
            keys = list(per_key)
            if split is not None and not split.rows_unknown:
                keys += [key for key in split.rows if key not in per_key]
        labels = _labels(rows_dimension, keys, ctx)
        for key in keys:
            plan_months = _row_plan(split, rows_dimension, key)
            rows.append(
                make_row(key, labels.get(key, str(key)), plan_months, drill=drill_row(canonical, scope, filters, rows_dimension, key))
            )
        if rows_dimension == "motion":
            rows.sort(key=lambda row: MOTION_ORDER.index(row.key) if row.key in MOTION_ORDER else len(MOTION_ORDER))
        elif rows_dimension != "customer":
            rows.sort(key=lambda row: (row.label.casefold(), row.key))

    hidden_rows = 0
    if not view.show_empty_rows:
        # Rows that are zero in every period: leaving them out changes no total.
        shown_rows = [row for row in rows if row.kind != "row" or not row.is_empty]
        hidden_rows, rows = len(rows) - len(shown_rows), shown_rows

    shown = [sum(row.figures[position].actual_minor for row in rows) for position in range(width)]
    remainder = [total - part for total, part in zip(total_actual, shown, strict=True)]
    if any(remainder):
        label = "Other customers" if rows_dimension == "customer" else "Everyone else"
        per_key[OTHER_KEY] = {column.start: amount for column, amount in zip(columns, remainder, strict=True)}
        rows.append(make_row(OTHER_KEY, label, None, kind="other"))

    total_plan = split.total if split is not None else None
    figures, total = _figures_row(
        actual=total_actual, plan_months=total_plan, columns=columns, start=start, end=end, as_of=as_of, currency=currency
    )
    totals_row = TableRow(key="total", label="Total", figures=figures, total=total, kind="total")
    period_drills = [drill_period(canonical, column) for column in columns]
    for row in rows:
        row.cell_drills = [drill_cell(canonical, row.drill, column) for column in columns]
    totals_row.cell_drills = period_drills

    if split is not None and rows_dimension != "org" and (split.rows_unknown or split.unnamed_customers_unknown) and total_plan is not None:
        plan_note = f"The plan does not split by {ROW_LABELS[rows_dimension].lower()}: rows without a plan of their own show “—”."
    elif split is not None and rows_dimension == "org" and split.rows_unknown and not plan_note:
        plan_note = "Quotas do not split by the filters chosen: rows show “—” for plan."

    chips = [
        FilterChip(
            dimension=dimension,
            dimension_label=ROW_LABELS[dimension],
            value_label=filter_labels[dimension],
            remove=canonical.without_filters([d for d, _ in canonical.filters if d != dimension]),
        )
        for dimension, _ in canonical.filters
    ]
    return Table(
        view=canonical,
        scope=scope,
        measure=measure,
        currency=currency,
        as_of=as_of,
        start=start,
        end=end,
        periods=columns,
        period_drills=period_drills,
        rows_dimension=rows_dimension,
        rows=rows,
        totals=totals_row,
        plan_source=plan_source,
        plan_note=plan_note,
        other_currencies=actuals.other_currencies(request),
        where=where_crumbs(user, canonical, scope, filters, filter_labels),
        when=when_crumbs(canonical, start, end, plan=plan, fiscal_year_start_month=company.fiscal_year_start_month),
        filters=chips,
        chart=_chart(base=base, start=start, end=end, as_of=as_of, totals=totals, plan_months=total_plan),
        presets=presets(canonical, as_of, company.fiscal_year_start_month, plan),
        range_notice=widening_notice(view, start, end),
        hidden_rows=hidden_rows,
        plan_horizon_view=horizon_view(canonical, plan) if plan is not None and not _overlaps_horizon(plan, start, end) else None,
    )


def form_defaults(user: Any, scope_text: str) -> tuple[Scope, dict[str, str]]:
    """For a form whose parameters could not make a table: the scope it stands for (the user's own
    when the one asked for is malformed) and the choices a fresh table makes there."""
    try:
        scope = access_scope(user, scope_text)
    except NotFound:
        raise
    except ApplicationError:
        scope = home_scope(user)
    filters = {"customer": scope.customer.pk} if scope.customer is not None else {}
    defaults = {
        "scope": scope.text,
        "rows": _default_rows(scope, filters),
        "grain": Grain.MONTH.value,
        "measure": company_get().actual_measure,
        "show": "actual",
    }
    return scope, defaults

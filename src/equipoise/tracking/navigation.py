"""Where a tracking table leads: drills into rows, periods and cells, the breadcrumbs back up, and
ready-made ranges. Every link is a :class:`~equipoise.tracking.dissection.Dissection`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from equipoise.org.models import Person
from equipoise.org.selectors import person_for_user, user_sees_company
from equipoise.planning.models import PlanVersion
from equipoise.tracking.actuals import SELLER, TEAM
from equipoise.tracking.dissection import FILTER_DIMENSIONS, ROW_LABELS, Dissection, drill_period, next_rows
from equipoise.tracking.domain import (
    FINER_GRAIN,
    Grain,
    Period,
    fiscal_year_to_date,
    horizon_range,
    horizon_to_date,
    period_bounds,
    period_label,
    range_label,
)
from equipoise.tracking.scopes import Scope


@dataclass(frozen=True)
class Crumb:
    label: str
    view: Dissection | None  # None: where the user is now


def drill_row(
    view: Dissection, scope: Scope, filters: Mapping[str, object], dimension: str, key: object, person: Person | None = None
) -> Dissection | None:
    """One level down from a row: into a person's team (or seller), or the next dimension under a filter."""
    filters = dict(filters)
    if dimension == "org":
        if person is None:
            return None
        has_reports = bool(getattr(person, "has_reports", False))
        scope_text = f"{TEAM if has_reports else SELLER}:{person.pk}"
        rows = "org" if has_reports else next_rows(filtered=filters, has_reports=False, after="org")
    else:
        filters[dimension] = key
        scope_text = scope.org_text
        rows = next_rows(filtered=filters, has_reports=scope.has_reports, after=dimension)
    if rows is None:
        return None
    ordered = tuple((d, filters[d]) for d in FILTER_DIMENSIONS if d in filters)
    return replace(view, scope=scope_text, rows=rows, filters=ordered)


def drill_cell(view: Dissection, row_drill: Dissection | None, column: Period) -> Dissection | None:
    """A cell drills its row and its period together (either alone where the other is at the bottom)."""
    finer = FINER_GRAIN.get(column.grain)
    if row_drill is None:
        return drill_period(view, column)
    if finer is None:
        return replace(row_drill, start=column.start, end=column.end)
    return replace(row_drill, grain=finer, start=column.start, end=column.end)


def where_crumbs(user: Any, view: Dissection, scope: Scope, filters: Mapping[str, object], filter_labels: Mapping[str, str]) -> list[Crumb]:
    """Company › region › teams › seller › customer › motion › product: each a link back up to the
    table the next step was chosen from; the last is where the user is."""
    chain: list[tuple[str, str, bool]] = []  # (label, org scope text, has reports)
    sees_company = user_sees_company(user)
    if sees_company:
        chain.append(("Company", "company", True))
    if scope.person is not None:
        # Managers between the user's own place and the scope (for the company: below its top, which
        # the "Company" crumb stands for); none for a seller looking at themselves.
        ancestor_ids = [int(part) for part in scope.person.path.strip("/").split("/")[:-1] if part]
        viewer = person_for_user(user)
        if sees_company:
            ancestor_ids = ancestor_ids[1:]
        elif viewer is not None and viewer.pk in ancestor_ids:
            ancestor_ids = ancestor_ids[ancestor_ids.index(viewer.pk) :]
        else:
            ancestor_ids = []
        if ancestor_ids:
            for ancestor in Person.objects.filter(pk__in=ancestor_ids).order_by("depth"):
                chain.append((f"Team {ancestor.label}", f"team:{ancestor.pk}", True))
        label = f"Team {scope.person.label}" if scope.kind == TEAM else scope.person.full_name
        chain.append((label, scope.org_text, scope.has_reports))
    steps: list[tuple[str, str, str, bool]] = []  # (label, dimension, org scope text, has reports)
    if chain:
        steps.append((chain[0][0], "org", chain[0][1], chain[0][2]))
    if "region" in filters:
        steps.append((f"Region: {filter_labels['region']}", "region", "", False))
    steps += [(label, "org", text, has_reports) for label, text, has_reports in chain[1:]]
    for dimension in ("customer", "motion", "product_line", "product_application"):
        if dimension in filters:
            steps.append((f"{ROW_LABELS[dimension]}: {filter_labels[dimension]}", dimension, "", False))
    crumbs: list[Crumb] = []
    org_text, chosen = "company", {}
    for position, (label, dimension, text, _) in enumerate(steps):
        if dimension == "org":
            org_text = text
        else:
            chosen[dimension] = filters[dimension]
        if position == len(steps) - 1:
            crumbs.append(Crumb(label, None))
            break
        rows = steps[position + 1][1]
        ordered = tuple((d, chosen[d]) for d in FILTER_DIMENSIONS if d in chosen)
        crumbs.append(Crumb(label, replace(view, scope=org_text, rows=rows, filters=ordered)))
    return crumbs


def when_crumbs(view: Dissection, start: date, end: date, *, plan: PlanVersion | None, fiscal_year_start_month: int) -> list[Crumb]:
    """Plan horizon › fiscal year › quarter › month › week: the periods containing the range, each a
    link to that period one grain finer; the last is the range shown."""
    crumbs: list[Crumb] = []
    if plan is not None:
        first, last = horizon_range(plan.start_month, plan.horizon_months)
        if first <= start and end <= last:
            if (first, last) == (start, end):
                return [Crumb("Plan horizon", None)]
            crumbs.append(Crumb("Plan horizon", replace(view, grain=Grain.YEAR, start=first, end=last)))
    for level in (Grain.YEAR, Grain.QUARTER, Grain.MONTH, Grain.WEEK):
        first, last = period_bounds(level, start, fiscal_year_start_month)
        if end > last:
            break
        label = period_label(level, first, last, fiscal_year_start_month)
        if (first, last) == (start, end):
            crumbs.append(Crumb(label, None))
            return crumbs
        crumbs.append(Crumb(label, replace(view, grain=FINER_GRAIN[level], start=first, end=last)))
    crumbs.append(Crumb(range_label(start, end) if start != end else Period(start, end, Grain.DAY, "").title, None))
    return crumbs


def horizon_view(view: Dissection, plan: PlanVersion) -> Dissection:
    """The plan's whole horizon, by quarter."""
    first, last = horizon_range(plan.start_month, plan.horizon_months)
    return replace(view, grain=Grain.QUARTER, start=first, end=last)


def presets(view: Dissection, as_of: date, fiscal_year_start_month: int, plan: PlanVersion | None) -> list[tuple[str, Dissection]]:
    """Ready-made ranges: year to date, horizon to date, the whole horizon, this quarter, this month."""
    year_start, _ = fiscal_year_to_date(as_of, fiscal_year_start_month)
    choices = [("Year to date", replace(view, grain=Grain.MONTH, start=year_start, end=as_of))]
    if plan is not None:
        first, last = horizon_to_date(plan.start_month, plan.horizon_months, as_of)
        choices.append(("Horizon to date", replace(view, grain=Grain.QUARTER, start=first, end=last)))
        choices.append(("Whole horizon", horizon_view(view, plan)))
    first, last = period_bounds(Grain.QUARTER, as_of, fiscal_year_start_month)
    choices.append(("This quarter", replace(view, grain=Grain.MONTH, start=first, end=last)))
    first, last = period_bounds(Grain.MONTH, as_of, fiscal_year_start_month)
    choices.append(("This month", replace(view, grain=Grain.WEEK, start=first, end=last)))
    return choices

"""Actual results for a tracking table, read at O(cells shown).

Where the figures come from (see :class:`~equipoise.results.models.Rollup`):

- the company, with no dimension asked for (totals, motion): :class:`RollupTotal`, node 0, by month
  or day; by a dimension: the company rollups, by month or day (by day, those by region alone or
  by product alone when the request needs only one of them);
- a team, with no dimension asked for: the manager's monthly totals for everyone below them (every
  manager keeps them), or daily totals where the subtree is large; by a dimension, whole months:
  the manager's rollups where the subtree is large (see :mod:`~equipoise.results.rollup_nodes`);
- a person's own credits (a seller, a manager's own, an org row), whole months by motion: their own
  monthly rollup (grain ``O``, dimension columns 0);
- the org tree: each subtree row the same way as a team, each person's own credits as above;
- everything else — a seller's breakdowns and days, a small team's breakdowns and days, anything
  by customer or for one customer — from the result lines, always bounded by an index: (seller, day) for a scope's
  sellers, or (customer, day) for one customer, with the date range on the second column.

No read touches a line outside the scope and the date range. Each function issues a fixed number
of queries, whatever the number of lines; the rows they return are bounded by the cells shown.
Access is the caller's business: these functions read exactly the scope they are given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Abs, TruncMonth

from equipoise.core.periods import month_start
from equipoise.org.models import Person
from equipoise.results.models import COMPANY_NODE, Grain, ResultLine, Rollup, RollupTotal
from equipoise.results.rollup_nodes import large_subtrees

MONTH_BASE = str(Grain.MONTH.value)
DAY_BASE = str(Grain.DAY.value)
OWN_MONTH = str(Grain.OWN_MONTH.value)
COMPANY, TEAM, SELLER = "company", "team", "seller"
# Row codes of the org tree's grouping expression beside person ids (which are positive).
OWN_CODE, OTHER_CODE = 0, -1
OWN_KEY, OTHER_KEY = "own", "other"

DIMENSION_FIELDS = {"region": "region_id", "product_line": "product_line_id", "product_application": "product_application_id"}
PRODUCT_FIELDS = ("product_line_id", "product_application_id")

Cells = dict[tuple[date, Any], int]


@dataclass(frozen=True, slots=True)
class ActualRequest:
    """A resolved scope and range. ``base`` is the period the figures are summed by: whole months
    (``"M"``) or days (``"D"``); a month base needs a range of whole months."""

    kind: str
    person_id: int | None
    person_path: str
    measure: str
    currency: str
    start: date
    end: date
    base: str
    region_ids: tuple[int, ...] | None = None
    product_line: int | None = None
    product_application: int | None = None
    motion: str | None = None
    customer: int | None = None

    @property
    def has_dimension_filter(self) -> bool:
        """Filters that a seller's rollup (by motion only) cannot apply."""
        return self.region_ids is not None or self.product_line is not None or self.product_application is not None


@dataclass(frozen=True, slots=True)
class OrgRow:
    """A row of the org tree: a person's whole subtree, or one person's own credits only."""

    key: str
    person_id: int
    path: str
    subtree: bool


# --- query building ------------------------------------------------------------------------------


def _dimension_q(request: ActualRequest, *, with_dimensions: bool = True) -> Q:
    condition = Q()
    if with_dimensions:
        if request.region_ids is not None:
            condition &= Q(region_id__in=request.region_ids)
        if request.product_line is not None:
            condition &= Q(product_line_id=request.product_line)
        if request.product_application is not None:
            condition &= Q(product_application_id=request.product_application)
    if request.motion is not None:
        condition &= Q(motion=request.motion)
    return condition


def _rollups(request: ActualRequest, grain: str) -> QuerySet[Rollup]:
    monthly = grain in (MONTH_BASE, OWN_MONTH)
    first, last = (month_start(request.start), month_start(request.end)) if monthly else (request.start, request.end)
    return Rollup.objects.filter(grain=grain, measure=request.measure, currency=request.currency, period__gte=first, period__lte=last)


def _totals(request: ActualRequest, grain: str) -> QuerySet[RollupTotal]:
    """Sums over every dimension for managers' subtrees and the company (see RollupTotal)."""
    first, last = (month_start(request.start), month_start(request.end)) if grain == MONTH_BASE else (request.start, request.end)
    totals = RollupTotal.objects.filter(grain=grain, measure=request.measure, currency=request.currency)
    return totals.filter(_dimension_q(request, with_dimensions=False), period__gte=first, period__lte=last)


def _scope_sellers(request: ActualRequest) -> Q:
    """The scope's sellers as a condition on lines' leading index column. For the company it still
    names every person: that lets the (seller, day) index bound the read to the date range."""
    if request.kind == SELLER:
        return Q(seller_id=request.person_id)
    if request.kind == TEAM:
        return Q(seller_id__in=Person.objects.filter(path__startswith=request.person_path).values("id"))
    return Q(seller_id__in=Person.objects.values("id"))


def _lines(request: ActualRequest, *, sellers: Sequence[int] | None = None) -> QuerySet[ResultLine]:
    lines = ResultLine.objects.filter(
        measure=request.measure, currency=request.currency, occurred_on__gte=request.start, occurred_on__lte=request.end
    )
    if request.customer is not None:
        lines = lines.filter(customer_id=request.customer)
    if sellers is not None:
        lines = lines.filter(seller_id__in=list(sellers))
    elif request.customer is None or request.kind != COMPANY:
        # One customer's lines in the company come by the (customer, day) index alone.
        lines = lines.filter(_scope_sellers(request))
    return lines.filter(_dimension_q(request))


def _line_period(request: ActualRequest) -> Any:
    return TruncMonth("occurred_on") if request.base == MONTH_BASE else F("occurred_on")


def _grouped(queryset: QuerySet[Any], period: Any, fields: Sequence[str | tuple[str, Any]]) -> list[tuple[Any, ...]]:
    """(period, *fields, amount) rows of ``queryset`` summed in the database."""
    names = ["bucket_period"]
    expressions: dict[str, Any] = {"bucket_period": period}
    for item in fields:
        if isinstance(item, tuple):
            name, expression = item
            expressions[name] = expression
            names.append(name)
        else:
            names.append(item)
    rows = queryset.annotate(**expressions).values(*names).annotate(amount=Sum("amount_minor")).order_by().values_list(*names, "amount")
    return [tuple(row) for row in rows]


def _add(cells: Cells, key: tuple[date, Any], amount: int | None) -> None:
    if amount:
        cells[key] = cells.get(key, 0) + amount


# --- reads ---------------------------------------------------------------------------------------


def _dimension_sources(request: ActualRequest, field: str | None) -> list[tuple[QuerySet[Any], Any]]:
    """The reads that together give the scope's figures by period, motion and (optionally) ``field``."""
    needs_dimensions = field is not None or request.has_dimension_filter
    if request.customer is not None:
        return [(_lines(request), _line_period(request))]
    if request.kind == COMPANY:
        if not needs_dimensions:
            return [(_totals(request, request.base).filter(node_id=COMPANY_NODE), F("period"))]
        company = _rollups(request, request.base).filter(_dimension_q(request), node_id=COMPANY_NODE)
        return [(company.filter(_company_rows(request, field)), F("period"))]
    if request.kind == TEAM:
        assert request.person_id is not None
        # Everyone below from the totals or rollups the subtree keeps (see rollup_nodes), else from
        # their lines; the manager's own credits from their own rollup or their lines.
        own = _own(request)
        large = request.person_id in large_subtrees([(request.person_id, request.person_path)])
        if not needs_dimensions and (request.base == MONTH_BASE or large):
            return [(_totals(request, request.base).filter(node_id=request.person_id), F("period")), own]
        if large and request.base == MONTH_BASE:
            below = _rollups(request, MONTH_BASE).filter(_dimension_q(request), node_id=request.person_id)
            return [(below, F("period")), own]
    elif request.base == MONTH_BASE and not needs_dimensions:
        return [_own(request)]
    return [(_lines(request), _line_period(request))]


def _company_rows(request: ActualRequest, field: str | None) -> Q:
    """Which of the company's rollups answer: by day, the rows by region alone (product columns
    0) or by product alone (region 0) when the request asks for nothing else; otherwise, and by
    month, the rows by every dimension."""
    if request.base == DAY_BASE:
        products = request.product_line is not None or request.product_application is not None or field in PRODUCT_FIELDS
        regions = request.region_ids is not None or field == "region_id"
        if not products:
            return Q(region_id__gt=0, product_line_id=0)
        if not regions:
            return Q(region_id=0)
    return Q(region_id__gt=0, product_line_id__gt=0)


def _own(request: ActualRequest) -> tuple[QuerySet[Any], Any]:
    """The scope's person's own credits: whole months by motion from their own rollup (dimension
    columns 0), anything finer from their lines."""
    assert request.person_id is not None
    if request.base == MONTH_BASE and not request.has_dimension_filter:
        return (_rollups(request, OWN_MONTH).filter(_dimension_q(request), node_id=request.person_id), F("period"))
    return (_lines(request, sellers=[request.person_id]), _line_period(request))


def by_dimension(request: ActualRequest, dimension: str | None, *, region_top: Mapping[int, int]) -> tuple[Cells, Cells]:
    """Totals by (period, motion), and rows by (period, value of ``dimension``), from the same reads.

    ``dimension``: None (totals only), ``motion``, ``region`` (grouped to top-level regions through
    ``region_top``), ``product_line`` or ``product_application`` (0: none)."""
    field = DIMENSION_FIELDS.get(dimension or "")
    totals: Cells = {}
    rows: Cells = {}
    for queryset, period in _dimension_sources(request, field):
        for row in _grouped(queryset, period, ["motion", field] if field else ["motion"]):
            bucket_period, motion, amount = row[0], row[1], row[-1]
            _add(totals, (bucket_period, motion), amount)
            if dimension == "motion":
                _add(rows, (bucket_period, motion), amount)
            elif field is not None:
                value = row[2] or 0
                if dimension == "region":
                    value = region_top.get(value, value)
                _add(rows, (bucket_period, value), amount)
    return totals, rows


def by_org(request: ActualRequest, org_rows: Sequence[OrgRow]) -> Cells:
    """Figures by (period, org row key). Lines outside every row are under ``OTHER_KEY``.

    A subtree row reads its manager's totals or rollups where the subtree keeps what the request
    needs (see rollup_nodes); every other row — a person's own credits, a small subtree by day
    or by dimension, anything for one customer — is read from the lines in one grouped query."""
    cells: Cells = {}
    node_to_key = {row.person_id: row.key for row in org_rows}
    subtrees = [row for row in org_rows if row.subtree]
    large = large_subtrees((row.person_id, row.path) for row in subtrees) if request.customer is None else set()
    rolled: list[int] = []
    source: QuerySet[Any] | None = None
    if request.customer is None:
        if not request.has_dimension_filter and request.base == MONTH_BASE:
            rolled = [row.person_id for row in subtrees]  # every manager keeps monthly totals
            source = _totals(request, MONTH_BASE)
        elif not request.has_dimension_filter:
            rolled = [row.person_id for row in subtrees if row.person_id in large]
            source = _totals(request, DAY_BASE)
        elif request.base == MONTH_BASE:
            rolled = [row.person_id for row in subtrees if row.person_id in large]
            source = _rollups(request, MONTH_BASE).filter(_dimension_q(request))
    if rolled and source is not None:
        for bucket_period, node, amount in _grouped(source.filter(node_id__in=rolled), F("period"), ["node_id"]):
            _add(cells, (bucket_period, node_to_key.get(node, OTHER_KEY)), amount)
    from_lines = [row for row in org_rows if row.person_id not in rolled]
    if request.customer is not None:
        # One customer's lines, by the (customer, day) index, sorted into rows in the database.
        whens = [When(seller_id=row.person_id, then=Value(_code(row))) for row in from_lines if not row.subtree]
        whens += [When(seller__path__startswith=row.path, then=Value(_code(row))) for row in from_lines if row.subtree]
        code_to_key = {_code(row): row.key for row in from_lines} | {OTHER_CODE: OTHER_KEY}
        grouping = Case(*whens, default=Value(OTHER_CODE), output_field=IntegerField())
        for bucket_period, code, amount in _grouped(_lines(request), _line_period(request), [("org_row", grouping)]):
            _add(cells, (bucket_period, code_to_key[code]), amount)
        return cells
    # People's own credits (a rolled-up subtree's manager's too: totals hold only who is below):
    # whole months by motion from their own rollups.
    own_of: dict[int, str] = {row.person_id: row.key for row in org_rows if not row.subtree or row.person_id in rolled}
    if request.base == MONTH_BASE and not request.has_dimension_filter:
        own = _rollups(request, OWN_MONTH).filter(_dimension_q(request), node_id__in=sorted(own_of))
        for bucket_period, node, amount in _grouped(own, F("period"), ["node_id"]):
            _add(cells, (bucket_period, own_of[node]), amount)
        own_of = {}
    # The rest, and small subtrees: their sellers' lines, by the (seller, day) index.
    row_of = own_of
    small = [row for row in from_lines if row.subtree]
    if small:
        under = Q()
        for row in small:
            under |= Q(path__startswith=row.path)
        for person_id, path in Person.objects.filter(under).values_list("id", "path"):
            row_of[person_id] = next(row.key for row in small if path.startswith(row.path))
    if row_of:
        lines = _lines(request, sellers=sorted(row_of))
        for bucket_period, seller, amount in _grouped(lines, _line_period(request), ["seller_id"]):
            _add(cells, (bucket_period, row_of[seller]), amount)
    return cells


def _code(row: OrgRow) -> int:
    return OWN_CODE if row.key == OWN_KEY else row.person_id


def by_customer(request: ActualRequest, *, limit: int, always: Iterable[int] = ()) -> tuple[Cells, list[int]]:
    """Figures by (period, customer id) for the ``limit`` customers with the largest absolute
    actual in the range (and those in ``always``: named in the plan), biggest first."""
    lines = _lines(request)
    ranked = (
        lines.values("customer_id")
        .annotate(total=Sum("amount_minor"))
        .annotate(size=Abs(Sum("amount_minor")))
        .order_by("-size", "customer_id")
        .values_list("customer_id", flat=True)[:limit]
    )
    order = list(ranked)
    wanted = set(order) | set(always)
    cells: Cells = {}
    if wanted:
        for bucket_period, customer_id, amount in _grouped(
            lines.filter(customer_id__in=sorted(wanted)), _line_period(request), ["customer_id"]
        ):
            _add(cells, (bucket_period, customer_id), amount)
    order += sorted(set(always) - set(order))
    return cells, order


def other_currencies(request: ActualRequest) -> list[str]:
    """Currencies of the scope's results in the range other than the one compared with the plan."""
    found: set[str] = set()
    if request.kind != SELLER:
        node = COMPANY_NODE if request.kind == COMPANY or request.person_id is None else request.person_id
        totals = RollupTotal.objects.filter(
            grain=MONTH_BASE,
            node_id=node,
            measure=request.measure,
            period__gte=month_start(request.start),
            period__lte=month_start(request.end),
        )
        found.update(totals.exclude(currency=request.currency).values_list("currency", flat=True).distinct().order_by())
    if request.person_id is not None and request.kind != COMPANY:
        # The person's own credits (a seller's all): not in any subtree's totals.
        own = ResultLine.objects.filter(
            seller_id=request.person_id, measure=request.measure, occurred_on__gte=request.start, occurred_on__lte=request.end
        )
        found.update(own.exclude(currency=request.currency).values_list("currency", flat=True).distinct().order_by())
    return sorted(found)[:5]


def by_period(cells: Mapping[tuple[date, Any], int]) -> dict[Any, dict[date, int]]:
    """{key: {period: amount}} from {(period, key): amount}."""
    result: dict[Any, dict[date, int]] = defaultdict(dict)
    for (bucket_period, key), amount in cells.items():
        result[key][bucket_period] = result[key].get(bucket_period, 0) + amount
    return result

"""Writes to quotas: allocate an approved plan, adjust by hand with a reason, lock; commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from equipoise.core.access import PLAN_APPROVER_ROLES, Role
from equipoise.core.audit import stamp
from equipoise.core.errors import AccessDenied, ApplicationError
from equipoise.core.money import allocate_minor, validate_currency
from equipoise.core.periods import add_months, month_end, month_range, month_start
from equipoise.org.models import Motion, Person, Region, Territory
from equipoise.org.selectors import access_person_by_id, person_for_user, sales_head, user_role
from equipoise.planning import domain as planning_domain
from equipoise.planning import history
from equipoise.planning.models import PlanBucket, PlanState, PlanVersion
from equipoise.planning.services import require_role
from equipoise.quotas import domain
from equipoise.quotas.models import AllocationMethod, AllocationState, Commit, Quota, QuotaAdjustment, QuotaAllocation


def _org_tree(root: Person) -> tuple[domain.Tree, dict[int, Person]]:
    people = {p.pk: p for p in Person.objects.filter(path__startswith=root.path, is_active=True).order_by("path")}
    children: dict[int, list[int]] = defaultdict(list)
    for person in people.values():
        if person.pk != root.pk and person.manager_id in people:
            children[person.manager_id].append(person.pk)
    depth = {pk: person.depth - root.depth for pk, person in people.items()}
    return domain.Tree(root_id=root.pk, children=dict(children), depth=depth), people


def _territory_matches(territory: Territory, bucket: PlanBucket, region_parent: Mapping[int, int | None]) -> bool:
    if bucket.customer_id is not None or territory.customer_id is not None:
        return bucket.customer_id == territory.customer_id
    if territory.region_id is not None and bucket.region_id is not None:
        same = territory.region_id == bucket.region_id
        territory_inside = region_parent.get(territory.region_id) == bucket.region_id
        bucket_inside = region_parent.get(bucket.region_id) == territory.region_id
        if not (same or territory_inside or bucket_inside):
            return False
    if territory.product_line_id is not None and bucket.product_line_id is not None:
        return territory.product_line_id == bucket.product_line_id
    return True


MIN_HISTORY_MONTHS = 6
HISTORY_MONTHS = 24


def _base_weights(method: str, bucket: PlanBucket, seller_ids: Iterable[int], territories: Sequence[Territory]) -> dict[int, int]:
    """Each eligible seller's weight before ramp: 1 (equal), bucket history, or territory potential.

    Under history, a seller without enough history in the bucket (a new hire, a new territory) is
    weighted at the bucket's average, so ramp, not an accident of data, decides how little they carry.
    """
    seller_ids = list(seller_ids)
    if method == AllocationMethod.EQUAL:
        return dict.fromkeys(seller_ids, 1)
    if method == AllocationMethod.POTENTIAL:
        potentials: dict[int, int] = defaultdict(int)
        for territory in territories:
            potentials[territory.seller_id] += territory.potential_minor
        return {seller: potentials.get(seller, 0) for seller in seller_ids}
    # Weight by revenue per month of history, not the total: a seller with a short history
    # (hired recently) is not punished for the months before they joined. A seller with fewer
    # than MIN_HISTORY_MONTHS months counts as the bucket's average.
    # The 24 months before the plan: a re-allocation during the plan must not learn from the plan's own months.
    plan_start = bucket.plan.start_month
    monthly = history.seller_monthly_averages(
        condition=history.bucket_filter(bucket), start=add_months(plan_start, -HISTORY_MONTHS), end=add_months(plan_start, -1)
    )
    known = {seller: average for seller, (average, months) in monthly.items() if months >= MIN_HISTORY_MONTHS and average > 0}
    known = {seller: average for seller, average in known.items() if seller in set(seller_ids)}
    if not known:
        return dict.fromkeys(seller_ids, 1)
    typical = sum(known.values()) // len(known) or 1
    return {seller: known.get(seller, typical) for seller in seller_ids}


def _seller_month_weights(
    *,
    method: str,
    bucket: PlanBucket,
    months: Sequence[date],
    people: dict[int, Person],
    territories_by_seller: dict[int, list[Territory]],
    region_parent: Mapping[int, int | None],
    ramp_bp: Sequence[int],
) -> dict[int, list[int]]:
    covering: dict[int, list[Territory]] = {}
    for seller_id, territories in territories_by_seller.items():
        matching = [t for t in territories if _territory_matches(t, bucket, region_parent)]
        if matching:
            covering[seller_id] = matching
    base = _base_weights(method, bucket, covering, [t for ts in covering.values() for t in ts])
    month_ends = [month_end(month) for month in months]
    weights: dict[int, list[int]] = {}
    for seller_id, matching in covering.items():
        factors = _availability(people[seller_id].hire_date, tuple((t.starts_on, t.ends_on) for t in matching), months, month_ends, ramp_bp)
        row = [base[seller_id] * factor for factor in factors]
        if any(row):
            weights[seller_id] = row
    return weights


def _availability(
    hire_date: date | None,
    spans: tuple[tuple[date, date | None], ...],
    months: Sequence[date],
    month_ends: Sequence[date],
    ramp_bp: Sequence[int],
) -> list[int]:
    """Per month, the share of a full quota (bp) a seller can carry: ramp, and zero outside their territories."""
    return [
        domain.ramp_bp_for(hire_date, month, ramp_bp)
        if any(start <= end_of_month and (end is None or end >= month) for start, end in spans)
        else 0
        for month, end_of_month in zip(months, month_ends, strict=True)
    ]


@transaction.atomic
def quota_allocate(
    *,
    actor: Any,
    plan: PlanVersion,
    method: str = AllocationMethod.EQUAL,
    cushion_bp_by_level: Sequence[int] = (),
    ramp_bp: Sequence[int] = (),
    root: Person | None = None,
    reason: str = "",
) -> QuotaAllocation:
    """Allocate an approved plan down the org tree, per bucket and month, replacing a draft allocation.

    Invariant: at every level and month, a person's reports' quotas sum exactly to the person's
    quota plus that level's cushion; the root's quotas equal the plan's months.
    """
    require_role(actor, PLAN_APPROVER_ROLES, "allocate quotas")
    plan = PlanVersion.objects.select_for_update().get(pk=plan.pk)
    if plan.state != PlanState.APPROVED:
        raise ApplicationError(
            f"“{plan.name}” is {plan.get_state_display().lower()}: only an approved plan can be allocated.", field="plan"
        )
    if method not in AllocationMethod.values:
        raise ApplicationError(f"{method!r} is not an allocation method; use equal, history or potential.", field="method")
    ramp = domain.validate_ramp(list(ramp_bp), plan.horizon_months)
    cushions = domain.validate_cushions(list(cushion_bp_by_level))
    existing = QuotaAllocation.objects.filter(plan=plan).first()
    if existing is not None and existing.state != AllocationState.DRAFT:
        raise ApplicationError("Quotas for this plan are locked; revise the plan to allocate again.", field="state")
    root = root or sales_head()
    tree, people = _org_tree(root)
    months = month_range(plan.start_month, plan.horizon_months)
    territories_by_seller: dict[int, list[Territory]] = defaultdict(list)
    quota_sellers = {pk for pk, person in people.items() if person.carries_quota and not tree.children.get(pk)}
    for territory in Territory.objects.filter(seller_id__in=quota_sellers):
        territories_by_seller[territory.seller_id].append(territory)
    region_parent = dict(Region.objects.values_list("id", "parent_id"))
    plan_months: dict[int, dict[date, int]] = defaultdict(dict)
    for bucket_id, month, amount in plan.months.values_list("bucket_id", "month", "amount_minor"):
        plan_months[bucket_id][month] = amount

    if existing is not None:
        existing.quotas.all().delete()
        existing.adjustments.all().delete()
        allocation = existing
        allocation.method, allocation.cushion_bp_by_level, allocation.ramp_bp, allocation.root = method, cushions, ramp, root
    else:
        allocation = QuotaAllocation(plan=plan, root=root, method=method, cushion_bp_by_level=cushions, ramp_bp=ramp)
    allocation.created_by = actor if getattr(actor, "is_authenticated", False) else None
    stamp(allocation, actor=actor, reason=reason or f"allocated by {AllocationMethod(method).label.lower()}")
    allocation.save()

    rows: list[tuple[int, int, int, date, int]] = []
    for bucket in plan.buckets.all():
        weights = _seller_month_weights(
            method=method,
            bucket=bucket,
            months=months,
            people=people,
            territories_by_seller=territories_by_seller,
            region_parent=region_parent,
            ramp_bp=ramp,
        )
        amounts = domain.allocate_tree(
            tree=tree,
            month_amounts=[plan_months[bucket.pk].get(month, 0) for month in months],
            seller_weights=weights,
            cushion_bp_by_level=cushions,
            currency=plan.currency,
            bucket_label=bucket.label,
        )
        for person_id, per_month in amounts.items():
            rows.extend((allocation.pk, person_id, bucket.pk, month, amount) for month, amount in zip(months, per_month, strict=True))
    _insert_quotas(rows)
    return allocation


def _insert_quotas(rows: list[tuple[int, int, int, date, int]]) -> None:
    """Bulk insert quota rows without building a model instance per row.

    An allocation writes hundreds of thousands of rows; model instances would dominate its run
    time. PostgreSQL gets COPY, SQLite a single prepared executemany inside the transaction.
    """
    table = Quota._meta.db_table
    columns = "allocation_id, person_id, bucket_id, month, amount_minor"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw_cursor = cursor.cursor
            with raw_cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # ISO strings skip the driver's per-value date adapter; sorted rows fill the index in order.
            rows.sort()
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s)",
                [(allocation, person, bucket, month.isoformat(), amount) for allocation, person, bucket, month, amount in rows],
            )


def allocations_archive_for_plan(*, plan: PlanVersion) -> None:
    QuotaAllocation.objects.filter(plan=plan).exclude(state=AllocationState.ARCHIVED).update(state=AllocationState.ARCHIVED)


@transaction.atomic
def allocation_lock(*, actor: Any, allocation: QuotaAllocation, reason: str = "") -> QuotaAllocation:
    require_role(actor, PLAN_APPROVER_ROLES, "lock quotas")
    allocation = QuotaAllocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.state != AllocationState.DRAFT:
        raise ApplicationError("These quotas are already locked.", field="state")
    allocation.state = AllocationState.LOCKED
    allocation.locked_at = timezone.now()
    stamp(allocation, actor=actor, reason=reason or "locked")
    allocation.save()
    return allocation


@transaction.atomic
def quota_adjust(
    *, actor: Any, allocation: QuotaAllocation, person: Person, bucket: PlanBucket, month: date, amount_minor: int, reason: str
) -> Quota:
    """Set one person's quota by hand. Their peers absorb the difference in proportion to their
    quotas (so the manager's total is unchanged), and the person's own reports are re-split in
    proportion, keeping every level reconciled. The reason is mandatory and recorded."""
    require_role(actor, PLAN_APPROVER_ROLES, "adjust quotas")
    if not reason.strip():
        raise ApplicationError("Say why this quota is set by hand: a reason is required.", field="reason")
    allocation = QuotaAllocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.state != AllocationState.DRAFT:
        raise ApplicationError("These quotas are locked and cannot be adjusted.", field="state")
    month = month_start(month)
    if person.pk == allocation.root_id:
        raise ApplicationError("The root's quota is the plan itself; revise the plan to change it.", field="person")
    rows = Quota.objects.filter(allocation=allocation, bucket=bucket, month=month)
    target = rows.filter(person=person).first()
    if target is None:
        raise ApplicationError(f"{person} has no quota in {bucket.label} for {month:%b %Y}.", field="person")
    peers = list(rows.filter(person__manager_id=person.manager_id).select_related("person").order_by("person_id"))
    index = next(i for i, quota in enumerate(peers) if quota.person_id == person.pk)
    new_amounts = domain.redistribute(amounts=[q.amount_minor for q in peers], index=index, new_amount=amount_minor)
    old_amount = target.amount_minor
    changed = []
    for quota, new_amount in zip(peers, new_amounts, strict=True):
        if quota.amount_minor != new_amount:
            quota.amount_minor = new_amount
            changed.append(quota)
    Quota.objects.bulk_update(changed, ["amount_minor"])
    for quota in changed:
        _resplit_reports(allocation=allocation, person_id=quota.person_id, bucket_id=bucket.pk)
    QuotaAdjustment.objects.create(
        allocation=allocation,
        person=person,
        bucket=bucket,
        month=month,
        old_amount_minor=old_amount,
        new_amount_minor=amount_minor,
        reason=reason.strip(),
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    target.refresh_from_db()
    return target


def _resplit_reports(*, allocation: QuotaAllocation, person_id: int, bucket_id: int) -> None:
    """After a person's quota changed, re-split it among their reports in proportion to what they
    held, month by month, wherever the reports no longer add up to it plus cushion; recursively."""
    own = dict(Quota.objects.filter(allocation=allocation, bucket_id=bucket_id, person_id=person_id).values_list("month", "amount_minor"))
    reports = list(
        Quota.objects.filter(allocation=allocation, bucket_id=bucket_id, person__manager_id=person_id).order_by("month", "person_id")
    )
    if not reports:
        return
    months = sorted(own)
    level = Person.objects.get(pk=person_id).depth - allocation.root.depth
    cushions = allocation.cushion_bp_by_level
    targets = domain.cushioned_months([own[m] for m in months], cushions[level] if level < len(cushions) else 0, allocation.plan.currency)
    by_month: dict[date, list[Quota]] = defaultdict(list)
    for quota in reports:
        by_month[quota.month].append(quota)
    changed: list[Quota] = []
    for month, target in zip(months, targets, strict=True):
        cell = by_month.get(month, [])
        if cell and sum(q.amount_minor for q in cell) != target:
            for quota, part in zip(cell, allocate_minor(target, [q.amount_minor for q in cell]), strict=True):
                if quota.amount_minor != part:
                    quota.amount_minor = part
                    changed.append(quota)
    Quota.objects.bulk_update(changed, ["amount_minor"])
    for report_id in sorted({quota.person_id for quota in changed}):
        _resplit_reports(allocation=allocation, person_id=report_id, bucket_id=bucket_id)


@transaction.atomic
def commit_upsert(*, actor: Any, person_id: int, month: date, motion: str, amount_minor: int, currency: str, note: str = "") -> Commit:
    """Enter or change a bottom-up commit. Sellers commit for themselves; managers for anyone in
    their subtree (themselves included); company-wide roles for anyone."""
    role = user_role(actor)
    if role is None:
        raise AccessDenied("Sign in to enter commits.")
    if role == Role.FINANCE:
        raise AccessDenied("Finance reviews commits but does not enter them.")
    person = access_person_by_id(actor, person_id)
    if role == Role.SELLER and person != person_for_user(actor):
        raise AccessDenied("Sellers enter their own commits only.")
    if motion not in Motion.values:
        raise ApplicationError(f"{motion!r} is not a motion; use new, renewal or expansion.", field="motion")
    currency = validate_currency(currency)
    planning_domain.validate_amount(amount_minor, currency=currency, field="amount", what="A commit")
    month = month_start(month)
    values = {
        "amount_minor": amount_minor,
        "currency": currency,
        "note": note.strip()[:500],
        "entered_by": actor if getattr(actor, "is_authenticated", False) else None,
    }
    reason = note.strip() or "commit entered"
    commit = Commit.objects.select_for_update().filter(person=person, month=month, motion=motion).first()
    if commit is None:
        try:
            with transaction.atomic():
                commit = Commit(person=person, month=month, motion=motion, **values)
                stamp(commit, actor=actor, reason=reason)
                commit.save()
                return commit
        except IntegrityError:
            # Two first commits for the same cell at once: the loser updates the winner's row.
            commit = Commit.objects.select_for_update().get(person=person, month=month, motion=motion)
    for field, value in values.items():
        setattr(commit, field, value)
    stamp(commit, actor=actor, reason=reason)
    commit.save()
    return commit

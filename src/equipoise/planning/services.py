"""Writes to plans: create, shape buckets and months, approve, revise. Every write is audited.

Approved and archived versions are read-only: every service here refuses them, and "revise"
copies one into a new draft.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from equipoise.core.access import PLAN_APPROVER_ROLES, PLAN_EDITOR_ROLES, Role
from equipoise.core.audit import bulk_create_audited, bulk_update_audited, stamp
from equipoise.core.errors import AccessDenied, ApplicationError
from equipoise.core.money import Money, validate_currency
from equipoise.core.periods import month_range, month_start
from equipoise.org.models import Customer, Motion, ProductApplication, ProductLine, Region
from equipoise.org.selectors import user_role
from equipoise.planning import domain
from equipoise.planning.models import (
    PlanBucket,
    PlanKind,
    PlanMonth,
    PlanState,
    PlanVersion,
    SeasonalityKind,
    SeasonalityProfile,
    TargetKind,
)


def require_role(actor: Any, roles: frozenset[Role], action: str) -> None:
    if user_role(actor) not in roles:
        raise AccessDenied(f"Your role may not {action}.")


def _require_draft(plan: PlanVersion) -> None:
    if plan.state != PlanState.DRAFT:
        raise ApplicationError(
            f"“{plan.name}” is {plan.get_state_display().lower()} and read-only: revise it to make a new draft.", field="state"
        )


def _validate_bp(value: int | None, field: str, *, maximum: int = 100_000) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= maximum:
        raise ApplicationError(f"{value / 100:.2f}% is outside 0% to {maximum / 100:.0f}%.", field=field)
    return value


@transaction.atomic
def plan_create(
    *,
    actor: Any,
    name: str,
    kind: str = PlanKind.TOP_DOWN,
    start_month: date,
    horizon_months: int = 24,
    currency: str = "EUR",
    total_target_minor: int = 0,
    grr_objective_bp: int | None = None,
    nrr_objective_bp: int | None = None,
    max_logo_churn_bp: int | None = None,
    seasonality: SeasonalityProfile | None = None,
    growth_bp_per_month: int = 0,
    notes: str = "",
) -> PlanVersion:
    """Create a draft plan version (no buckets yet)."""
    require_role(actor, PLAN_EDITOR_ROLES, "create plans")
    if not name.strip():
        raise ApplicationError("Give the plan a name.", field="name")
    if kind not in PlanKind.values:
        raise ApplicationError(f"{kind!r} is not a plan kind; use one of {', '.join(PlanKind.values)}.", field="kind")
    domain.validate_horizon(horizon_months)
    currency = validate_currency(currency)
    domain.validate_amount(total_target_minor, currency=currency, field="total_target", what="The total target")
    _validate_growth(growth_bp_per_month)
    plan = PlanVersion(
        name=name.strip(),
        kind=kind,
        start_month=month_start(start_month),
        horizon_months=horizon_months,
        currency=currency,
        total_target_minor=total_target_minor,
        grr_objective_bp=_validate_bp(grr_objective_bp, "grr_objective", maximum=10_000),
        nrr_objective_bp=_validate_bp(nrr_objective_bp, "nrr_objective", maximum=1_000_000),
        max_logo_churn_bp=_validate_bp(max_logo_churn_bp, "max_logo_churn", maximum=10_000),
        seasonality=seasonality,
        growth_bp_per_month=growth_bp_per_month,
        notes=notes,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    stamp(plan, actor=actor, reason="created")
    plan.save()
    return plan


def _validate_growth(growth_bp_per_month: int) -> None:
    if growth_bp_per_month <= -domain.FULL_SHARE_BP or growth_bp_per_month > domain.FULL_SHARE_BP:
        raise ApplicationError("The monthly growth trend must be between -100% and +100%.", field="growth_bp_per_month")


def _plan_weights(plan: PlanVersion) -> list[Any]:
    if plan.seasonality is None:
        return domain.flat_weights()
    return domain.validate_weights(plan.seasonality.weights)


@transaction.atomic
def plan_update(*, actor: Any, plan: PlanVersion, reason: str = "", **changes: Any) -> PlanVersion:
    """Change a draft's header (name, target, objectives, phasing inputs); re-phases when phasing changed."""
    require_role(actor, PLAN_EDITOR_ROLES, "edit plans")
    plan = PlanVersion.objects.select_for_update().get(pk=plan.pk)
    _require_draft(plan)
    allowed = {
        "name", "notes", "total_target_minor", "grr_objective_bp", "nrr_objective_bp", "max_logo_churn_bp",
        "seasonality", "growth_bp_per_month", "horizon_months", "start_month",
    }  # fmt: skip
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(f"These plan fields cannot be changed here: {', '.join(sorted(unknown))}.")
    if "horizon_months" in changes:
        domain.validate_horizon(changes["horizon_months"])
    if "name" in changes:
        if not str(changes["name"]).strip():
            raise ApplicationError("Give the plan a name.", field="name")
        changes["name"] = str(changes["name"]).strip()
    if "growth_bp_per_month" in changes:
        _validate_growth(changes["growth_bp_per_month"])
    if "total_target_minor" in changes:
        domain.validate_amount(changes["total_target_minor"], currency=plan.currency, field="total_target", what="The total target")
    for field in ("grr_objective_bp", "nrr_objective_bp", "max_logo_churn_bp"):
        if field in changes:
            _validate_bp(changes[field], field.removesuffix("_bp"), maximum=1_000_000 if field == "nrr_objective_bp" else 10_000)
    if "start_month" in changes:
        changes["start_month"] = month_start(changes["start_month"])
    rephase_fields = {"total_target_minor", "seasonality", "growth_bp_per_month", "horizon_months", "start_month"}
    needs_rephase = any(field in changes and getattr(plan, field) != value for field, value in changes.items() if field in rephase_fields)
    for field, value in changes.items():
        setattr(plan, field, value)
    stamp(plan, actor=actor, reason=reason or f"changed {', '.join(sorted(changes))}")
    plan.save()
    if needs_rephase:
        _rephase(plan, actor=actor, reason=reason or "re-phased after a header change")
    return plan


def _bucket_key(
    region: Region | None, product_line: ProductLine | None, application: ProductApplication | None, customer: Customer | None, motion: str
) -> str:
    return (
        f"r:{region.pk if region else ''}|pl:{product_line.pk if product_line else ''}|"
        f"pa:{application.pk if application else ''}|c:{customer.pk if customer else ''}|m:{motion}"
    )


@transaction.atomic
def bucket_add(
    *,
    actor: Any,
    plan: PlanVersion,
    region: Region | None = None,
    product_line: ProductLine | None = None,
    product_application: ProductApplication | None = None,
    customer: Customer | None = None,
    motion: str = "",
    target_minor: int | None = None,
    target_share_bp: int | None = None,
    reason: str = "",
) -> PlanBucket:
    """Add a bucket with a target (amount, or share of the plan total) and phase it over the horizon."""
    require_role(actor, PLAN_EDITOR_ROLES, "edit plans")
    plan = PlanVersion.objects.select_for_update().get(pk=plan.pk)
    _require_draft(plan)
    if motion and motion not in Motion.values:
        raise ApplicationError(f"{motion!r} is not a motion; use new, renewal or expansion.", field="motion")
    if product_application is not None:
        if product_line is not None and product_application.product_line_id != product_line.pk:
            raise ApplicationError(f"{product_application} is not in product line {product_line}.", field="product_application")
        product_line = product_application.product_line
    if customer is not None and not customer.is_named_account:
        raise ApplicationError(f"{customer} is not a named account; only named accounts get their own bucket.", field="customer")
    _validate_target(target_minor, target_share_bp, currency=plan.currency)
    key = _bucket_key(region, product_line, product_application, customer, motion)
    if plan.buckets.filter(key=key).exists():
        raise ApplicationError("This plan already has a bucket for that combination; edit its target instead.", field="bucket")
    bucket = PlanBucket(
        plan=plan,
        key=key,
        region=region,
        product_line=product_line,
        product_application=product_application,
        customer=customer,
        motion=motion,
        target_kind=TargetKind.SHARE if target_share_bp is not None else TargetKind.AMOUNT,
        target_share_bp=target_share_bp,
        target_minor=target_minor or 0,
        position=(plan.buckets.order_by("-position").values_list("position", flat=True).first() or 0) + 1,
    )
    stamp(bucket, actor=actor, reason=reason or "bucket added")
    bucket.save()
    _rephase(plan, actor=actor, reason=reason or f"bucket {bucket.label} added")
    bucket.refresh_from_db()
    return bucket


def _validate_target(target_minor: int | None, target_share_bp: int | None, *, currency: str) -> None:
    if (target_minor is None) == (target_share_bp is None):
        raise ApplicationError("Give the bucket either an amount or a share of the total, not both.", field="target")
    if target_minor is not None:
        domain.validate_amount(target_minor, currency=currency, field="target", what="A bucket target")
    if target_share_bp is not None and not 0 < target_share_bp <= domain.FULL_SHARE_BP:
        raise ApplicationError("A bucket share must be above 0% and at most 100%.", field="target_share")


@transaction.atomic
def bucket_set_target(
    *, actor: Any, bucket: PlanBucket, target_minor: int | None = None, target_share_bp: int | None = None, reason: str = ""
) -> PlanBucket:
    require_role(actor, PLAN_EDITOR_ROLES, "edit plans")
    plan = PlanVersion.objects.select_for_update().get(pk=bucket.plan_id)
    _require_draft(plan)
    _validate_target(target_minor, target_share_bp, currency=plan.currency)
    bucket.target_kind = TargetKind.SHARE if target_share_bp is not None else TargetKind.AMOUNT
    bucket.target_share_bp = target_share_bp
    bucket.target_minor = target_minor or 0
    stamp(bucket, actor=actor, reason=reason or "target changed")
    bucket.save()
    _rephase(plan, actor=actor, reason=reason or f"target of {bucket.label} changed", only_bucket=bucket)
    bucket.refresh_from_db()
    return bucket


@transaction.atomic
def bucket_delete(*, actor: Any, bucket: PlanBucket, reason: str = "") -> None:
    require_role(actor, PLAN_EDITOR_ROLES, "edit plans")
    plan = PlanVersion.objects.select_for_update().get(pk=bucket.plan_id)
    _require_draft(plan)
    stamp(bucket, actor=actor, reason=reason or "bucket removed")
    bucket.delete()
    _rephase(plan, actor=actor, reason=reason or "re-phased after a bucket was removed", shares_only=True)


def _rephase(plan: PlanVersion, *, actor: Any, reason: str, only_bucket: PlanBucket | None = None, shares_only: bool = False) -> None:
    """Resolve share targets and phase buckets into months.

    Share buckets depend on the plan total, so they are always re-phased; an amount bucket is
    re-phased only when it is the one that changed (or on a full re-phase), so hand edits to
    other buckets' months survive.
    """
    buckets = list(plan.buckets.all())
    targets = domain.resolve_targets(
        plan.total_target_minor,
        [
            domain.TargetSpec(amount_minor=b.target_minor if b.target_share_bp is None else None, share_bp=b.target_share_bp)
            for b in buckets
        ],
    )
    weights = _plan_weights(plan)
    months = month_range(plan.start_month, plan.horizon_months)
    existing: dict[tuple[int, date], PlanMonth] = {(m.bucket_id, m.month): m for m in PlanMonth.objects.filter(plan=plan)}
    changed_buckets: list[PlanBucket] = []
    new_months: list[PlanMonth] = []
    updated_months: list[PlanMonth] = []
    stale_ids: list[int] = []
    full = only_bucket is None and not shares_only
    for bucket, target in zip(buckets, targets, strict=True):
        is_share = bucket.target_share_bp is not None
        if not (full or is_share or (only_bucket is not None and bucket.pk == only_bucket.pk)):
            continue
        if bucket.target_minor != target:
            bucket.target_minor = target
            changed_buckets.append(bucket)
        amounts = domain.phase(
            total_minor=target,
            start_month=plan.start_month,
            horizon_months=plan.horizon_months,
            weights=weights,
            growth_bp_per_month=plan.growth_bp_per_month,
        )
        for month, amount in zip(months, amounts, strict=True):
            row = existing.pop((bucket.pk, month), None)
            if row is None:
                new_months.append(PlanMonth(plan=plan, bucket=bucket, month=month, amount_minor=amount))
            elif row.amount_minor != amount:
                row.amount_minor = amount
                updated_months.append(row)
        stale_ids.extend(row.pk for (bucket_id, _), row in existing.items() if bucket_id == bucket.pk)
    # Months outside a changed horizon belong to no column any more.
    stale_ids.extend(row.pk for (_, month), row in existing.items() if month not in set(months))
    if stale_ids:
        PlanMonth.objects.filter(pk__in=set(stale_ids)).delete()
    if changed_buckets:
        bulk_update_audited(PlanBucket, changed_buckets, ["target_minor"], actor=actor, reason=reason)
    if new_months:
        bulk_create_audited(PlanMonth, new_months, actor=actor, reason=reason)
    if updated_months:
        bulk_update_audited(PlanMonth, updated_months, ["amount_minor"], actor=actor, reason=reason)


@transaction.atomic
def plan_rephase(*, actor: Any, plan: PlanVersion, reason: str = "") -> PlanVersion:
    """Re-phase every bucket from its target, discarding hand edits to months."""
    require_role(actor, PLAN_EDITOR_ROLES, "edit plans")
    plan = PlanVersion.objects.select_for_update().get(pk=plan.pk)
    _require_draft(plan)
    _rephase(plan, actor=actor, reason=reason or "re-phased all buckets")
    return plan


@transaction.atomic
def plan_month_set(*, actor: Any, plan: PlanVersion, bucket_id: int, month: date, amount_minor: int, reason: str = "") -> PlanMonth:
    """Set one bucket's amount for one month. The bucket's target becomes the sum of its months.

    The plan may then no longer reconcile with its total target; the grid shows the difference
    and approval is refused until it does.
    """
    require_role(actor, PLAN_EDITOR_ROLES, "edit plans")
    plan = PlanVersion.objects.select_for_update().get(pk=plan.pk)
    _require_draft(plan)
    domain.validate_amount(amount_minor, currency=plan.currency, field="amount", what="A monthly plan amount")
    if not plan.buckets.filter(pk=bucket_id).exists():
        raise ApplicationError("That bucket is not part of this plan.", field="bucket")
    row = PlanMonth.objects.filter(plan=plan, bucket_id=bucket_id, month=month_start(month)).select_related("bucket").first()
    if row is None:
        raise ApplicationError(f"{month:%b %Y} is not a month of this plan's bucket.", field="month")
    if row.amount_minor == amount_minor:
        return row
    row.amount_minor = amount_minor
    stamp(row, actor=actor, reason=reason or f"{row.bucket.label} {month:%b %Y} edited")
    row.save()
    bucket = row.bucket
    bucket.target_kind = TargetKind.AMOUNT
    bucket.target_share_bp = None
    bucket.target_minor = sum(PlanMonth.objects.filter(bucket=bucket).values_list("amount_minor", flat=True))
    stamp(bucket, actor=actor, reason=reason or f"target follows edited month {month:%b %Y}")
    bucket.save()
    return row


def plan_reconciliation(plan: PlanVersion) -> domain.Reconciliation:
    buckets = list(plan.buckets.values_list("target_minor", "target_share_bp"))
    months_total = sum(PlanMonth.objects.filter(plan=plan).values_list("amount_minor", flat=True))
    all_shares = bool(buckets) and all(share is not None for _, share in buckets)
    return domain.Reconciliation(
        total_target_minor=plan.total_target_minor,
        buckets_minor=sum(target for target, _ in buckets),
        months_minor=months_total,
        share_total_bp=sum(share or 0 for _, share in buckets) if all_shares else None,
    )


@transaction.atomic
def plan_approve(*, actor: Any, plan: PlanVersion, reason: str = "") -> PlanVersion:
    """Approve a reconciled draft; it becomes read-only and supersedes the approved one of its kind."""
    require_role(actor, PLAN_APPROVER_ROLES, "approve plans")
    plan = PlanVersion.objects.select_for_update().get(pk=plan.pk)
    _require_draft(plan)
    if not plan.buckets.exists():
        raise ApplicationError("The plan has no buckets yet: add at least one revenue bucket before approving.", field="buckets")
    check = plan_reconciliation(plan)
    if check.share_total_bp is not None and check.share_total_bp != domain.FULL_SHARE_BP:
        raise ApplicationError(
            f"Bucket shares add up to {check.share_total_bp / 100:.2f}%; they must add up to 100%.", field="target_share"
        )
    if not check.is_reconciled:
        raise ApplicationError(
            f"The plan does not reconcile: its monthly amounts add up to {Money.from_minor(check.months_minor, plan.currency)} "
            f"but the total target is {Money.from_minor(check.total_target_minor, plan.currency)}. "
            "Adjust buckets or months (or the total) until they match.",
            field="total_target",
        )
    previous = PlanVersion.objects.select_for_update().filter(kind=plan.kind, state=PlanState.APPROVED).first()
    if previous is not None:
        _archive(previous, actor=actor, reason=f"superseded by {plan.name}")
    plan.state = PlanState.APPROVED
    plan.approved_by = actor if getattr(actor, "is_authenticated", False) else None
    plan.approved_at = timezone.now()
    stamp(plan, actor=actor, reason=reason or "approved")
    plan.save()
    return plan


def _archive(plan: PlanVersion, *, actor: Any, reason: str) -> None:
    from equipoise.quotas.services import allocations_archive_for_plan

    plan.state = PlanState.ARCHIVED
    stamp(plan, actor=actor, reason=reason)
    plan.save()
    allocations_archive_for_plan(plan=plan)


@transaction.atomic
def plan_archive(*, actor: Any, plan: PlanVersion, reason: str = "") -> PlanVersion:
    require_role(actor, PLAN_APPROVER_ROLES, "archive plans")
    plan = PlanVersion.objects.select_for_update().get(pk=plan.pk)
    if plan.state == PlanState.ARCHIVED:
        raise ApplicationError("The plan is already archived.", field="state")
    _archive(plan, actor=actor, reason=reason or "archived")
    return plan


@transaction.atomic
def plan_revise(*, actor: Any, plan: PlanVersion, name: str = "", reason: str = "") -> PlanVersion:
    """Copy an approved (or archived) version, buckets and months included, into a new draft."""
    require_role(actor, PLAN_EDITOR_ROLES, "revise plans")
    if plan.state == PlanState.DRAFT:
        raise ApplicationError("This plan is still a draft: edit it directly.", field="state")
    draft = PlanVersion(
        name=name.strip() or f"{plan.name} (revised)",
        kind=plan.kind,
        start_month=plan.start_month,
        horizon_months=plan.horizon_months,
        currency=plan.currency,
        total_target_minor=plan.total_target_minor,
        grr_objective_bp=plan.grr_objective_bp,
        nrr_objective_bp=plan.nrr_objective_bp,
        max_logo_churn_bp=plan.max_logo_churn_bp,
        seasonality=plan.seasonality,
        growth_bp_per_month=plan.growth_bp_per_month,
        revised_from=plan,
        notes=plan.notes,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    stamp(draft, actor=actor, reason=reason or f"revised from {plan.name}")
    draft.save()
    copy_reason = f"copied from {plan.name}"
    old_buckets = list(plan.buckets.all())
    new_buckets = [
        PlanBucket(
            plan=draft,
            key=b.key,
            region_id=b.region_id,
            product_line_id=b.product_line_id,
            product_application_id=b.product_application_id,
            customer_id=b.customer_id,
            motion=b.motion,
            target_kind=b.target_kind,
            target_share_bp=b.target_share_bp,
            target_minor=b.target_minor,
            position=b.position,
        )
        for b in old_buckets
    ]
    created = bulk_create_audited(PlanBucket, new_buckets, actor=actor, reason=copy_reason)
    if any(bucket.pk is None for bucket in created):  # databases that do not return ids from bulk inserts
        created = list(draft.buckets.order_by("position", "id"))
    bucket_map = {old.pk: new for old, new in zip(old_buckets, created, strict=True)}
    months = [
        PlanMonth(plan=draft, bucket=bucket_map[row.bucket_id], month=row.month, amount_minor=row.amount_minor)
        for row in PlanMonth.objects.filter(plan=plan)
    ]
    bulk_create_audited(PlanMonth, months, actor=actor, reason=copy_reason)
    return draft


@transaction.atomic
def seasonality_create(
    *, actor: Any, name: str, kind: str, weights: list[Any] | None = None, history: dict[date, int] | None = None
) -> SeasonalityProfile:
    """A seasonality profile: flat, twelve manual weights, or learned from monthly history."""
    require_role(actor, PLAN_EDITOR_ROLES, "create seasonality profiles")
    if not name.strip():
        raise ApplicationError("Give the profile a name.", field="name")
    if SeasonalityProfile.objects.filter(name=name.strip()).exists():
        raise ApplicationError(f"A seasonality profile named {name!r} exists already.", field="name")
    if kind == SeasonalityKind.FLAT:
        resolved = domain.flat_weights()
    elif kind == SeasonalityKind.MANUAL:
        resolved = domain.validate_weights(weights or [])
    elif kind == SeasonalityKind.LEARNED:
        resolved = domain.learn_seasonality(history or {})
    else:
        raise ApplicationError(f"{kind!r} is not a seasonality kind; use flat, manual or learned.", field="kind")
    return SeasonalityProfile.objects.create(name=name.strip(), kind=kind, weights=[str(weight) for weight in resolved])

"""Plan versions, their revenue buckets and the monthly amounts they are phased into."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from equipoise.org.models import Customer, Motion, ProductApplication, ProductLine, Region


class PlanKind(models.TextChoices):
    TOP_DOWN = "top_down", "Top-down"
    BOTTOM_UP = "bottom_up", "Bottom-up"
    FORECAST = "forecast", "Forecast"
    SCENARIO = "scenario", "Scenario"


class PlanState(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    ARCHIVED = "archived", "Archived"


class SeasonalityKind(models.TextChoices):
    FLAT = "flat", "Flat"
    MANUAL = "manual", "Manual weights"
    LEARNED = "learned", "Learned from history"


class SeasonalityProfile(models.Model):
    """Twelve weights, January first, averaging 1: how a year's revenue falls across months."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=8, choices=SeasonalityKind.choices, default=SeasonalityKind.FLAT)
    weights = models.JSONField(help_text="Twelve decimal strings, January to December.")
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class PlanVersion(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=PlanKind.choices, default=PlanKind.TOP_DOWN)
    state = models.CharField(max_length=10, choices=PlanState.choices, default=PlanState.DRAFT)
    start_month = models.DateField(help_text="First day of the first plan month.")
    horizon_months = models.PositiveSmallIntegerField(default=24)
    currency = models.CharField(max_length=3, default="EUR")
    total_target_minor = models.BigIntegerField(default=0)
    grr_objective_bp = models.PositiveIntegerField(null=True, blank=True, help_text="Gross revenue retention objective, basis points.")
    nrr_objective_bp = models.PositiveIntegerField(null=True, blank=True, help_text="Net revenue retention objective, basis points.")
    max_logo_churn_bp = models.PositiveIntegerField(null=True, blank=True, help_text="Maximum logo churn, basis points.")
    seasonality = models.ForeignKey(SeasonalityProfile, null=True, blank=True, on_delete=models.PROTECT)
    growth_bp_per_month = models.IntegerField(default=0, help_text="Monthly growth trend in basis points (50 = +0.5% a month).")
    revised_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="revisions")
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(horizon_months__gte=12) & Q(horizon_months__lte=36), name="plan_horizon_12_to_36"),
            models.CheckConstraint(condition=Q(total_target_minor__gte=0), name="plan_total_not_negative"),
            # One approved version per kind: approving another archives the previous one.
            models.UniqueConstraint(fields=["kind"], condition=Q(state="approved"), name="plan_one_approved_per_kind"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.state == PlanState.DRAFT


class TargetKind(models.TextChoices):
    AMOUNT = "amount", "Amount"
    SHARE = "share", "Share of total"


class PlanBucket(models.Model):
    """A revenue bucket of a plan: any combination of geography, product, named customer and motion.

    A blank dimension means "all". ``key`` encodes the combination so that each appears once per
    plan (a unique constraint over nullable columns would not hold on every database).
    """

    plan = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="buckets")
    key = models.CharField(max_length=200, editable=False)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT)
    product_line = models.ForeignKey(ProductLine, null=True, blank=True, on_delete=models.PROTECT)
    product_application = models.ForeignKey(ProductApplication, null=True, blank=True, on_delete=models.PROTECT)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT)
    motion = models.CharField(max_length=10, choices=Motion.choices, blank=True)
    target_kind = models.CharField(max_length=6, choices=TargetKind.choices, default=TargetKind.AMOUNT)
    target_share_bp = models.PositiveIntegerField(null=True, blank=True)
    target_minor = models.BigIntegerField(default=0, help_text="The bucket's horizon target; for a share, resolved from the plan total.")
    position = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="bucket_unique_per_plan"),
            models.CheckConstraint(condition=Q(target_minor__gte=0), name="bucket_target_not_negative"),
            models.CheckConstraint(
                condition=Q(target_share_bp__isnull=True) | (Q(target_share_bp__gte=0) & Q(target_share_bp__lte=10000)),
                name="bucket_share_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        parts = [str(part) for part in (self.region, self.product_application or self.product_line, self.customer) if part is not None]
        if self.motion:
            parts.append(Motion(self.motion).label)
        return " · ".join(parts) if parts else "All revenue"


class PlanMonth(models.Model):
    """One bucket's plan for one month. ``plan`` is denormalised for whole-plan reads."""

    plan = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="months")
    bucket = models.ForeignKey(PlanBucket, on_delete=models.CASCADE, related_name="months")
    month = models.DateField()
    amount_minor = models.BigIntegerField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["month"]
        constraints = [
            models.UniqueConstraint(fields=["bucket", "month"], name="plan_month_unique"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="plan_month_not_negative"),
        ]
        indexes = [models.Index(fields=["plan", "month"])]

    def __str__(self) -> str:
        return f"{self.bucket_id} {self.month:%Y-%m}: {self.amount_minor}"

"""Quotas allocated from an approved plan down the org tree, hand adjustments, and commits."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from equipoise.org.models import Motion, Person
from equipoise.planning.models import PlanBucket, PlanVersion


class AllocationMethod(models.TextChoices):
    EQUAL = "equal", "Equal split"
    HISTORY = "history", "Territory share of history"
    POTENTIAL = "potential", "Territory potential"


class AllocationState(models.TextChoices):
    DRAFT = "draft", "Draft (adjustable)"
    LOCKED = "locked", "Locked"
    ARCHIVED = "archived", "Archived"


class QuotaAllocation(models.Model):
    """One allocation of an approved plan. ``cushion_bp_by_level[d]`` is the over-assignment
    applied when a person at depth ``d`` below the root splits their quota among their reports."""

    plan = models.OneToOneField(PlanVersion, on_delete=models.PROTECT, related_name="allocation")
    root = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=AllocationMethod.choices, default=AllocationMethod.EQUAL)
    cushion_bp_by_level = models.JSONField(default=list)
    ramp_bp = models.JSONField(default=list, help_text="Share of full quota in a new seller's first months, basis points.")
    state = models.CharField(max_length=10, choices=AllocationState.choices, default=AllocationState.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Quotas of {self.plan}"


class Quota(models.Model):
    """A person's quota for one plan bucket and month. Managers carry their team's total."""

    # The unique constraint's (allocation, person, …) prefix serves lookups by allocation and person.
    allocation = models.ForeignKey(QuotaAllocation, on_delete=models.CASCADE, related_name="quotas", db_index=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="quotas")
    bucket = models.ForeignKey(PlanBucket, on_delete=models.PROTECT, related_name="quotas")
    month = models.DateField()
    amount_minor = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["allocation", "person", "bucket", "month"], name="quota_unique"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="quota_not_negative"),
        ]
        indexes = [models.Index(fields=["allocation", "month"])]

    def __str__(self) -> str:
        return f"{self.person_id} {self.bucket_id} {self.month:%Y-%m}: {self.amount_minor}"


class QuotaAdjustment(models.Model):
    """Audit record of a quota set by hand: who, when, what it was, what it became, and why."""

    allocation = models.ForeignKey(QuotaAllocation, on_delete=models.CASCADE, related_name="adjustments")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    bucket = models.ForeignKey(PlanBucket, on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    old_amount_minor = models.BigIntegerField()
    new_amount_minor = models.BigIntegerField()
    reason = models.TextField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.month:%Y-%m}: {self.old_amount_minor} → {self.new_amount_minor}"


class Commit(models.Model):
    """A seller's or manager's bottom-up number for a month and motion."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="commits")
    month = models.DateField()
    motion = models.CharField(max_length=10, choices=Motion.choices)
    currency = models.CharField(max_length=3, default="EUR")
    amount_minor = models.BigIntegerField()
    note = models.CharField(max_length=500, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["month", "motion"]
        constraints = [
            models.UniqueConstraint(fields=["person", "month", "motion"], name="commit_unique"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="commit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.month:%Y-%m} {self.motion}: {self.amount_minor}"

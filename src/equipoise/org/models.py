"""People, reporting lines, territories and the dimensions revenue is planned by."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from equipoise.core.access import Role


class Motion(models.TextChoices):
    NEW = "new", "New customers"
    RENEWAL = "renewal", "Renewal"
    EXPANSION = "expansion", "Expansion"


class Company(models.Model):
    """The one company this installation serves: its calendar and reporting currency."""

    name = models.CharField(max_length=200, default="My company")
    fiscal_year_start_month = models.PositiveSmallIntegerField(default=1, help_text="1 = January … 12 = December")
    reporting_currency = models.CharField(max_length=3, default="EUR")
    actual_measure = models.CharField(
        max_length=8,
        choices=[("booked", "Bookings and renewals"), ("invoiced", "Invoices less credit notes")],
        default="booked",
        help_text="What plan vs actual compares the plan with.",
    )
    lapse_after_months = models.PositiveSmallIntegerField(
        default=12, help_text="Without contracts, a customer counts as lost after this many months without a purchase."
    )

    class Meta:
        verbose_name_plural = "company"
        constraints = [
            models.CheckConstraint(
                condition=Q(fiscal_year_start_month__gte=1) & Q(fiscal_year_start_month__lte=12),
                name="company_fiscal_year_start_month_valid",
            ),
            models.CheckConstraint(condition=Q(lapse_after_months__gte=1), name="company_lapse_after_months_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Someone in the sales organisation. ``path`` materialises the reporting line for subtree queries."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person")
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SELLER)
    manager = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    team_name = models.CharField(max_length=120, blank=True, help_text="For a manager: the name of the team they lead.")
    # "/1/7/42/": ids from the top of the tree down to this person; a subtree is a prefix match.
    path = models.CharField(max_length=1000, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    carries_quota = models.BooleanField(default=False)
    hire_date = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.full_name

    @property
    def label(self) -> str:
        return f"{self.team_name} ({self.full_name})" if self.team_name else self.full_name


class Region(models.Model):
    """Geography: a region, or a country inside a region (region > country)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ProductLine(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ProductApplication(models.Model):
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="applications")
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Segment(models.TextChoices):
    ENTERPRISE = "enterprise", "Enterprise"
    MID_MARKET = "mid_market", "Mid-market"
    SMALL_BUSINESS = "small_business", "Small business"


class Customer(models.Model):
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    is_named_account = models.BooleanField(default=False)
    segment = models.CharField(max_length=16, choices=Segment.choices, default=Segment.MID_MARKET)
    home_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="customers")
    owner = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_customers")

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["owner"]), models.Index(fields=["is_named_account"])]

    def __str__(self) -> str:
        return self.name


class Territory(models.Model):
    """What a seller covers from ``starts_on`` to ``ends_on`` (inclusive; open-ended when blank).

    A blank dimension means "all": a territory with only a region covers every product line
    there. ``potential_minor`` is the market potential used by allocation by potential.
    """

    seller = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="territories")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT)
    product_line = models.ForeignKey(ProductLine, null=True, blank=True, on_delete=models.PROTECT)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    potential_minor = models.BigIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "territories"
        constraints = [
            models.CheckConstraint(
                condition=Q(region__isnull=False) | Q(product_line__isnull=False) | Q(customer__isnull=False),
                name="territory_names_a_dimension",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")), name="territory_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(potential_minor__gte=0), name="territory_potential_not_negative"),
        ]

    def __str__(self) -> str:
        parts = [str(part) for part in (self.region, self.product_line, self.customer) if part]
        return f"{self.seller}: {' / '.join(parts)}"

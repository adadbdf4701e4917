"""What was sold: result lines from imports and the API, their seller credits, contracts, and rollups.

A result line is identified by (source, external id): the same line again changes nothing, a
changed line is a correction that bumps its version and keeps the previous values as a revision.
Seller credits split a line between sellers by percentage (summing to 100%) and carry the
line's dimensions so seller-level analysis reads one table. Rollups are per-period aggregates of
credits kept exact in the same transaction as the lines, so tracking pages cost O(cells shown).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from equipoise.core.fields import RowIdField, TextCodeField
from equipoise.org.models import Customer, Motion, Person, ProductApplication, ProductLine, Region


class ResultKind(models.TextChoices):
    BOOKING = "booking", "Booking"
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"
    RENEWAL = "renewal", "Renewal"
    CHURN = "churn", "Churn"


class Measure(models.TextChoices):
    """What a figure counts. Bookings and invoices describe the same revenue twice, so they are
    never added together: plan vs actual compares the plan with one measure at a time."""

    BOOKED = "booked", "Booked (bookings and renewals)"
    INVOICED = "invoiced", "Invoiced (invoices less credit notes)"
    CHURNED = "churned", "Churned"


MEASURE_OF_KIND = {
    ResultKind.BOOKING: Measure.BOOKED,
    ResultKind.RENEWAL: Measure.BOOKED,
    ResultKind.INVOICE: Measure.INVOICED,
    ResultKind.CREDIT_NOTE: Measure.INVOICED,
    ResultKind.CHURN: Measure.CHURNED,
}


class BatchChannel(models.TextChoices):
    FILE = "file", "File import"
    API = "api", "API push"


class BatchMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
    QUARANTINE = "quarantine", "Accept valid rows, quarantine invalid ones"


class BatchStatus(models.TextChoices):
    COMMITTED = "committed", "Imported"
    REJECTED = "rejected", "Rejected (nothing imported)"
    DUPLICATE = "duplicate", "Same file as an earlier import"


class ColumnMapping(models.Model):
    """A saved, named way to read a file: which column is which field, formats, and what to do with
    unknown customers, products and sellers. Built-in presets are created by migration-free code
    (see ``results.importing.presets``) and cannot be edited; copies of them can."""

    name = models.SlugField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True)
    is_preset = models.BooleanField(default=False)
    config = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One import (a file or an API push): who, when, what file, and what became of each row."""

    channel = models.CharField(max_length=4, choices=BatchChannel.choices)
    source = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    mapping_name = models.CharField(max_length=120, blank=True)
    mode = models.CharField(max_length=16, choices=BatchMode.choices, default=BatchMode.ALL_OR_NOTHING)
    status = models.CharField(max_length=10, choices=BatchStatus.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    duration_ms = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    lines_created = models.PositiveIntegerField(default=0)
    lines_corrected = models.PositiveIntegerField(default=0)
    lines_unchanged = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0, help_text="Rows that are not results (lost deals, fees, duplicates).")
    rows_rejected = models.PositiveIntegerField(default=0)
    skipped_reasons = models.JSONField(default=dict, blank=True)
    problems_found = models.PositiveIntegerField(
        default=0, help_text="Problems found in the rows and the file, including those past the report's cap (ISSUE_CAP)."
    )
    failure = models.TextField(
        blank=True, help_text="Why the file could not be read as a whole (empty file, binary, missing column); nothing of it is kept."
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} #{self.pk} ({self.source})"


class JobState(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """A large upload imported in a background process (see ``results.import_jobs``): the page that
    received it answers at once and shows the import's progress, and the batch when it is done.

    A job is ``done`` in the same transaction that commits its batch, so a job that failed never
    has a batch and a done one always has."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=100, help_text="The upload's copy in the data directory, until the job ends.")
    size_bytes = models.BigIntegerField()
    mapping_name = models.CharField(max_length=120)
    mode = models.CharField(max_length=16, choices=BatchMode.choices, default=BatchMode.ALL_OR_NOTHING)
    source = models.CharField(max_length=64, blank=True)
    force = models.BooleanField(default=False)
    state = models.CharField(max_length=8, choices=JobState.choices, default=JobState.QUEUED)
    host = models.CharField(max_length=255, blank=True, help_text="The machine whose process runs the job.")
    pid = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    bytes_read = models.BigIntegerField(default=0)
    batch = models.OneToOneField(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="job")
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import job #{self.pk} ({self.file_name})"

    @property
    def is_active(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)


class ImportIssue(models.Model):
    """A row that was rejected (or quarantined): row number, column, value and the reason."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="issues")
    row_number = models.PositiveIntegerField()
    column = models.CharField(max_length=120, blank=True)
    value = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=500)
    quarantined_row = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["row_number", "id"]

    def __str__(self) -> str:
        return f"row {self.row_number} {self.column}: {self.reason}"


class ResultLine(models.Model):
    """One seller's credit for a result line: a line split between two sellers is two rows that
    share (source, external id) and together carry the whole ``line_amount_minor``.

    One fact table, not lines plus credits, because an import writes a row per line either way
    and the second table would double the cost of every import for the rare split.
    """

    # Nothing refers to a line by id: without SQLite's AUTOINCREMENT counter a million lines
    # import about two seconds faster (see RowIdField).
    id = RowIdField(primary_key=True)
    # References carry no database foreign-key constraint (db_constraint=False): the ingest, the
    # only writer, resolves every id from the directory in the same transaction, and deletes are
    # refused by on_delete=PROTECT in the application. On PostgreSQL each constraint cost a
    # trigger with a row lock per line and key at commit — six of them took a third of an import.
    source = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    seller = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="result_lines", db_index=False, db_constraint=False)
    share_bp = models.PositiveIntegerField(default=10_000)
    kind = models.CharField(max_length=12, choices=ResultKind.choices)
    measure = models.CharField(max_length=8, choices=Measure.choices)
    occurred_on = models.DateField()
    currency = models.CharField(max_length=3)
    line_amount_minor = models.BigIntegerField(help_text="The whole line; signed (credit notes and churn are negative).")
    amount_minor = models.BigIntegerField(help_text="This seller's credited part; the parts sum exactly to the line.")
    # No index per foreign key: lines are read by (source, external id), seller and day, or
    # customer and day; more indexes would cost every import more than they save any query.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="result_lines", db_index=False, db_constraint=False)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    product_application = models.ForeignKey(
        ProductApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    motion = models.CharField(max_length=10, choices=Motion.choices)
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="lines", db_index=False, db_constraint=False)
    version = models.PositiveIntegerField(default=1)
    fingerprint = models.CharField(max_length=32, help_text="Hash of the whole line's content: an unchanged line is skipped.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id", "seller"], name="result_line_credit_unique"),
            models.CheckConstraint(condition=Q(share_bp__gt=0) & Q(share_bp__lte=10_000), name="result_line_share_valid"),
        ]
        indexes = [models.Index(fields=["seller", "occurred_on"]), models.Index(fields=["customer", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} → {self.seller_id}"


class ResultLineRevision(models.Model):
    """The values a line had (all its seller credits) before a correction replaced them."""

    source = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    version = models.PositiveIntegerField()
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="+")
    replaced_by_batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="+")
    previous = models.JSONField()
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "external_id", "version"]
        indexes = [models.Index(fields=["source", "external_id"])]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} v{self.version}"


class Grain(models.TextChoices):
    DAY = "D", "Day"
    MONTH = "M", "Month"
    # A person's own credits, monthly. Not "M": a large manager keeps rollups by every dimension
    # under their node, and their own credits beside those would be found only by scanning them.
    OWN_MONTH = "O", "Month, own credits"


COMPANY_NODE = 0
# How the rollup tables store their key's strings (see TextCodeField), each list in the order the
# text sorts. Stored codes are positions in these lists: a new grain, measure or motion needs a
# migration that renumbers them (a test fails until the lists name every value).
GRAIN_CODES = ("D", "M", "O")
MEASURE_CODES = ("booked", "churned", "invoiced")
MOTION_CODES = ("expansion", "new", "renewal")


class Rollup(models.Model):
    """Exact sums of result lines per period and key.

    - monthly and daily for the company (node 0), by every dimension; daily also by region alone
      (product columns 0) and by product alone (region 0), 0 standing for "all";
    - monthly per manager with a large subtree (everyone below them), by every dimension;
    - monthly per person, their own credits by measure and motion only (grain ``O``, dimension
      columns 0);
    - nothing more for small teams: their breakdowns come from their lines, indexed by
      (seller, day). Which manager is large is decided in :mod:`equipoise.results.rollup_nodes`.

    Kept on ingest in the same transaction as the lines; `equipoise rebuild-rollups` recomputes
    them from the credits and reports any difference. A reorganisation changes whose subtree a
    credit belongs to, so it is followed by a rebuild.
    """

    # The key is the primary key: one B-tree per table, not a row id and a unique index beside it.
    # On SQLite the table is WITHOUT ROWID (migration 0011), so the rows themselves are stored in
    # key order: an upsert touches one B-tree, and a node's periods are read from adjacent pages.
    # Grain, measure and motion are stored as small integer codes (migration 0015): PostgreSQL's
    # B-tree compared them as text on every insert.
    pk = models.CompositePrimaryKey(
        "node_id", "grain", "measure", "period", "region_id", "product_line_id", "product_application_id", "motion", "currency"
    )
    grain = TextCodeField(values=GRAIN_CODES)
    period = models.DateField()
    node_id = models.BigIntegerField(help_text="Person id of the seller or manager; 0 for the whole company.")
    measure = TextCodeField(values=MEASURE_CODES)
    region_id = models.BigIntegerField()
    product_line_id = models.BigIntegerField()
    product_application_id = models.BigIntegerField(default=0)
    motion = TextCodeField(values=MOTION_CODES)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField(default=0)
    line_count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.grain}{self.period} node {self.node_id}: {self.amount_minor}"


class RollupTotal(models.Model):
    """Exact sums over every dimension at once, for reads that need no dimension: per manager (all
    credits strictly below them; their own credits are in the lines) monthly, and daily for large
    subtrees; for the company (node 0: everything) monthly and daily; by measure and motion.

    One row per node, period and motion instead of one per dimension combination: a team-by-team
    or day-by-day view reads a few rows per cell. Kept on ingest like :class:`Rollup`.
    """

    pk = models.CompositePrimaryKey("node_id", "grain", "measure", "period", "motion", "currency")  # as Rollup's
    node_id = models.BigIntegerField(help_text="Person id of a manager; 0 for the whole company.")
    grain = TextCodeField(values=GRAIN_CODES)
    measure = TextCodeField(values=MEASURE_CODES)
    period = models.DateField()
    motion = TextCodeField(values=MOTION_CODES)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField(default=0)
    line_count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.grain}{self.period} node {self.node_id} {self.motion}: {self.amount_minor}"


class BillingPeriod(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    ANNUAL = "annual", "Annual"


class Contract(models.Model):
    """Recurring revenue for a customer over a period: the base for GRR, NRR and logo churn."""

    source = models.CharField(max_length=64, default="manual")
    external_id = models.CharField(max_length=128)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    seller = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="contracts")
    product_line = models.ForeignKey(ProductLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    billing_period = models.CharField(max_length=8, choices=BillingPeriod.choices, default=BillingPeriod.ANNUAL)
    currency = models.CharField(max_length=3)
    amount_minor = models.BigIntegerField(help_text="Per billing period.")
    renews = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewed_by")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="contract_source_external_id"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="contract_ends_after_start"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="contract_amount_not_negative"),
        ]
        indexes = [models.Index(fields=["customer", "starts_on"]), models.Index(fields=["ends_on"])]

    def __str__(self) -> str:
        return f"{self.customer} {self.starts_on}–{self.ends_on}"

"""Ingest validated result lines: idempotent by (source, external id), corrections kept as
revisions, seller credits split exactly, and rollups updated in the same transaction.

Callers (file import, API push, demo, benchmark) resolve and validate their input into
:class:`LineInput` values and pass them in chunks; this module owns every write to result lines
and rollups. Writes go through raw ``executemany`` (SQLite) or ``COPY`` (PostgreSQL): an import
writes millions of rows and model instances would dominate its run time.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection

from equipoise.core.money import allocate_minor
from equipoise.results.models import (
    COMPANY_NODE,
    MEASURE_OF_KIND,
    Grain,
    ImportBatch,
    ResultLine,
    ResultLineRevision,
    Rollup,
    RollupTotal,
)
from equipoise.results.rollup_nodes import RollupTree

# Plain strings, not the enum members: database drivers adapt str, not every str subclass.
MONTH, DAY = str(Grain.MONTH.value), str(Grain.DAY.value)
_MEASURE = {str(kind.value): str(measure.value) for kind, measure in MEASURE_OF_KIND.items()}

# Bounds the memory the removals of corrected lines take before they are written.
MAX_PENDING_DELTAS = 100_000
# Rows written between two rollup flushes in a deferred batch: large enough that the keys the
# company and large subtrees share are summed once rather than upserted per flush, small enough
# that the flushes run while the file is still being read (see importing.writer). Measured on the
# 1M-line bench: PostgreSQL's upserts cost more than its sorts (500k: 73 s, 100k: 97 s), SQLite's
# sorts more than its upserts (100k: 50 s, 500k: 54 s).
FLUSH_ROWS = {"postgresql": 500_000, "sqlite": 100_000}

# node, grain, measure, period (ISO), region, product line, product application, motion, currency
RollupKey = tuple[int, str, str, str, int, int, int, str, str]
# node, grain, measure, period (ISO), motion, currency
TotalKey = tuple[int, str, str, str, str, str]
ROLLUP_KEY_COLUMNS = "node_id, grain, measure, period, region_id, product_line_id, product_application_id, motion, currency"
TOTAL_KEY_COLUMNS = "node_id, grain, measure, period, motion, currency"
_MANAGER_NODES, _LARGE_NODES = "equipoise_rollup_managers", "equipoise_rollup_large"

LINE_COLUMNS = (
    "source", "external_id", "seller_id", "share_bp", "kind", "measure", "occurred_on", "currency", "line_amount_minor",
    "amount_minor", "customer_id", "region_id", "product_line_id", "product_application_id", "motion", "batch_id", "version",
    "fingerprint",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LineInput:
    """One validated result line. ``credits`` are (seller id, share in basis points) summing to 10,000."""

    row: int
    source: str
    external_id: str
    kind: str
    occurred_on: date
    currency: str
    amount_minor: int
    customer_id: int
    region_id: int
    product_line_id: int
    product_application_id: int | None
    motion: str
    credits: tuple[tuple[int, int], ...]

    def fingerprint(self) -> str:
        credits = sorted(self.credits) if len(self.credits) > 1 else self.credits
        content = (
            f"{self.kind}|{self.occurred_on.isoformat()}|{self.currency}|{self.amount_minor}|{self.customer_id}|{self.region_id}|"
            f"{self.product_line_id}|{self.product_application_id or 0}|{self.motion}|{credits}"
        )
        return hashlib.blake2b(content.encode(), digest_size=16).hexdigest()


@dataclass
class IngestCounts:
    created: int = 0
    corrected: int = 0
    unchanged: int = 0
    repeated: int = 0
    touched_sellers: set[int] = field(default_factory=set)
    touched_months: set[date] = field(default_factory=set)


class Ingestor:
    """Writes chunks of lines for one batch. Use inside ``transaction.atomic()``: a failure at any
    point leaves the database with the whole batch or none of it."""

    def __init__(self, *, batch: ImportBatch, defer_rollups: bool = False) -> None:
        if not connection.in_atomic_block:
            raise RuntimeError("Ingestor writes a batch all or nothing: use it inside transaction.atomic().")
        self.batch = batch
        self.counts = IngestCounts()
        self._tree = RollupTree.load()
        self._periods: dict[date, tuple[str, str]] = {}  # day -> (day, month) as ISO text
        self._vendor = connection.vendor
        self._flush_rows = FLUSH_ROWS.get(self._vendor, 100_000)
        # Rows of this batch that repeat an external id an earlier chunk of the same batch wrote:
        # same content (``repeats``) or different content (``conflicts``). Callers drain them.
        # Found through the database, asked only for the ids a Bloom filter of what this batch
        # wrote may hold, so memory does not grow with the batch and new ids cost no look-up.
        self._written = WrittenIds()
        self.repeats: list[int] = []
        self.conflicts: list[tuple[int, str]] = []  # (row, external id)
        # Rollups are summed from the written rows by the database (see _roll_up_written). With
        # defer_rollups that happens every FLUSH_ROWS rows and in finish() (same transaction), so a
        # key touched by many chunks costs one upsert per flush, not one per chunk. Without it,
        # each ingest() call leaves the rollups up to date.
        self._defer_rollups = defer_rollups
        self._deltas: dict[tuple[Any, ...], list[int]] = defaultdict(_pair)  # removals by corrections
        self._unrolled = 0  # credit rows written since the last flush
        self._rolled_up_to = 0  # the highest id of this batch's rows already in the rollups
        self._node_tables = False
        # Whether a source had lines before this batch: if not, only this batch can have written
        # an id of it, and the Bloom filter says which ids need a look-up.
        self._source_had_lines: dict[str, bool] = {}
        if self._vendor == "sqlite":
            # Index pages for a million random (seller, day) and (customer, day) keys do not fit
            # SQLite's default 2 MB cache; 256 MB for this connection halves the insert time.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -262144")

    def ingest(self, lines: Sequence[LineInput]) -> None:
        fresh: list[LineInput] = []
        in_chunk: set[tuple[str, str]] = set()
        for line in lines:
            key = (line.source, line.external_id)
            if key in in_chunk:
                self.counts.repeated += 1  # callers report repeats inside a chunk; here they are no-ops
                continue
            in_chunk.add(key)
            fresh.append(line)
        if not fresh:
            return
        existing = self._existing(fresh)
        new_lines: list[LineInput] = []
        corrections: list[tuple[LineInput, str, int]] = []
        for line in fresh:
            previous = existing.get((line.source, line.external_id)) if existing else None
            if previous is None:
                new_lines.append(line)
            elif previous[2] == self.batch.pk:
                self.counts.repeated += 1
                if previous[0] == line.fingerprint():
                    self.repeats.append(line.row)
                else:
                    self.conflicts.append((line.row, line.external_id))
            elif previous[0] == line.fingerprint():
                self.counts.unchanged += 1
            else:
                corrections.append((line, previous[0], previous[1]))
        deltas = self._deltas
        if corrections:
            self._apply_corrections(corrections, deltas)
        if new_lines:
            self._insert(new_lines, version=1)
            self.counts.created += len(new_lines)
        written = self._written
        for line in new_lines:
            written.add(line.source, line.external_id)
        if not self._defer_rollups or self._unrolled >= self._flush_rows or len(deltas) > MAX_PENDING_DELTAS:
            self.flush()

    def flush(self) -> None:
        """Write the pending rollup deltas. :meth:`finish` calls it; call it yourself before
        reading rollups inside the same transaction."""
        if self._deltas:
            rollups, totals = self._expand(self._deltas)
            self._upsert(Rollup._meta.db_table, ROLLUP_KEY_COLUMNS, rollups)
            self._upsert(RollupTotal._meta.db_table, TOTAL_KEY_COLUMNS, totals)
            self._deltas.clear()
        if self._unrolled:
            self._roll_up_written()
            self._unrolled = 0

    # -- reads ---------------------------------------------------------------------------------

    def _existing(self, lines: Sequence[LineInput]) -> dict[tuple[str, str], tuple[str, int, int]]:
        """Fingerprint, version and batch of the lines that exist already, by (source, external id)."""
        by_source: dict[str, list[str]] = defaultdict(list)
        had_lines, written = self._source_had_lines, self._written
        for line in lines:
            source = line.source
            if source not in had_lines:
                had_lines[source] = ResultLine.objects.filter(source=source).exists()
            if had_lines[source] or written.may_hold(source, line.external_id):
                by_source[source].append(line.external_id)
        table = ResultLine._meta.db_table
        found: dict[tuple[str, str], tuple[str, int, int]] = {}
        for source, external_ids in by_source.items():
            with connection.cursor() as cursor:
                for start in range(0, len(external_ids), 2000):
                    chunk = external_ids[start : start + 2000]
                    placeholders = ", ".join(["%s"] * len(chunk))
                    cursor.execute(
                        f"SELECT external_id, fingerprint, version, batch_id FROM {table} "
                        f"WHERE source = %s AND external_id IN ({placeholders})",
                        [source, *chunk],
                    )
                    for external_id, fingerprint, version, batch_id in cursor.fetchall():
                        found[(source, external_id)] = (fingerprint, version, batch_id)
        return found

    # -- writes --------------------------------------------------------------------------------

    def _insert(self, lines: Sequence[LineInput], *, version: int) -> None:
        """Write the lines' credit rows; their rollups follow in :meth:`flush`, from the rows."""
        batch_id = self.batch.pk
        measure_of = _MEASURE
        rows = []
        periods = self._periods
        touched_sellers = self.counts.touched_sellers
        for line in lines:
            measure = measure_of[line.kind]
            fingerprint = line.fingerprint()
            day = line.occurred_on
            day_text = periods[day][0] if day in periods else self._period(day)[0]
            application = line.product_application_id
            if len(line.credits) == 1:
                parts = [line.amount_minor]
            else:
                parts = allocate_minor(line.amount_minor, [share for _, share in line.credits])
            for (seller_id, share), part in zip(line.credits, parts, strict=True):
                rows.append(
                    (
                        line.source, line.external_id, seller_id, share, line.kind, measure, day_text, line.currency,
                        line.amount_minor, part, line.customer_id, line.region_id, line.product_line_id, application, line.motion,
                        batch_id, version, fingerprint,
                    )
                )  # fmt: skip
                touched_sellers.add(seller_id)
        self._bulk_insert(ResultLine._meta.db_table, LINE_COLUMNS, rows)
        self._unrolled += len(rows)

    def _apply_corrections(self, corrections: list[tuple[LineInput, str, int]], deltas: dict[tuple[Any, ...], list[int]]) -> None:
        source_ids: dict[str, list[str]] = defaultdict(list)
        for line, _, _ in corrections:
            source_ids[line.source].append(line.external_id)
        old_rows: dict[tuple[str, str], list[ResultLine]] = defaultdict(list)
        for source, external_ids in source_ids.items():
            for row in ResultLine.objects.filter(source=source, external_id__in=external_ids).order_by("id"):
                old_rows[(source, row.external_id)].append(row)
        revisions = []
        for line, _, version in corrections:
            credits = old_rows[(line.source, line.external_id)]
            first = credits[0]
            revisions.append(
                ResultLineRevision(
                    source=line.source,
                    external_id=line.external_id,
                    version=version,
                    batch_id=first.batch_id,
                    replaced_by_batch_id=self.batch.pk,
                    previous={
                        "kind": first.kind,
                        "occurred_on": first.occurred_on.isoformat(),
                        "currency": first.currency,
                        "amount_minor": first.line_amount_minor,
                        "customer_id": first.customer_id,
                        "region_id": first.region_id,
                        "product_line_id": first.product_line_id,
                        "product_application_id": first.product_application_id,
                        "motion": first.motion,
                        "credits": [[row.seller_id, row.share_bp] for row in credits],
                    },
                )
            )
            for row in credits:
                cell = deltas[
                    (
                        row.seller_id, row.measure, row.occurred_on, row.region_id, row.product_line_id, row.product_application_id or 0,
                        row.motion, row.currency,
                    )
                ]  # fmt: skip
                cell[0] -= row.amount_minor
                cell[1] -= 1
        ResultLineRevision.objects.bulk_create(revisions, batch_size=1000)
        ResultLine.objects.filter(pk__in=[row.pk for rows in old_rows.values() for row in rows]).delete()
        by_version: dict[int, list[LineInput]] = defaultdict(list)
        for line, _, version in corrections:
            by_version[version + 1].append(line)
        for version, lines in by_version.items():
            self._insert(lines, version=version)
        self.counts.corrected += len(corrections)

    def _expand(self, seller_deltas: dict[tuple[Any, ...], list[int]]) -> tuple[dict[RollupKey, list[int]], dict[TotalKey, list[int]]]:
        """Seller-day deltas (the removals of corrected lines) to rollup keys, by the same rule as
        :meth:`_roll_up_written`. Periods are ISO text, which every driver passes through without an
        adapter call per row."""
        expanded: dict[RollupKey, list[int]] = defaultdict(_pair)
        totals: dict[TotalKey, list[int]] = defaultdict(_pair)
        periods = self._periods
        managers_of, large_of = self._tree.managers, self._tree.large
        touched_sellers = self.counts.touched_sellers
        seen_sellers: set[int] = set()
        for (seller_id, measure, day, region_id, line_id, application_id, motion, currency), (amount, count) in seller_deltas.items():
            day_text, month_text = periods[day] if day in periods else self._period(day)
            if seller_id not in seen_sellers:
                seen_sellers.add(seller_id)
                touched_sellers.add(seller_id)
            for key in (
                (COMPANY_NODE, MONTH, measure, month_text, region_id, line_id, application_id, motion, currency),
                (COMPANY_NODE, DAY, measure, day_text, region_id, line_id, application_id, motion, currency),
            ):
                cell = expanded[key]
                cell[0] += amount
                cell[1] += count
            for total_key in (
                (COMPANY_NODE, MONTH, measure, month_text, motion, currency),
                (COMPANY_NODE, DAY, measure, day_text, motion, currency),
            ):
                cell = totals[total_key]
                cell[0] += amount
                cell[1] += count
            cell = expanded[(seller_id, MONTH, measure, month_text, 0, 0, 0, motion, currency)]  # own credits
            cell[0] += amount
            cell[1] += count
            for node in managers_of.get(seller_id, ()):
                cell = totals[(node, MONTH, measure, month_text, motion, currency)]
                cell[0] += amount
                cell[1] += count
            for node in large_of.get(seller_id, ()):
                cell = expanded[(node, MONTH, measure, month_text, region_id, line_id, application_id, motion, currency)]
                cell[0] += amount
                cell[1] += count
                cell = totals[(node, DAY, measure, day_text, motion, currency)]
                cell[0] += amount
                cell[1] += count
        return expanded, totals

    def _roll_up_written(self) -> None:
        """Add this batch's rows written since the last flush to the rollups, summed by the database
        (one statement per rollup table), by the rule in :mod:`~equipoise.results.rollup_nodes`:
        the company by dimension monthly and daily, large subtrees by dimension monthly, every
        person's own credits monthly (dimension columns 0); in the totals, the company monthly and
        daily, every manager monthly, large subtrees daily."""
        table = ResultLine._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {table} WHERE id > %s AND batch_id = %s", [self._rolled_up_to, self.batch.pk])
            (last,) = cursor.fetchone()
            if last is None:
                return
            self._node_tables_fill(cursor)
            if self._vendor == "postgresql":
                # The sums sort a few hundred thousand rows: in memory, not in temporary files. And
                # the table's statistics predate this batch, so the planner could take a scan of
                # every line for the window; the (id) index reads only the window's rows.
                cursor.execute("SET LOCAL work_mem = '128MB'")
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL jit = off")  # compiling costs more than these statements
            window = [self.batch.pk, self._rolled_up_to, last]
            where = "l.batch_id = %s AND l.id > %s AND l.id <= %s"
            month = "date_trunc('month', l.occurred_on)::date" if self._vendor == "postgresql" else "substr(l.occurred_on, 1, 8) || '01'"
            dimensions = "l.region_id, l.product_line_id, COALESCE(l.product_application_id, 0), l.motion, l.currency"
            sums = "SUM(l.amount_minor), COUNT(*)"
            rollups = (
                f"SELECT {COMPANY_NODE}, '{MONTH}', l.measure, {month}, {dimensions}, {sums} FROM {table} l "
                f"WHERE {where} GROUP BY l.measure, {month}, {dimensions} "
                f"UNION ALL SELECT {COMPANY_NODE}, '{DAY}', l.measure, l.occurred_on, {dimensions}, {sums} FROM {table} l "
                f"WHERE {where} GROUP BY l.measure, l.occurred_on, {dimensions} "
                f"UNION ALL SELECT n.node_id, '{MONTH}', l.measure, {month}, {dimensions}, {sums} FROM {table} l "
                f"JOIN {_LARGE_NODES} n ON n.person_id = l.seller_id "
                f"WHERE {where} GROUP BY n.node_id, l.measure, {month}, {dimensions} "
                f"UNION ALL SELECT l.seller_id, '{MONTH}', l.measure, {month}, 0, 0, 0, l.motion, l.currency, {sums} FROM {table} l "
                f"WHERE {where} GROUP BY l.seller_id, l.measure, {month}, l.motion, l.currency"
            )
            self._upsert_select(cursor, Rollup._meta.db_table, ROLLUP_KEY_COLUMNS, rollups, window * 4)
            kinds = "l.motion, l.currency"
            totals = (
                f"SELECT {COMPANY_NODE}, '{MONTH}', l.measure, {month}, {kinds}, {sums} FROM {table} l "
                f"WHERE {where} GROUP BY l.measure, {month}, {kinds} "
                f"UNION ALL SELECT {COMPANY_NODE}, '{DAY}', l.measure, l.occurred_on, {kinds}, {sums} FROM {table} l "
                f"WHERE {where} GROUP BY l.measure, l.occurred_on, {kinds} "
                f"UNION ALL SELECT n.node_id, '{MONTH}', l.measure, {month}, {kinds}, {sums} FROM {table} l "
                f"JOIN {_MANAGER_NODES} n ON n.person_id = l.seller_id "
                f"WHERE {where} GROUP BY n.node_id, l.measure, {month}, {kinds} "
                f"UNION ALL SELECT n.node_id, '{DAY}', l.measure, l.occurred_on, {kinds}, {sums} FROM {table} l "
                f"JOIN {_LARGE_NODES} n ON n.person_id = l.seller_id "
                f"WHERE {where} GROUP BY n.node_id, l.measure, l.occurred_on, {kinds}"
            )
            self._upsert_select(cursor, RollupTotal._meta.db_table, TOTAL_KEY_COLUMNS, totals, window * 4)
            if self._vendor == "postgresql":
                cursor.execute("RESET work_mem")
                cursor.execute("RESET enable_seqscan")
                cursor.execute("RESET jit")
        self._rolled_up_to = last

    def _node_tables_fill(self, cursor: Any) -> None:
        """Temporary tables of (person, manager above them) for every manager and for large
        subtrees, which the roll-up joins the rows with."""
        if self._node_tables:
            return
        temporary = "TEMPORARY" if self._vendor == "postgresql" else "TEMP"
        for name, nodes in ((_MANAGER_NODES, self._tree.managers), (_LARGE_NODES, self._tree.large)):
            columns = "person_id bigint NOT NULL, node_id bigint NOT NULL, PRIMARY KEY (person_id, node_id)"
            cursor.execute(f"CREATE {temporary} TABLE IF NOT EXISTS {name} ({columns})")
            cursor.execute(f"DELETE FROM {name}")
            pairs = [(person_id, node) for person_id, above in nodes.items() for node in above]
            for start in range(0, len(pairs), 5000):
                cursor.executemany(f"INSERT INTO {name} (person_id, node_id) VALUES (%s, %s)", pairs[start : start + 5000])
        self._node_tables = True

    def _upsert_select(self, cursor: Any, table: str, key_columns: str, select: str, params: list[Any]) -> None:
        """Add the (key, amount, count) rows of ``select`` to a rollup table; on PostgreSQL in key
        order, so that two imports lock rows in the same order (see :meth:`_upsert`)."""
        positions = ", ".join(str(position) for position in range(1, key_columns.count(",") + 2))
        order = f" ORDER BY {positions}" if self._vendor == "postgresql" else ""
        # "WHERE true": SQLite's parser needs it between a SELECT and an upsert clause.
        cursor.execute(
            f"INSERT INTO {table} ({key_columns}, amount_minor, line_count) "
            f"SELECT * FROM ({select}) AS summed WHERE true{order} "
            f"ON CONFLICT ({key_columns}) DO UPDATE SET amount_minor = {table}.amount_minor + excluded.amount_minor, "
            f"line_count = {table}.line_count + excluded.line_count",
            params,
        )

    def _period(self, day: date) -> tuple[str, str]:
        month = day.replace(day=1)
        self.counts.touched_months.add(month)
        found = self._periods[day] = (day.isoformat(), month.isoformat())
        return found

    def _upsert(self, table: str, key_columns: str, deltas: Mapping[tuple[Any, ...], list[int]]) -> None:
        """Add the deltas to a rollup table. Each update adds to the stored value under the row
        lock, so two imports running at once lose neither's update; on PostgreSQL the keys are
        upserted in sorted order so that such imports lock rows in the same order (no deadlock).
        SQLite writers hold the whole database lock, so there is nothing to order there."""
        rows = [(*key, amount, count) for key, (amount, count) in deltas.items() if amount or count]
        if not rows:
            return
        width = key_columns.count(",") + 3
        on_conflict = (
            f"ON CONFLICT ({key_columns}) DO UPDATE SET amount_minor = {table}.amount_minor + excluded.amount_minor, "
            f"line_count = {table}.line_count + excluded.line_count"
        )
        with connection.cursor() as cursor:
            if self._vendor == "postgresql":
                # One statement for all keys: COPY the deltas into a temporary table shaped like the
                # rollup table and upsert from it. (executemany would send a statement per key.)
                staging = f"equipoise_delta_{table}"
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "
                    f"SELECT {key_columns}, amount_minor, line_count FROM {table} WITH NO DATA"
                )
                with cursor.cursor.copy(f"COPY {staging} ({key_columns}, amount_minor, line_count) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(
                    f"INSERT INTO {table} ({key_columns}, amount_minor, line_count) "
                    f"SELECT {key_columns}, amount_minor, line_count FROM {staging} ORDER BY {key_columns} {on_conflict}"
                )
                cursor.execute(f"TRUNCATE {staging}")
                return
            sql = f"INSERT INTO {table} ({key_columns}, amount_minor, line_count) VALUES ({', '.join(['%s'] * width)}) {on_conflict}"
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, rows[start : start + 5000])

    def _bulk_insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        with connection.cursor() as cursor:
            if self._vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)

    def finish(
        self, *, rows_read: int, rows_skipped: int, rows_rejected: int, skipped_reasons: dict[str, int], started: float
    ) -> ImportBatch:
        """Write the pending rollups and record the batch's counts (call last, inside the same transaction)."""
        self.flush()
        batch = self.batch
        batch.rows_read = rows_read
        batch.lines_created = self.counts.created
        batch.lines_corrected = self.counts.corrected
        batch.lines_unchanged = self.counts.unchanged
        batch.rows_skipped = rows_skipped
        batch.rows_rejected = rows_rejected
        batch.skipped_reasons = skipped_reasons
        batch.duration_ms = int((time.perf_counter() - started) * 1000)
        batch.save()
        return batch


class WrittenIds:
    """A Bloom filter over the (source, external id) keys written so far in this batch: "no" is
    certain, "maybe" is checked in the database. 2**27 bits (16 MiB) with three probes answer a
    wrong "maybe" for under 1% of new ids after ten million lines. Python's string hash is fixed
    for the process, which is all an in-memory filter needs."""

    BITS = 1 << 27

    def __init__(self) -> None:
        self._bits = bytearray(self.BITS // 8)

    def _probes(self, source: str, external_id: str) -> tuple[int, int, int]:
        value = hash((source, external_id)) & 0xFFFF_FFFF_FFFF_FFFF
        first, step, mask = value & 0xFFFF_FFFF, (value >> 32) | 1, self.BITS - 1
        return first & mask, (first + step) & mask, (first + 2 * step) & mask

    def add(self, source: str, external_id: str) -> None:
        bits = self._bits
        for probe in self._probes(source, external_id):
            bits[probe >> 3] |= 1 << (probe & 7)

    def may_hold(self, source: str, external_id: str) -> bool:
        bits = self._bits
        return all(bits[probe >> 3] & (1 << (probe & 7)) for probe in self._probes(source, external_id))


def _pair() -> list[int]:
    return [0, 0]

"""Ingest validated result lines: idempotent by (source, external id), corrections kept as
revisions, seller credits split exactly, and rollups updated in the same transaction.

Callers (file import, API push, demo, benchmark) resolve and validate their input into
:class:`LineInput` values and pass them in chunks; this module owns every write to result lines
and rollups. Writes go through raw ``executemany`` (SQLite) or ``COPY`` (PostgreSQL): an import
writes millions of rows and model instances would dominate its run time.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate, chain, repeat
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar, overload

import numpy as np
import numpy.typing as npt
from django.db import connection

from equipoise.core.money import allocate_minor
from equipoise.results.models import (
    MEASURE_OF_KIND,
    Grain,
    ImportBatch,
    ResultLine,
    ResultLineRevision,
    Rollup,
    RollupTotal,
)
from equipoise.results.rollup_nodes import RollupTree
from equipoise.results.rollup_window import CreditWindow, RolledUp, TreeArrays, roll_up

Hashes = npt.NDArray[np.uint64]
T = TypeVar("T")

# Plain strings, not the enum members: database drivers adapt str, not every str subclass.
MONTH, DAY, OWN_MONTH = str(Grain.MONTH.value), str(Grain.DAY.value), str(Grain.OWN_MONTH.value)
_MEASURE = {str(kind.value): str(measure.value) for kind, measure in MEASURE_OF_KIND.items()}

# Credit rows (written or removed) summed between two rollup flushes in a deferred batch: the
# window costs 80 bytes a row until it is summed, and a key the window's rows share is upserted once.
# A million lines flushed in two halves upserted 2.63M rollup rows for 1.79M keys; in one, 1.79M.
FLUSH_ROWS = 1_000_000
# Credit rows held before they are written, then written sorted by (seller, day). Files list
# results in any order, so rows written as they come put each of a seller's lines on a page of its
# own: at 10M lines a team's lines over a year sat on 13,000 pages, which a cold cache read in
# seconds. Sorted per 200k rows, a seller's lines come in runs of about 40 (a page or two each).
LINE_BUFFER_ROWS = 200_000
# At the start and near the end of a source, held rows are written whenever the reader has
# nothing ready, at least this many at a time (see Ingestor.idle): so that the database has work
# from the first rows on, and little is left to write once the source ends.
IDLE_WRITE_ROWS = 20_000
# SQLite: an import expected to bring at least this many credit rows, and at least as many as the
# table holds, sets the lines' (customer, day) index aside and builds it again before it commits
# (Ingestor._set_aside_index). Inserted row by row, that index's entries land on random pages; built
# once, they are sorted: a million rows written in 2.9 s + 0.65-0.9 s for the build, against 4.8 s.
SET_ASIDE_ROWS = LINE_BUFFER_ROWS
# SQLite: the page cache, in KiB, while that index is built. The sorter holds as much as the page
# cache in memory before it spills sorted runs to temporary files: with the import's 128 MB, the
# build beside the window's sums took the importing process to 907 MiB at 10M lines (with the
# reading process's 124 MiB, over the 1 GiB goal). With 16 MB a million rows' build took 0.65 s
# against 0.8-0.9 s, and 32 MB of memory against 172 MB.
INDEX_BUILD_CACHE_KIB = 16_384
# SQLite: rollup rows added per statement (as many as its limit of variables allows, if fewer). The
# statement's cost is mostly binding values and stepping it once per row: 1.6M rows upserted a
# thousand to a statement took 3.5-4.3 s against 6.1-6.9 s one at a time.
ROLLUP_ROWS_PER_STATEMENT = 1_000
# SQLite's page cache for an importing connection, in KiB (see Ingestor.__init__).
SQLITE_CACHE_KIB = 131_072
# PostgreSQL: fewer rollup rows than this are upserted without sampling them (see
# Ingestor._add_staged); a sample of so few says little, and their time is small either way. Above it,
# about this many are sampled (an index look-up each: 0.2 s).
MERGE_ABOVE_ROWS = 20_000
MERGE_SAMPLE_ROWS = 20_000

ROLLUP_KEY_COLUMNS = "node_id, grain, measure, period, region_id, product_line_id, product_application_id, motion, currency"
TOTAL_KEY_COLUMNS = "node_id, grain, measure, period, motion, currency"

LINE_COLUMNS = (
    "source", "external_id", "seller_id", "share_bp", "kind", "measure", "occurred_on", "currency", "line_amount_minor",
    "amount_minor", "customer_id", "region_id", "product_line_id", "product_application_id", "motion", "batch_id", "version",
    "fingerprint",
)  # fmt: skip
_LINE_AT = {name: position for position, name in enumerate(LINE_COLUMNS)}
_KEY = itemgetter(_LINE_AT["source"], _LINE_AT["external_id"])
_FINGERPRINT = itemgetter(_LINE_AT["fingerprint"])


class LineInput(NamedTuple):
    """One validated result line. ``credits`` are (seller id, share in basis points) summing to 10,000.

    A named tuple, not a dataclass: an import makes one per row and, reading in a second process
    (:mod:`.importing.forked`), pickles each one there and unpickles it here. A tuple is built in a
    third of the time a frozen dataclass takes (whose ``__init__`` sets each field through
    ``object.__setattr__``), and unpickled in a fifth."""

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
    # The fingerprint, when whoever made the line computed it already (the file import's fast
    # path, in the process that reads the file); "" to have it computed here.
    digest: str = ""

    def fingerprint(self) -> str:
        """A hash of the line's content: stored with the line, so that the same line again is
        recognised as unchanged and a different one as a correction. Never change what goes in."""
        if self.digest:
            return self.digest
        return content_digest(
            self.kind, self.occurred_on.isoformat(), self.currency, self.amount_minor, self.customer_id, self.region_id,
            self.product_line_id, self.product_application_id, self.motion, credits_text(self.credits),
        )  # fmt: skip


@functools.lru_cache(maxsize=200_000)  # a file has a few splits per seller, repeated on every line
def credits_text(credits: tuple[tuple[int, int], ...]) -> str:
    """How a line's credits are written into its fingerprint."""
    return str(sorted(credits) if len(credits) > 1 else credits)


def content_digest(
    kind: str, day: str, currency: str, amount: int, customer: int, region: int, line: int, application: int | None, motion: str,
    credits: str,
) -> str:  # fmt: skip
    """The fingerprint of a line's content; ``day`` in ISO format, ``credits`` as :func:`credits_text` writes them."""
    content = f"{kind}|{day}|{currency}|{amount}|{customer}|{region}|{line}|{application or 0}|{motion}|{credits}"
    return hashlib.blake2b(content.encode(), digest_size=16).hexdigest()


def credit_rows(
    lines: Sequence[LineInput],
    *,
    batch_id: int,
    version: int,
    rows: list[tuple[Any, ...]],
    day_text: Callable[[date], str] = date.isoformat,
) -> tuple[list[str], list[int] | None]:
    """Append the lines' credit rows (LINE_COLUMNS order) to ``rows``: one per seller credited, the
    amount split exactly. Returns each line's fingerprint and, when a line has several credits, how
    many rows each line has (None when every line has one)."""
    measure_of = _MEASURE
    append = rows.append
    fingerprints: list[str] = []
    add_fingerprint = fingerprints.append
    counts: list[int] | None = None
    days: dict[date, str] = {}  # a file's lines fall on a few hundred days
    for position, line in enumerate(lines):
        # One unpacking, not thirteen attribute reads: a million lines' rows are built in half the time.
        (
            _, source, external_id, kind, occurred_on, currency, amount_minor, customer_id, region_id, product_line_id, application,
            motion, credits, digest,
        ) = line  # fmt: skip
        day = days.get(occurred_on)
        if day is None:
            day = days[occurred_on] = day_text(occurred_on)
        fingerprint = digest or line.fingerprint()
        add_fingerprint(fingerprint)
        measure = measure_of[kind]
        if len(credits) == 1:
            ((seller_id, share),) = credits
            append(
                (
                    source, external_id, seller_id, share, kind, measure, day, currency, amount_minor, amount_minor, customer_id,
                    region_id, product_line_id, application, motion, batch_id, version, fingerprint,
                )
            )  # fmt: skip
            if counts is not None:
                counts.append(1)
            continue
        if counts is None:
            counts = [1] * position
        counts.append(len(credits))
        parts = allocate_minor(amount_minor, [share for _, share in credits])
        for (seller_id, share), part in zip(credits, parts, strict=True):
            append(
                (
                    source, external_id, seller_id, share, kind, measure, day, currency, amount_minor, part, customer_id, region_id,
                    product_line_id, application, motion, batch_id, version, fingerprint,
                )
            )  # fmt: skip
    return fingerprints, counts


class PreparedLines(NamedTuple):
    """New lines turned into their credit rows (version 1) by the process that read them: a file
    import's reading process (:mod:`.importing.forked`) sends these, and :meth:`Ingestor.ingest_prepared`
    holds the rows for writing as they are. Plain tuples pickle and unpickle in a fifth of the time
    :class:`LineInput` values take, and the importing process has no row left to build. A line
    found to exist already is turned back into a :class:`LineInput` (:meth:`inputs`)."""

    rows: list[tuple[Any, ...]]
    line_rows: list[int]  # each line's row in its file
    counts: list[int] | None  # credit rows of each line (consecutive); None when one each

    @classmethod
    def of(cls, lines: Sequence[LineInput], *, batch_id: int) -> PreparedLines:
        rows: list[tuple[Any, ...]] = []
        _, counts = credit_rows(lines, batch_id=batch_id, version=1, rows=rows)
        return cls(rows, [line.row for line in lines], counts)

    def firsts(self) -> list[tuple[Any, ...]]:
        """Each line's first credit row."""
        if self.counts is None:
            return self.rows
        return [self.rows[start] for start in accumulate(self.counts[:-1], initial=0)]

    def inputs(self) -> list[LineInput]:
        at, rows, lines = 0, self.rows, []
        for row, count in zip(self.line_rows, self.counts or repeat(1), strict=False):
            first = rows[at]
            lines.append(
                LineInput(
                    row=row, source=first[0], external_id=first[1], kind=first[4], occurred_on=date.fromisoformat(first[6]),
                    currency=first[7], amount_minor=first[8], customer_id=first[10], region_id=first[11], product_line_id=first[12],
                    product_application_id=first[13], motion=first[14],
                    credits=tuple((credit[2], credit[3]) for credit in rows[at : at + count]), digest=first[17],
                )
            )  # fmt: skip
            at += count
        return lines


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

    def __init__(self, *, batch: ImportBatch, defer_rollups: bool = False, unread: Callable[[], float | None] | None = None) -> None:
        """``unread``, where the caller knows it, says what share (0 to 1) of the source is still to
        be read: near the end, held rows are then written while the reader is busy (:meth:`idle`),
        and the window is summed once at the end rather than once more for the last few rows."""
        if not connection.in_atomic_block:
            raise RuntimeError("Ingestor writes a batch all or nothing: use it inside transaction.atomic().")
        self.batch = batch
        self.counts = IngestCounts()
        self._tree = TreeArrays.of(RollupTree.load())
        self._periods: dict[date, str] = {}  # day -> ISO text
        self._ordinals: dict[str, int] = {}  # ISO text -> ordinal
        self._vendor = connection.vendor
        # Rows of this batch that repeat an external id an earlier chunk of the same batch wrote:
        # same content (``repeats``) or different content (``conflicts``). Callers drain them.
        # Found through the database, asked only for the ids a Bloom filter of what this batch
        # wrote may hold, so memory does not grow with the batch and new ids cost no look-up.
        self._written = WrittenIds()
        self.repeats: list[int] = []
        self.conflicts: list[tuple[int, str]] = []  # (row, external id)
        # Every credit row written, and every one a correction removes (negated), goes into the
        # window; flush() sums it into rollup rows (see rollup_window) and upserts them. With
        # defer_rollups that happens every FLUSH_ROWS rows and in finish() (same transaction), so a
        # key touched by many chunks costs one upsert per flush, not one per chunk. Without it,
        # each ingest() call leaves the rollups up to date.
        self._defer_rollups = defer_rollups
        self._unread = unread
        self._received = 0  # credit rows handed over so far, to estimate those to come from ``unread``
        self._written_rows = 0  # credit rows written so far
        self._window = CreditWindow()
        self._line_rows: list[tuple[Any, ...]] = []  # credit rows not yet written (see LINE_BUFFER_ROWS)
        self._pending: dict[tuple[str, str], tuple[str, int, int]] = {}  # their lines: fingerprint, version, batch
        # Whether a source had lines before this batch: if not, only this batch can have written
        # an id of it, and the Bloom filter says which ids need a look-up.
        self._source_had_lines: dict[str, bool] = {}
        # SQLite: whether the first write has decided on setting the (customer, day) index aside,
        # and the statement that builds it again in complete() when it did. Only with deferred
        # rollups, whose caller must finish() the batch to have its rollups at all.
        self._set_aside_decided = self._vendor != "sqlite" or not defer_rollups
        self._set_aside_sql: str | None = None
        if self._vendor == "sqlite":
            # Index pages for a million random (seller, day) and (customer, day) keys do not fit
            # SQLite's default 2 MB cache; 128 MB for this connection halves the insert time
            # (256 MB was no faster for a million lines).
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")

    def ingest(self, lines: Sequence[LineInput]) -> None:
        keys = [(line.source, line.external_id) for line in lines]
        fresh: Sequence[LineInput] = lines
        if len(set(keys)) != len(keys):
            fresh, fresh_keys = [], []
            in_chunk: set[tuple[str, str]] = set()
            for line, key in zip(lines, keys, strict=True):
                if key in in_chunk:
                    self.counts.repeated += 1  # callers report repeats inside a chunk; here they are no-ops
                    continue
                in_chunk.add(key)
                fresh.append(line)
                fresh_keys.append(key)
            keys = fresh_keys
        if not fresh:
            return
        hashes = WrittenIds.hashes(keys)
        existing = self._existing(keys, hashes)
        new_lines: list[LineInput] = []
        new_at: list[int] = []
        corrections: list[tuple[LineInput, str, int]] = []
        for position, line in enumerate(fresh):
            previous = existing.get(keys[position]) if existing else None
            if previous is None:
                new_lines.append(line)
                new_at.append(position)
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
        if corrections:
            self._apply_corrections(corrections)
        if new_lines:
            self._insert(new_lines, version=1)
            self.counts.created += len(new_lines)
            self._written.add(hashes if len(new_at) == len(keys) else hashes[new_at])
        self._held()

    def ingest_prepared(self, prepared: PreparedLines) -> None:
        """:meth:`ingest` for lines already turned into credit rows where they were read. When every
        line is new (the common case), their rows are held as they are; otherwise (a line repeated
        within the chunk or stored already) the chunk goes through :meth:`ingest`."""
        if not prepared.rows:
            return
        firsts = prepared.firsts()
        keys = list(map(_KEY, firsts))
        if len(set(keys)) != len(keys):
            self.ingest(prepared.inputs())
            return
        hashes = WrittenIds.hashes(keys)
        if self._existing(keys, hashes):
            self.ingest(prepared.inputs())
            return
        batch_id = self.batch.pk
        self._pending.update(zip(keys, zip(map(_FINGERPRINT, firsts), repeat(1), repeat(batch_id)), strict=True))
        ordinals = self._ordinals
        for text in {row[6] for row in firsts}.difference(ordinals):
            self._period(date.fromisoformat(text))
        self._line_rows.extend(prepared.rows)
        self._received += len(prepared.rows)
        self.counts.created += len(keys)
        self._written.add(hashes)
        self._held()

    def _held(self) -> None:
        """After a chunk: write the held lines once there are enough, and sum the window when due.

        A full window is summed now unless the rest of the source fits in a quarter more: then
        complete() sums it all at once, rather than adding a second time to keys just written (a
        million lines' last 2% cost a second flush of 0.3 s on SQLite, up to 1.9 s on PostgreSQL).
        The window stays bounded whatever the estimate says: about 1.25 × FLUSH_ROWS at most."""
        if len(self._line_rows) >= LINE_BUFFER_ROWS:
            self._write_lines()
        if not self._defer_rollups:
            self.flush()
            return
        if len(self._window) >= FLUSH_ROWS:
            to_come = self._rows_to_come()
            if to_come is None or len(self._window) + len(self._line_rows) + to_come > FLUSH_ROWS + FLUSH_ROWS // 4:
                self.flush()

    def idle(self) -> None:
        """The source has nothing ready yet: write the held rows now, at least IDLE_WRITE_ROWS of
        them, if they are at least as many as all the rows written before (the source's first
        rows), or in its last stretch (less than LINE_BUFFER_ROWS still to come).

        The first rows: PostgreSQL's backend, which sets the pace of its imports, would otherwise
        wait for a full buffer before it has anything to do (about 2 s of a million-line import);
        runs that double in length start it at once and reach full length after a few. The last:
        up to LINE_BUFFER_ROWS held when the source ends are written after it, on the path to the
        commit (1.2-1.8 s). In between, rows are written in full runs of LINE_BUFFER_ROWS, sorted."""
        held = len(self._line_rows)
        if held < IDLE_WRITE_ROWS:
            return
        if held >= self._written_rows:
            self._write_lines()  # the first runs early, each at least as long as all before it
            return
        to_come = self._rows_to_come()
        if to_come is not None and to_come < LINE_BUFFER_ROWS:
            self._write_lines()

    def _rows_to_come(self) -> int | None:
        """Credit rows the source is still expected to hand over, from the share of it read so far;
        None where the caller did not say."""
        unread = self._unread() if self._unread is not None else None
        if unread is None or unread >= 1 or not self._received:
            return None
        share = max(unread, 0.0)
        return int(self._received * share / (1 - share))

    def flush(self) -> None:
        """Write the held lines and add the window's credit rows to the rollups: call it before
        reading lines or rollups inside the same transaction (:meth:`complete` does the same, and
        builds again an index set aside for the batch)."""
        self._write_lines()
        self._add_rolled(self._roll_up())

    def complete(self) -> None:
        """Write everything held, build again an index set aside for the batch, and add the window
        to the rollups: the batch's writes are then complete. :meth:`finish` calls it; a caller that
        writes the batch inside a savepoint calls it there, before releasing the savepoint."""
        if self._vendor == "postgresql":
            # The last held rows go to the backend on a thread while the window, theirs included,
            # is summed here: psycopg lets go of the GIL while it waits on the server.
            self._add_rolled(self._write_lines(beside=self._roll_up))
            return
        self._write_lines()
        if self._set_aside_sql is None:
            self._add_rolled(self._roll_up())
        else:
            self._add_rolled(self._build_set_aside_index_while(self._roll_up))

    def _roll_up(self) -> RolledUp | None:
        """The window summed, and emptied; None when it holds nothing."""
        if not len(self._window):
            return None
        rolled = roll_up(self._window, self._tree)
        self._window.clear()
        return rolled

    def _add_rolled(self, rolled: RolledUp | None) -> None:
        """Add summed rollup rows to the tables."""
        if rolled is None:
            return
        lock_rollups()
        if self._vendor == "postgresql":
            with connection.cursor() as cursor:
                self._add_summed(cursor, Rollup._meta.db_table, ROLLUP_KEY_COLUMNS, rolled, dimensions=True)
                self._add_summed(cursor, RollupTotal._meta.db_table, TOTAL_KEY_COLUMNS, rolled, dimensions=False)
            return
        self._upsert(Rollup._meta.db_table, ROLLUP_KEY_COLUMNS, rolled.rollups())
        self._upsert(RollupTotal._meta.db_table, TOTAL_KEY_COLUMNS, rolled.totals())

    def forget(self) -> None:
        """Drop what was held or written but not yet summed, and the counts: for a caller whose
        savepoint around the writes was rolled back."""
        self._window.clear()
        self._line_rows.clear()
        self._pending.clear()
        self.counts = IngestCounts()

    # -- reads ---------------------------------------------------------------------------------

    def _existing(self, keys: Sequence[tuple[str, str]], hashes: Hashes) -> dict[tuple[str, str], tuple[str, int, int]]:
        """Fingerprint, version and batch of the lines that exist already, by (source, external id):
        held lines from memory, written ones from the database. A source with lines from before
        this batch is looked up for every key; otherwise only keys the Bloom filter may hold."""
        had_lines, pending = self._source_had_lines, self._pending
        for source in {source for source, _ in keys}:
            if source not in had_lines:
                had_lines[source] = ResultLine.objects.filter(source=source).exists()
        if any(had_lines[source] for source, _ in keys):
            maybe = self._written.may_hold(hashes)
            candidates = [key for key, may in zip(keys, maybe.tolist(), strict=True) if may or had_lines[key[0]]]
        else:
            candidates = [keys[position] for position in np.flatnonzero(self._written.may_hold(hashes)).tolist()]
        by_source: dict[str, list[str]] = defaultdict(list)
        found: dict[tuple[str, str], tuple[str, int, int]] = {}
        for key in candidates:
            held = pending.get(key)
            if held is not None:
                found[key] = held
            else:
                by_source[key[0]].append(key[1])
        table = ResultLine._meta.db_table
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
        """Hold the lines' credit rows for writing; :meth:`_write_lines` writes them and adds them to the window."""
        batch_id = self.batch.pk
        periods = self._periods
        for day in {line.occurred_on for line in lines}.difference(periods):
            self._period(day)
        held = len(self._line_rows)
        fingerprints, _ = credit_rows(lines, batch_id=batch_id, version=version, rows=self._line_rows, day_text=periods.__getitem__)
        self._received += len(self._line_rows) - held
        keys = ((line.source, line.external_id) for line in lines)
        self._pending.update(zip(keys, zip(fingerprints, repeat(version), repeat(batch_id)), strict=True))

    @overload
    def _write_lines(self) -> None: ...
    @overload
    def _write_lines(self, *, beside: Callable[[], T]) -> T | None: ...
    def _write_lines(self, *, beside: Callable[[], T] | None = None) -> T | None:
        """Write the held credit rows, sorted by seller and day (see LINE_BUFFER_ROWS), and add
        them to the window a column at a time (a row at a time costs three times as much).

        ``beside`` (PostgreSQL): work that does not touch the database, run here while the rows
        are copied on a thread; its result is returned (and ``beside()`` alone, with nothing held)."""
        if not self._line_rows:
            return beside() if beside is not None else None
        rows = self._line_rows
        self._line_rows = []
        at = _LINE_AT

        def column(name: str) -> list[Any]:
            position = at[name]
            return [row[position] for row in rows]

        sellers, days = column("seller_id"), column("occurred_on")
        ordinals = self._ordinals
        day_ordinals = [ordinals[text] for text in days]
        order = np.lexsort((np.array(day_ordinals, dtype=np.int64), np.array(sellers, dtype=np.int64))).tolist()
        self._written_rows += len(rows)
        if not self._set_aside_decided:
            self._set_aside_decided = True
            self._set_aside_index(len(rows))
        window = self._window
        window.extend(
            person=sellers,
            day=day_ordinals,
            measure=window.codes("measure", column("measure")),
            region=column("region_id"),
            product_line=column("product_line_id"),
            product_application=[application or 0 for application in column("product_application_id")],
            motion=window.codes("motion", column("motion")),
            currency=window.codes("currency", column("currency")),
            amount=column("amount_minor"),
            count=[1] * len(rows),
        )
        ordered = [rows[position] for position in order]
        result = None
        if beside is None:
            self._bulk_insert(ResultLine._meta.db_table, LINE_COLUMNS, ordered)
        else:
            assert self._vendor == "postgresql"
            raw = connection.connection  # psycopg's connection: Django's wrapper belongs to this thread
            result = _beside(lambda: _copy_rows(raw, ResultLine._meta.db_table, LINE_COLUMNS, ordered), beside, name="equipoise-lines-copy")
        self._pending.clear()
        self.counts.touched_sellers.update(sellers)
        return result

    def _apply_corrections(self, corrections: list[tuple[LineInput, str, int]]) -> None:
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
            window = self._window
            for row in credits:  # taken out of the rollups with the next flush
                self.counts.touched_sellers.add(row.seller_id)
                self.counts.touched_months.add(row.occurred_on.replace(day=1))
                window.append(
                    row.seller_id, row.occurred_on.toordinal(), window.code("measure", row.measure), row.region_id,
                    row.product_line_id, row.product_application_id or 0, window.code("motion", row.motion),
                    window.code("currency", row.currency), -row.amount_minor, -1,
                )  # fmt: skip
        ResultLineRevision.objects.bulk_create(revisions, batch_size=1000)
        ResultLine.objects.filter(pk__in=[row.pk for rows in old_rows.values() for row in rows]).delete()
        by_version: dict[int, list[LineInput]] = defaultdict(list)
        for line, _, version in corrections:
            by_version[version + 1].append(line)
        for version, lines in by_version.items():
            self._insert(lines, version=version)
        self.counts.corrected += len(corrections)

    def _period(self, day: date) -> str:
        self.counts.touched_months.add(day.replace(day=1))
        text = self._periods[day] = day.isoformat()
        self._ordinals[text] = day.toordinal()
        return text

    def _upsert(self, table: str, key_columns: str, slices: Iterable[list[tuple[Any, ...]]]) -> None:
        """Add (key..., amount, count) rows, given a slice at a time, to a rollup table. Each update
        adds to the stored value, under :func:`lock_rollups`, so two imports running at once lose
        neither's update."""
        with connection.cursor() as cursor:
            if self._vendor == "postgresql":
                self._add_staged(cursor, table, key_columns, slices)
                return
            width = key_columns.count(",") + 3
            per = max(1, min(ROLLUP_ROWS_PER_STATEMENT, _sqlite_variable_limit() // width))
            value, conflict = f"({', '.join(['%s'] * width)})", _adding_on_conflict(table, key_columns)
            insert = f"INSERT INTO {table} ({key_columns}, amount_minor, line_count) VALUES"
            several, one = f"{insert} {', '.join([value] * per)} {conflict}", f"{insert} {value} {conflict}"
            for rows in slices:
                whole = len(rows) - len(rows) % per
                if whole:
                    cursor.executemany(several, [list(chain.from_iterable(rows[start : start + per])) for start in range(0, whole, per)])
                if whole < len(rows):
                    cursor.executemany(one, rows[whole:])

    @staticmethod
    def _add_staged(cursor: Any, table: str, key_columns: str, slices: Iterable[list[tuple[Any, ...]]]) -> None:
        """PostgreSQL: COPY every slice into a temporary table shaped like the rollup table, then add
        it to the table in one statement (executemany would send a statement per key)."""
        staging = f"equipoise_delta_{table}"
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "
            f"SELECT {key_columns}, amount_minor, line_count FROM {table} WITH NO DATA"
        )
        staged = 0
        with cursor.cursor.copy(f"COPY {staging} ({key_columns}, amount_minor, line_count) FROM STDIN") as copy:
            for rows in slices:
                staged += len(rows)
                for row in rows:
                    copy.write_row(row)
        if staged:
            Ingestor._add_from(cursor, table, key_columns, staging, "*", [], staged)
        cursor.execute(f"TRUNCATE {staging}")

    @staticmethod
    def _add_summed(cursor: Any, table: str, key_columns: str, rolled: RolledUp, *, dimensions: bool) -> None:
        """PostgreSQL: the flush's sums for one table, COPYed in binary straight from their numpy
        columns — the currency as a rank, decoded by the statement that adds them — into a temporary
        table, then added in one statement. No Python value is made per row: 1.6M rollup rows staged row by
        row took 1.7-1.9 s, and by binary COPY 0.8 s."""
        merged = rolled.merged(dimensions=dimensions)
        if merged is None:
            return
        if merged.amount.dtype == object:  # sums beyond int64, which the table cannot store either: its error
            Ingestor._add_staged(cursor, table, key_columns, rolled.decoder.rows(merged, size=50_000, dimensions=dimensions))
            return
        names = [name.strip() for name in key_columns.split(",")]
        staging = f"equipoise_ranks_{table}"
        types = {"period": "date", **dict.fromkeys(("grain", "measure", "motion", "currency"), "smallint")}
        columns = ", ".join(f"{name} {types.get(name, 'bigint')}" for name in [*names, "amount_minor", "line_count"])
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ({columns}) ON COMMIT DROP")
        values = [merged.columns[_MERGED_COLUMN.get(name, name)] for name in names] + [merged.amount, merged.count]
        values[names.index("period")] = values[names.index("period")] - _PG_EPOCH
        formats = [_BINARY_FORMAT[types.get(name, "bigint")] for name in names] + [_BINARY_FORMAT["bigint"]] * 2
        with cursor.cursor.copy(f"COPY {staging} FROM STDIN (FORMAT BINARY)") as copy:
            for chunk in binary_copy(values, formats):
                copy.write(chunk)
        decoded = ", ".join("(%s::text[])[currency + 1] AS currency" if name == "currency" else name for name in names)
        select = f"{decoded}, amount_minor, line_count"
        Ingestor._add_from(cursor, table, key_columns, staging, select, [rolled.currencies], len(merged.count))
        cursor.execute(f"TRUNCATE {staging}")

    @staticmethod
    def _add_from(cursor: Any, table: str, key_columns: str, staging: str, select: str, params: list[Any], staged: int) -> None:
        """Add what ``SELECT select FROM staging`` gives (the table's key columns, amount and count;
        ``params`` the select list's parameters) to the table: MERGE when a sample says most keys
        are new, an upsert otherwise."""
        keys = [name.strip() for name in key_columns.split(",")]
        match = " AND ".join(f"target.{name} = delta.{name}" for name in keys)
        source = f"(SELECT {select} FROM {staging})"
        if staged >= MERGE_ABOVE_ROWS and Ingestor._mostly_new(cursor, table, staging, select, params, match, staged):
            # An upsert tries to insert each row first; a new key costs it twice what MERGE pays,
            # whose one join of the deltas to the table finds the keys that exist (1.6M new rollup
            # rows: 23 s against 12 s). Where the keys exist, the upsert is the cheaper (1.6M: 48 s
            # against 59 s). MERGE is not safe against a concurrent insert of the same key, but
            # every writer of the rollups holds lock_rollups().
            cursor.execute(
                f"MERGE INTO {table} AS target USING {source} AS delta ON {match} "
                "WHEN MATCHED THEN UPDATE SET amount_minor = target.amount_minor + delta.amount_minor, "
                "line_count = target.line_count + delta.line_count "
                f"WHEN NOT MATCHED THEN INSERT ({key_columns}, amount_minor, line_count) "
                f"VALUES ({', '.join(f'delta.{name}' for name in keys)}, delta.amount_minor, delta.line_count)",
                params,
            )
        else:
            cursor.execute(
                f"INSERT INTO {table} ({key_columns}, amount_minor, line_count) "
                f"SELECT {key_columns}, amount_minor, line_count FROM {source} AS delta {_adding_on_conflict(table, key_columns)}",
                params,
            )

    @staticmethod
    def _mostly_new(cursor: Any, table: str, staging: str, select: str, params: list[Any], match: str, staged: int) -> bool:
        """Whether most staged keys are new to the table, judged from about MERGE_SAMPLE_ROWS of them.
        Where they are (a first load, new days), MERGE adds them faster; it needs PostgreSQL 15."""
        if connection.pg_version < 150000:  # type: ignore[attr-defined]
            return False
        share = min(100.0, 100.0 * MERGE_SAMPLE_ROWS / staged)  # of the staging table's pages
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM {table} AS target WHERE {match})) "
            f"FROM (SELECT {select} FROM {staging} TABLESAMPLE SYSTEM (%s) REPEATABLE (0)) AS delta",
            [*params, share],
        )
        sampled, existing = cursor.fetchone()
        return bool(sampled) and existing * 2 < sampled

    def _bulk_insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if self._vendor == "postgresql":
            _copy_rows(connection.connection, table, columns, rows)
            return
        placeholders = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)

    def _set_aside_index(self, held: int) -> None:
        """SQLite, deferred rollups, at the batch's first write: when it is expected to bring at
        least SET_ASIDE_ROWS credit rows and at least as many as the lines table holds, drop the
        (customer, day) index for the rest of the transaction; :meth:`complete` builds it again
        before the commit.

        Only on SQLite, where DDL is part of the transaction: readers keep the snapshot they started
        from, index included, and a batch that fails or is rolled back (to a savepoint too) leaves
        the index as it was. PostgreSQL would lock the table against every reader until the commit.
        Nothing the import reads goes through this index: repeats and corrections are looked up by
        (source, external id)."""
        expected = held + (self._rows_to_come() or 0)
        if expected < SET_ASIDE_ROWS:
            return
        table = ResultLine._meta.db_table
        name = next(index.name for index in ResultLine._meta.indexes if index.fields == ["customer", "occurred_on"])
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT max(rowid) FROM "{table}"')  # the row count's bound, read from the B-tree's edge
            if expected < (cursor.fetchone()[0] or 0):
                return
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name])
            found = cursor.fetchone()
            if found is None or not found[0].startswith("CREATE INDEX "):
                return
            cursor.execute(f'DROP INDEX "{name}"')
        self._set_aside_sql = found[0].replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)

    def _build_set_aside_index_while(self, work: Callable[[], T]) -> T:
        """Build the index :meth:`_set_aside_index` dropped, as it was, on a thread over this
        connection, while ``work`` runs here; ``work``'s result once both are done.

        The SQLite driver lets go of the GIL while it steps a statement, and CREATE INDEX is one step
        (0.65 s for a million rows), so summing the window with numpy goes on beside it. IF NOT
        EXISTS: a savepoint rolled back has restored the index."""
        assert self._set_aside_sql is not None
        sql, self._set_aside_sql = self._set_aside_sql, None
        raw = connection.connection  # the DB-API connection: Django's wrapper belongs to this thread
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{INDEX_BUILD_CACHE_KIB}")  # the sorter's memory (see INDEX_BUILD_CACHE_KIB)
        try:
            return _beside(lambda: raw.execute(sql), work, name="equipoise-index-build")
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")

    def finish(
        self, *, rows_read: int, rows_skipped: int, rows_rejected: int, skipped_reasons: dict[str, int], started: float
    ) -> ImportBatch:
        """Write the pending rollups and record the batch's counts (call last, inside the same transaction)."""
        self.complete()
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


# The rollup columns of a merged table (see RolledUp.merged) by the table's column names.
_MERGED_COLUMN = {
    "node_id": "node",
    "region_id": "region",
    "product_line_id": "product_line",
    "product_application_id": "product_application",
}
# PostgreSQL's binary COPY: each value big-endian; a date is days since 2000-01-01.
_BINARY_FORMAT = {"bigint": ">i8", "smallint": ">i2", "date": ">i4"}
_PG_EPOCH = date(2000, 1, 1).toordinal()
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_COPY_TRAILER = b"\xff\xff"


def binary_copy(columns: Sequence[npt.NDArray[Any]], formats: Sequence[str], *, rows: int = 100_000) -> Iterator[bytes]:
    """Integer columns (no NULLs) as PostgreSQL's binary COPY data, ``rows`` rows to a chunk: each
    row is a field count and, per value, its length and its bytes — a fixed layout, so numpy
    writes a chunk as one structured array. ``formats`` are numpy's big-endian integer types."""
    fields: list[tuple[str, str]] = [("fields", ">i2")]
    for position, (column, form) in enumerate(zip(columns, formats, strict=True)):
        limits = np.iinfo(np.dtype(form))
        if len(column) and (int(column.min()) < limits.min or int(column.max()) > limits.max):
            raise ValueError(f"Column {position} does not fit {form}.")
        fields += [(f"length{position}", ">i4"), (f"value{position}", form)]
    layout = np.dtype(fields)
    yield _COPY_HEADER
    total = len(columns[0]) if columns else 0
    for start in range(0, total, rows):
        block = np.empty(min(rows, total - start), dtype=layout)
        block["fields"] = len(columns)
        for position, (column, form) in enumerate(zip(columns, formats, strict=True)):
            block[f"length{position}"] = np.dtype(form).itemsize
            block[f"value{position}"] = column[start : start + rows]
        yield block.tobytes()
    yield _COPY_TRAILER


def _sqlite_variable_limit() -> int:
    """How many values one SQLite statement may bind (999 before SQLite 3.32, 32,766 since)."""
    return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def _adding_on_conflict(table: str, key_columns: str) -> str:
    """The upsert's conflict clause: a key that exists has the new amount and count added to it."""
    return (
        f"ON CONFLICT ({key_columns}) DO UPDATE SET amount_minor = {table}.amount_minor + excluded.amount_minor, "
        f"line_count = {table}.line_count + excluded.line_count"
    )


# Any constant shared by every writer of rollups; "EQPSROLL" in ASCII.
_ROLLUP_LOCK = 0x45515053524F4C4C


def lock_rollups() -> None:
    """Take the rollup tables for the rest of the transaction: on PostgreSQL a transaction-level
    advisory lock, so a second import (or rebuild) writes its rollups after the first commits.
    Upserts alone would lose no update either, but two imports locking the same rows in different
    orders could deadlock; taking turns costs the second import its wait and nothing else. SQLite
    serialises writers by itself. The lock is re-entrant within the transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ROLLUP_LOCK])


# Fewer new lines than this, or than a tenth of those stored, leave the planner's statistics to
# autovacuum (whose own threshold is a tenth).
ANALYZE_AFTER_LINES = 10_000


def refresh_statistics(lines_written: int) -> None:
    """After a commit that wrote many lines, on PostgreSQL: ANALYZE the lines and rollups. The
    planner's statistics otherwise describe the tables before the import until autovacuum gets
    round to them, and a dashboard opened straight after a large first import is planned as if
    the tables were empty (a scan of every rollup for twenty rows). About 3 s at 10M lines."""
    if connection.vendor != "postgresql" or lines_written < ANALYZE_AFTER_LINES:
        return
    tables = (ResultLine._meta.db_table, Rollup._meta.db_table, RollupTotal._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [tables[0]])
        (known,) = cursor.fetchone()
        if known >= 0 and lines_written < known / 10:  # -1: never analyzed
            return
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _copy_rows(raw: Any, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY rows into a PostgreSQL table through psycopg's connection ``raw``."""
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _beside(task: Callable[[], Any], work: Callable[[], T], *, name: str) -> T:
    """Run ``task`` on a thread while ``work`` runs here; ``work``'s result once both are done, or
    the first error of either (``task``'s raised here). For a database task on this connection's
    DB-API object beside work that does not touch the database."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            task()
        except BaseException as error:  # raised in the caller's thread, once joined
            failed.append(error)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    try:
        result = work()
    finally:
        thread.join()
    if failed:
        raise failed[0]
    return result


class WrittenIds:
    """A Bloom filter over the (source, external id) keys written so far in this batch: "no" is
    certain, "maybe" is checked in the database. 2**27 bits (16 MiB) with three probes answer a
    wrong "maybe" for under 1% of new ids after ten million lines. Keys go in and are asked about
    a chunk at a time, as arrays of their hashes (:meth:`hashes`); Python's string hash is fixed
    for the process, which is all an in-memory filter needs."""

    BITS = 1 << 27

    def __init__(self) -> None:
        self._bits = np.zeros(self.BITS // 8, dtype=np.uint8)

    @staticmethod
    def hashes(keys: Sequence[tuple[str, str]]) -> Hashes:
        return np.fromiter(map(hash, keys), dtype=np.int64, count=len(keys)).view(np.uint64)

    def _probes(self, hashes: Hashes) -> list[Hashes]:
        first, step, mask = hashes & np.uint64(0xFFFF_FFFF), (hashes >> np.uint64(32)) | np.uint64(1), np.uint64(self.BITS - 1)
        return [(first + np.uint64(k) * step) & mask for k in range(3)]

    def add(self, hashes: Hashes) -> None:
        bits = self._bits
        for probe in self._probes(hashes):
            np.bitwise_or.at(bits, probe >> np.uint64(3), np.left_shift(1, probe & np.uint64(7)).astype(np.uint8))

    def may_hold(self, hashes: Hashes) -> npt.NDArray[np.bool_]:
        bits = self._bits
        found = np.ones(len(hashes), dtype=np.bool_)
        for probe in self._probes(hashes):
            found &= (bits[probe >> np.uint64(3)] >> (probe & np.uint64(7)).astype(np.uint8)) & np.uint8(1) == 1
        return found

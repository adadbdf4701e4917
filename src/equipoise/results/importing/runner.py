"""One import of result lines, from a file or an API payload: every row is validated to the end and
the batch is written in one transaction.

The whole import — the batch record, its lines, rollups, created customers/products/sellers and
issues — commits together, so a process killed at any point leaves all of it or none of it. The lines
go into a savepoint inside that transaction: an all-or-nothing batch with any invalid row rolls the
savepoint back and commits only the batch record (status rejected) and its issues.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from equipoise.core.errors import ApplicationError
from equipoise.results.importing import report
from equipoise.results.importing.lines import CanonicalLine, Problem, RowInvalid, RowSkipped, truncate
from equipoise.results.importing.resolve import LineResolver
from equipoise.results.importing.writer import BackgroundWriter, Outcome
from equipoise.results.ingest import Ingestor, LineInput, PreparedLines
from equipoise.results.models import BatchMode, BatchStatus, ImportBatch, ImportIssue

# The error report keeps this many problems; past it the batch says how many more there were.
CHUNK_LINES = 5_000

Progress = Callable[[int, int], None]


class _RollBack(Exception):
    """Leaves the lines' savepoint without writing them (an all-or-nothing batch with errors)."""


@dataclass
class RowOutcome:
    """What the source says about one row before resolution: a line, a skip or problems (with the
    line as far as it could be read, if it could, for its references to be checked as well)."""

    row: int
    line: CanonicalLine | None = None
    skipped: str = ""
    problems: list[Problem] = field(default_factory=list)
    cells: Any = None  # the row as read, described for the report only when it is quarantined


@dataclass
class Tally:
    rows_read: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    issues: list[ImportIssue] = field(default_factory=list)
    problems_found: int = 0


class BatchRun:
    """Runs one batch: ``rows`` yields a :class:`RowOutcome` for each row, or the row's
    :class:`~equipoise.results.ingest.LineInput` when the source resolved it already; ``column``
    names a field for the report."""

    def __init__(
        self,
        *,
        batch: ImportBatch,
        resolver: LineResolver,
        column: Callable[[str], str],
        chunk_lines: int = CHUNK_LINES,
        progress: Callable[[], None] | None = None,
        describe: Callable[[Any], dict[str, Any]] | None = None,
        background: bool = False,
        unread: Callable[[], float | None] | None = None,
    ) -> None:
        """``background``: write chunks on a second thread while rows are read (see
        :mod:`.writer`); only when resolving rows never touches the database. ``unread``: the share
        of the source not read yet, where known (see :class:`~equipoise.results.ingest.Ingestor`)."""
        self.describe = describe
        self.unread = unread
        self._ingestor: Ingestor | None = None
        self.background = background
        self._writer: BackgroundWriter | None = None
        self.batch = batch
        self.resolver = resolver
        self.column = column
        self.chunk_lines = chunk_lines
        self.progress = progress
        self.tally = Tally()
        self.quarantine = batch.mode == BatchMode.QUARANTINE

    def _problem(self, row: int, problems: list[Problem], cells: Any) -> None:
        tally = self.tally
        tally.rows_rejected += 1
        raw = None
        if self.quarantine and self.describe is not None and cells is not None and len(tally.issues) < report.ISSUE_CAP:
            raw = self.describe(cells)
        for position, problem in enumerate(problems):
            tally.problems_found += 1
            if len(tally.issues) >= report.ISSUE_CAP:
                continue
            tally.issues.append(
                ImportIssue(
                    batch=self.batch,
                    row_number=row,
                    column=truncate(self.column(problem.field) if problem.field else "", 120),
                    value=truncate(problem.value, 500),
                    reason=truncate(problem.reason, 500),
                    quarantined_row=raw if (self.quarantine and position == 0) else None,
                )
            )

    def run(self, rows: Iterable[RowOutcome | LineInput | PreparedLines], *, started: float) -> ImportBatch:
        """Validate every row, ingest the valid ones, and record the batch (call inside ``transaction.atomic``)."""
        batch = self.batch
        ingestor = self._ingestor = Ingestor(batch=batch, defer_rollups=True, unread=self.unread)
        fatal: ApplicationError | None = None
        writer = self._writer = BackgroundWriter(ingestor) if self.background else None
        try:
            with transaction.atomic():
                try:
                    self._stream(iter(rows), ingestor)
                    if writer is not None:
                        self._report(writer.close())
                except BaseException:
                    if writer is not None:
                        writer.stop()  # before the savepoint it writes in is rolled back
                    raise
                ingestor.complete()  # rollups inside the savepoint: a rejected batch rolls them back too
                if self.tally.rows_rejected and not self.quarantine:
                    raise _RollBack
        except _RollBack:
            pass
        except ApplicationError as error:
            # The file cannot be read as a whole (binary, missing column, a broken line): nothing
            # of it is kept, in either mode.
            fatal = error
        tally = self.tally
        rejected = fatal is not None or (tally.rows_rejected > 0 and not self.quarantine)
        if fatal is not None:
            # Not a rejected row: the file itself. Its rows are counted as read, skipped and
            # rejected as far as they went; the batch says why it stopped.
            batch.failure = truncate(fatal.message, 2000)
            tally.issues.insert(
                0,
                ImportIssue(
                    batch=batch,
                    row_number=fatal.row or 0,
                    column=truncate(fatal.field if fatal.field and fatal.field != "file" else "", 120),
                    value="",
                    reason=truncate(fatal.message, 500),
                ),
            )
            tally.problems_found += 1
        if tally.problems_found > len(tally.issues):
            listed, more = len(tally.issues), tally.problems_found - len(tally.issues)
            tally.issues.insert(0, ImportIssue(batch=batch, row_number=0, reason=report.CAP_NOTE.format(listed=listed, more=more)))
        batch.problems_found = tally.problems_found
        if rejected:
            ingestor.forget()  # the savepoint rolled the lines back
        batch.status = BatchStatus.REJECTED if rejected else BatchStatus.COMMITTED
        ImportIssue.objects.bulk_create(tally.issues, batch_size=1000)
        return ingestor.finish(
            rows_read=tally.rows_read,
            rows_skipped=tally.rows_skipped,
            rows_rejected=tally.rows_rejected,
            skipped_reasons=dict(sorted(tally.skipped.items(), key=lambda item: (-item[1], item[0]))),
            started=started,
        )

    def idle(self) -> None:
        """The source has no rows ready (a reading process is still at work): let the ingest use the
        time (see :meth:`~equipoise.results.ingest.Ingestor.idle`)."""
        if self._ingestor is not None and self._writer is None and self._writing:
            self._ingestor.idle()

    def _ingest(self, ingestor: Ingestor, chunk: list[LineInput] | PreparedLines) -> None:
        """Write a chunk (or hand it to the writer); report what written chunks said."""
        if isinstance(chunk, PreparedLines):  # from a reading process, where there is no writer thread
            assert self._writer is None
            ingestor.ingest_prepared(chunk)
        elif self._writer is not None:
            self._writer.submit(chunk)
            self._report(self._writer.outcomes())
            return
        else:
            ingestor.ingest(chunk)
        self._report([(list(ingestor.repeats), list(ingestor.conflicts))])
        ingestor.repeats.clear()
        ingestor.conflicts.clear()

    def _report(self, outcomes: list[Outcome]) -> None:
        """Rows repeating a line an earlier chunk wrote: skipped when the same, reported when not."""
        tally = self.tally
        for repeats, conflicts in outcomes:
            for _ in repeats:
                tally.rows_skipped += 1
                tally.skipped["duplicate row"] += 1
            for row, external_id in conflicts:
                problem = Problem(
                    "external_id", truncate(external_id), "An earlier row of this file has the same external id with different values."
                )
                self._problem(row, [problem], None)

    @property
    def _writing(self) -> bool:
        """Whether lines are still written: not once an all-or-nothing batch has an invalid row
        (the rest is only validated)."""
        return not (self.tally.rows_rejected and not self.quarantine)

    def _stream(self, rows: Iterator[RowOutcome | LineInput | PreparedLines], ingestor: Ingestor) -> None:
        tally = self.tally
        resolve = self.resolver.resolve
        progress = self.progress
        chunk: list[LineInput] = []
        append = chunk.append
        read = 0
        try:
            for outcome in rows:
                if isinstance(outcome, PreparedLines):  # lines the reading process made credit rows of
                    read += len(outcome.line_rows)
                    if progress is not None:
                        progress()
                    if self._writing:
                        if chunk:  # lines before them first: the first of two rows with one id wins
                            self._ingest(ingestor, chunk)
                            chunk = []
                            append = chunk.append
                        self._ingest(ingestor, outcome)
                    continue
                read += 1
                if read % 1000 == 0 and progress is not None:
                    progress()
                if isinstance(outcome, LineInput):
                    append(outcome)  # resolved by the source (the file import's fast path)
                else:
                    if outcome.skipped:
                        tally.rows_skipped += 1
                        tally.skipped[outcome.skipped] += 1
                        continue
                    if outcome.problems or outcome.line is None:
                        problems = outcome.problems
                        if problems and outcome.line is not None:  # what resolving it would find too, all in one report
                            problems = [*problems, *self.resolver.problems_beside(outcome.line, problems)]
                        self._problem(outcome.row, problems, outcome.cells)
                        continue
                    try:
                        append(resolve(outcome.line))
                    except RowSkipped as skip:
                        tally.rows_skipped += 1
                        tally.skipped[skip.reason] += 1
                        continue
                    except RowInvalid as invalid:
                        self._problem(outcome.row, invalid.problems, outcome.cells)
                        continue
                if len(chunk) >= self.chunk_lines:
                    # All-or-nothing and already invalid: the rest is only validated, not written.
                    if self._writing:
                        self._ingest(ingestor, chunk)
                    chunk = []
                    append = chunk.append
        finally:
            tally.rows_read = read  # also when the file turns out unreadable halfway
        if chunk and self._writing:
            self._ingest(ingestor, chunk)
        if progress is not None:
            progress()


def start_clock() -> float:
    return time.perf_counter()

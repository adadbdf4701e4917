"""Import one file through a mapping: hash, duplicate check, then one transaction (see :mod:`.runner`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone

from equipoise.core.errors import ApplicationError
from equipoise.org.selectors import company_get
from equipoise.results.importing import fastpath
from equipoise.results.importing.config import MappingConfig
from equipoise.results.importing.fastpath import fast_path
from equipoise.results.importing.forked import ForkedRows, collection_paused
from equipoise.results.importing.forked import available as forked_reading_available
from equipoise.results.importing.lines import RowInvalid, RowSkipped
from equipoise.results.importing.readers import Cell, CsvRows, RowReader, SourceFile, open_rows
from equipoise.results.importing.resolve import LineResolver, Policy
from equipoise.results.importing.rows import RowMapper
from equipoise.results.importing.runner import CHUNK_LINES, BatchRun, Progress, RowOutcome, start_clock
from equipoise.results.ingest import LineInput, PreparedLines, refresh_statistics
from equipoise.results.models import BatchChannel, BatchStatus, ColumnMapping, ImportBatch, ImportIssue


def policy_of(config: MappingConfig) -> Policy:
    return Policy(
        create_customers=config.unknown_customers == "create",
        create_products=config.unknown_products == "create",
        create_sellers=config.unknown_sellers == "create",
        default_region=config.defaults.get("region", ""),
        default_product_line=config.defaults.get("product_line", ""),
        application_lines=tuple(config.application_lines.items()),
        seller_fallback_to_owner=config.seller_fallback_to_owner,
    )


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def earlier_import(*, sha256: str, mapping_name: str) -> ImportBatch | None:
    return (
        ImportBatch.objects.filter(file_sha256=sha256, mapping_name=mapping_name, status=BatchStatus.COMMITTED, channel=BatchChannel.FILE)
        .order_by("-created_at", "-id")
        .first()
    )


def _rows(reader: RowReader, mapper: RowMapper, resolver: LineResolver) -> Iterator[RowOutcome | LineInput]:
    """The file's rows: a line for a row the fast path reads, an outcome (to resolve) for the others."""
    read = mapper.read
    # The fast path reads text cells; XLSX rows hold numbers and dates, and take the slow path.
    fast = fast_path(mapper=mapper, resolver=resolver) if fastpath.ENABLED and isinstance(reader, CsvRows) else None
    row: int | None = None
    for row, cells in reader:
        if fast is not None and (line := fast(row, cells)) is not None:
            yield line
            continue
        try:
            canonical = read(row, cells)
        except RowSkipped as skip:
            yield RowOutcome(row=row, skipped=skip.reason)
        except RowInvalid as invalid:
            yield RowOutcome(row=row, line=invalid.line, problems=invalid.problems, cells=cells)
        else:
            yield RowOutcome(row=row, line=canonical, cells=cells)
    if row is None:
        raise ApplicationError("The file has a header but no rows.", field="file", row=2)


def pack_lines(batch_id: int) -> Callable[[list[Any]], list[Any]]:
    """For the reading process: each run of lines in a chunk becomes one :class:`PreparedLines`
    (their credit rows, built there); other outcomes (skips, problems) stay as they are, in order."""

    def pack(items: list[Any]) -> list[Any]:
        packed: list[Any] = []
        run: list[LineInput] = []
        for item in items:
            if type(item) is LineInput:
                run.append(item)
                continue
            if run:
                packed.append(PreparedLines.of(run, batch_id=batch_id))
                run = []
            packed.append(item)
        if run:
            packed.append(PreparedLines.of(run, batch_id=batch_id))
        return packed

    return pack


def import_file(
    *,
    actor: Any,
    source: SourceFile,
    mapping: ColumnMapping,
    mode: str,
    source_name: str,
    force: bool = False,
    progress: Progress | None = None,
    chunk_lines: int = CHUNK_LINES,
    on_batch: Callable[[ImportBatch], None] | None = None,
) -> ImportBatch:
    """Import ``source`` through ``mapping``; returns the batch (committed, rejected or duplicate).

    ``on_batch`` is called with the finished batch inside the transaction that commits it (a
    background job records itself done there, so it is done exactly when its batch exists)."""
    started = start_clock()
    config = MappingConfig.from_dict(mapping.config)
    common = {
        "channel": BatchChannel.FILE,
        "source": source_name,
        "file_name": source.name[:255],
        "file_sha256": source.sha256,
        "mapping_name": mapping.name,
        "mode": mode,
        "created_by": _user(actor),
    }
    if not force:
        earlier = earlier_import(sha256=source.sha256, mapping_name=mapping.name)
        if earlier is not None:
            with transaction.atomic():
                batch = ImportBatch.objects.create(status=BatchStatus.DUPLICATE, **common)
                ImportIssue.objects.create(
                    batch=batch,
                    row_number=0,
                    reason=f"This file was already imported with the mapping {mapping.name!r} as batch #{earlier.pk} "
                    f"on {timezone.localtime(earlier.created_at):%Y-%m-%d %H:%M}; nothing was imported. To import it anyway, "
                    "tick “Import even if this file was imported before” (from the command line: --force).",
                )
                if on_batch is not None:
                    on_batch(batch)
            return batch
    with transaction.atomic():
        batch = ImportBatch.objects.create(status=BatchStatus.COMMITTED, **common)
        reader: RowReader | None = None
        mapper: RowMapper | None = None
        resolver = LineResolver(source=source_name, policy=policy_of(config))

        policy = resolver.policy
        # Rows are read while earlier ones are written, unless resolving them may write (customers,
        # products or sellers created on the way): in a second process where this one can fork
        # (see .forked), else on a second thread.
        concurrent = not (policy.create_customers or policy.create_products or policy.create_sellers)
        forked: ForkedRows | None = None
        if concurrent:
            resolver.directory.people()  # loaded now: reading then needs no database

        def rows() -> Iterator[RowOutcome | LineInput | PreparedLines]:
            nonlocal reader, mapper, forked
            reader = open_rows(source, delimiter=config.delimiter, sheet=config.sheet)
            try:
                mapper = RowMapper(config=config, header=reader.header, default_currency=company_get().reporting_currency)
                if concurrent and forking:
                    opened, mapped = reader, mapper
                    forked = ForkedRows(
                        lambda: _rows(opened, mapped, resolver),
                        position=lambda: opened.bytes_read,
                        pack=pack_lines(batch.pk),
                        chunk_rows=chunk_lines,  # what the ingest is handed at a time, as in-process
                        on_idle=run.idle,
                    )
                    yield from forked
                else:
                    yield from _rows(reader, mapper, resolver)
            finally:
                reader.close()

        def describe(cells: list[Cell]) -> dict[str, Any]:
            assert reader is not None and mapper is not None
            return mapper.cells_as_dict(reader.header, cells)

        def column(field: str) -> str:
            return mapper.column(field) if mapper is not None else field

        def report_progress() -> None:
            if progress is not None and reader is not None:
                progress(forked.position if forked is not None else reader.bytes_read, source.size)

        def unread() -> float | None:
            """The share of the file the reading process has not read yet, as of its last chunk."""
            if forked is None or not source.size:
                return None
            return max(0.0, 1.0 - forked.position / source.size)

        forking = concurrent and forked_reading_available()
        run = BatchRun(
            batch=batch,
            resolver=resolver,
            column=column,
            chunk_lines=chunk_lines,
            progress=report_progress,
            describe=describe,
            background=concurrent and not forking,
            unread=unread,
        )
        with collection_paused() if forking else contextlib.nullcontext():
            batch = run.run(rows(), started=started)
        if on_batch is not None:
            on_batch(batch)
    refresh_statistics(batch.lines_created + batch.lines_corrected)
    if progress is not None:
        progress(source.size, source.size)
    return batch

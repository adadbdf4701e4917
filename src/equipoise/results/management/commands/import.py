"""``equipoise import FILE --mapping NAME``: import result lines from a CSV or XLSX file.

Shows a progress bar (bytes read of the file) on stderr, then a summary on stdout: lines created,
corrected and unchanged, rows skipped by reason, rows rejected, and the first problems. Exits with 2
when the batch is rejected or the input is invalid; a file imported before (same content, same
mapping) imports nothing and exits 0 unless ``--force``.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any, cast

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from equipoise.core.commands import ApplicationCommand
from equipoise.core.errors import ApplicationError
from equipoise.results.importing.report import problem_count, without_cap_note
from equipoise.results.models import BatchStatus, ImportBatch
from equipoise.results.services import mappings_all, results_import_file

FIRST_ERRORS = 20


# Seconds between two redraws of the progress bar.
PROGRESS_REDRAW_SECONDS = 0.1


def stage(done: int, total: int) -> str:
    """What the progress bar says: reading the file, then, once every row is read, the seconds
    spent writing what is left and the rollups, and committing (the bar would otherwise sit at
    100% as if nothing were happening)."""
    return "Saving" if total and done >= total else "Importing"


class Command(ApplicationCommand):
    help = (
        "Import result lines (bookings, invoices, credit notes, renewals, churn) from a CSV or XLSX file through a column "
        "mapping. The whole file is one transaction: all-or-nothing (default) imports nothing if any row is invalid; "
        "quarantine imports the valid rows and records the others. See docs/importing.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="The CSV or XLSX file.")
        parser.add_argument("--mapping", help="The column mapping's name (see --list-mappings).")
        parser.add_argument("--mode", choices=["all-or-nothing", "quarantine"], default="all-or-nothing")
        parser.add_argument("--source", help="The source the lines belong to (default: the mapping's source).")
        parser.add_argument("--force", action="store_true", help="Import even if the same file was imported with this mapping.")
        parser.add_argument("--user", help="Record the import as made by this user (default: the command line).")
        parser.add_argument("--list-mappings", action="store_true", help="List the column mappings and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=cast(IO[str], self.stdout), highlight=False, soft_wrap=True, markup=False)
        if options["list_mappings"]:
            self._list(console)
            return
        if not options["file"] or not options["mapping"]:
            raise ApplicationError("Give a file and a mapping: equipoise import FILE --mapping NAME (or --list-mappings).", field="file")
        actor = None
        if options.get("user"):
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise ApplicationError(f"There is no user named {options['user']!r}.", field="user")
        progress_console = Console(file=sys.stderr, highlight=False)
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
        # Redrawn from the import's own callback, not by rich's refresh thread: the import reads the
        # file in a forked process only when this process runs a single thread (see forked.py).
        with Progress(
            *columns, console=progress_console, transient=True, disable=not progress_console.is_terminal, auto_refresh=False
        ) as bar:
            task = bar.add_task(stage(0, 1), total=None)
            drawn = 0.0

            def progress(done: int, total: int) -> None:
                nonlocal drawn
                now = time.monotonic()
                redraw = now - drawn >= PROGRESS_REDRAW_SECONDS or done >= total
                bar.update(task, description=stage(done, total), completed=done, total=total, refresh=redraw)
                if redraw:
                    drawn = now

            batch = results_import_file(
                actor=actor,
                path_or_file=options["file"],
                mapping_name=options["mapping"],
                mode=options["mode"],
                source=options.get("source"),
                force=options["force"],
                progress=progress,
            )
        self._summary(console, batch)
        if batch.status == BatchStatus.REJECTED:
            raise CommandError(f"Import #{batch.pk} was rejected: nothing was imported.", returncode=2)

    def _list(self, console: Console) -> None:
        table = Table(title="Column mappings", show_lines=False)
        table.add_column("name")
        table.add_column("kind")
        table.add_column("description")
        for mapping in mappings_all():
            table.add_row(mapping.name, "built-in" if mapping.is_preset else "custom", mapping.description)
        console.print(table)

    def _summary(self, console: Console, batch: ImportBatch) -> None:
        console.print(
            f"Import #{batch.pk} of {batch.file_name} with {batch.mapping_name!r} into source {batch.source!r}: "
            f"{batch.get_status_display()}"
        )
        if batch.status == BatchStatus.DUPLICATE:
            for reason in batch.issues.values_list("reason", flat=True):
                console.print(reason)
            return
        console.print(f"  rows read         {batch.rows_read:>10,}")
        console.print(f"  lines created     {batch.lines_created:>10,}")
        console.print(f"  lines corrected   {batch.lines_corrected:>10,}")
        console.print(f"  lines unchanged   {batch.lines_unchanged:>10,}")
        console.print(f"  rows skipped      {batch.rows_skipped:>10,}")
        for reason, count in (batch.skipped_reasons or {}).items():
            console.print(f"    {reason:<30} {count:>8,}")
        console.print(f"  rows rejected     {batch.rows_rejected:>10,}")
        console.print(f"  time              {batch.duration_ms / 1000:>10.1f} s")
        problems = without_cap_note(batch).order_by("row_number", "id")
        issues = list(problems.values_list("row_number", "column", "value", "reason")[:FIRST_ERRORS])
        if issues:
            count = problem_count(batch)
            if len(issues) == count.found:
                console.print(f"Problems ({count.found:,}):")
            else:
                listed = f"the first {count.listed:,}" if count.found > count.listed else "every one"
                console.print(
                    f"First problems ({len(issues):,} of {count.found:,} found; the page /results/imports/{batch.pk}/ lists {listed}):"
                )
            for row, column, value, reason in issues:
                where = f"row {row}" if row else "file"
                detail = f" [{column}]" if column else ""
                shown = f" {value!r}" if value else ""
                console.print(f"  {where}{detail}{shown}: {reason}")

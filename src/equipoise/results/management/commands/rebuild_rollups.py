"""``equipoise rebuild-rollups``: recompute rollups from the result lines and report any difference.

Exit code 0 when the stored rollups were already exact; 1 when differences were found (and, unless
``--check``, repaired). Run it after a reorganisation: a seller's results then belong to another
manager's subtree.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandParser

from equipoise.core.commands import ApplicationCommand
from equipoise.results.rollups import rollups_compare, rollups_rebuild

SHOWN_DIFFERENCES = 20


class Command(ApplicationCommand):
    help = "Recompute the rollups from the result lines, report every difference, and repair them (or only check with --check)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Only report differences; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        differences = rollups_compare() if options["check"] else rollups_rebuild()
        seconds = time.perf_counter() - started
        if not differences:
            self.stdout.write(f"Rollups are exact: nothing to repair ({seconds:.1f} s).")
            return
        verb = "differ" if options["check"] else "differed and were rebuilt"
        self.stdout.write(f"{len(differences):,} rollup cells {verb} ({seconds:.1f} s):")
        for difference in differences[:SHOWN_DIFFERENCES]:
            table, node, grain, measure, period, *rest = difference.key
            where = f"region {rest[0]} line {rest[1]} app {rest[2]} " if table == "rollup" else "all dimensions "
            stored_amount, stored_lines = difference.stored
            expected_amount, expected_lines = difference.expected
            self.stdout.write(
                f"  node {node} {grain} {period} {measure} {where}{rest[-2]} {rest[-1]}: "
                f"stored {stored_amount} ({stored_lines} lines), expected {expected_amount} ({expected_lines} lines)"
            )
        if len(differences) > SHOWN_DIFFERENCES:
            self.stdout.write(f"  … and {len(differences) - SHOWN_DIFFERENCES:,} more.")
        raise SystemExit(1)

"""``equipoise bench allocate|import``: the product's benchmarks, one JSON line each on stdout.

- ``bench allocate``: time quota allocation for a large org and check it reconciles::

    {"bench": "allocate", "sellers": 5000, "buckets": 12, "quota_rows": …, "seconds": 2.1,
     "reconciled": true, "database": "sqlite", …}

- ``bench import --lines N``: time importing an N-line results file into a throwaway database of
  the configured engine, 100 dissection queries, and pandas on the same file::

    {"bench": "import", "lines": 1000000, "import_seconds": …, "lines_per_second": …,
     "query_p50_ms": …, "query_p95_ms": …, "pandas_seconds": …, "import_vs_pandas": …, …}

Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser
from rich.console import Console

from equipoise.core.commands import ApplicationCommand
from equipoise.core.management.commands.demo import positive
from equipoise.core.management.commands.serve import pending_migrations
from equipoise.demo.bench import run_allocation_bench
from equipoise.quotas.models import AllocationMethod


class Command(ApplicationCommand):
    help = (
        "Benchmarks. `bench import --lines N` builds a 5,000-seller, 200,000-customer company and an N-line results file "
        "in a throwaway database of the configured engine (a temporary SQLite directory, or a temporary PostgreSQL "
        "database), times the import, 100 dissection queries and pandas on the same file, and drops it all. "
        "`bench allocate` builds an org of --sellers sellers (teams of 8, managers and, above 8 teams, a "
        "director per region), territories, 12 months of history and an approved 24-month plan with --buckets buckets "
        "(regions × new/renewal/expansion), times quotas.services.quota_allocate alone, checks from the stored rows that "
        "every level reconciles exactly, and prints one JSON line. It works in the configured database (SQLite by "
        "default, or DATABASE_URL) inside one transaction that is always rolled back, so your data is left unchanged; "
        "only pending migrations are applied first. On SQLite it holds the write lock while it runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("benchmark", choices=["allocate", "import"], help="Which benchmark to run.")
        parser.add_argument("--lines", type=positive, default=1_000_000, help="import: result lines in the file (default 1,000,000).")
        parser.add_argument("--customers", type=positive, default=200_000, help="import: customers (default 200,000).")
        parser.add_argument("--queries", type=positive, default=100, help="import: dissection queries to time (default 100).")
        parser.add_argument("--keep", action="store_true", help="import: keep the throwaway database and file (for inspection).")
        parser.add_argument("--phase", choices=["setup", "import", "query"], help=argparse.SUPPRESS)
        parser.add_argument("--workdir", help=argparse.SUPPRESS)
        parser.add_argument("--sellers", type=positive, default=5_000, help="Sellers in the org (default 5000).")
        parser.add_argument("--buckets", type=positive, default=12, help="Plan buckets, regions × 3 motions (default 12).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed for the generated org (default 1).")
        parser.add_argument(
            "--method",
            choices=AllocationMethod.values,
            default=AllocationMethod.HISTORY,
            help="Allocation method (default history, the heaviest: it reads booked result lines per bucket).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=options.get("stderr") or sys.stderr, highlight=False)
        if options["benchmark"] == "import":
            self._import(console, options)
            return
        if pending_migrations():
            with console.status("Applying pending migrations…"):
                call_command("migrate", interactive=False, verbosity=0)
        with console.status("Starting") as status:
            result = run_allocation_bench(
                sellers=options["sellers"],
                buckets=options["buckets"],
                seed=options["seed"],
                method=options["method"],
                status=lambda message: status.update(message),
            )
        self.stdout.write(json.dumps(result))

    def _import(self, console: Console, options: Any) -> None:
        from equipoise.results.bench import run_import_bench, run_phase

        sellers = options["sellers"]
        if options["phase"]:
            result = run_phase(
                options["phase"],
                workdir=Path(options["workdir"]),
                lines=options["lines"],
                sellers=sellers,
                customers=options["customers"],
                seed=options["seed"],
                queries=options["queries"],
            )
        else:
            with console.status("Starting") as status:
                result = run_import_bench(
                    lines=options["lines"],
                    sellers=sellers,
                    customers=options["customers"],
                    seed=options["seed"],
                    queries=options["queries"],
                    keep=options["keep"],
                    status=lambda message: status.update(message),
                )
        self.stdout.write(json.dumps(result))

"""``equipoise bench allocate``: time quota allocation for a large org and check it reconciles.

Prints one JSON line on stdout (progress goes to stderr), for example::

    {"bench": "allocate", "sellers": 5000, "buckets": 12, "quota_rows": …, "seconds": 2.1,
     "reconciled": true, "database": "sqlite", …}
"""

from __future__ import annotations

import json
import sys
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
        "Benchmarks. `bench allocate` builds an org of --sellers sellers (teams of 8, managers and, above 8 teams, a "
        "director per region), territories, 12 months of history and an approved 24-month plan with --buckets buckets "
        "(regions × new/renewal/expansion), times quotas.services.quota_allocate alone, checks from the stored rows that "
        "every level reconciles exactly, and prints one JSON line. It works in the configured database (SQLite by "
        "default, or DATABASE_URL) inside one transaction that is always rolled back, so your data is left unchanged; "
        "only pending migrations are applied first. On SQLite it holds the write lock while it runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("benchmark", choices=["allocate"], help="Which benchmark to run.")
        parser.add_argument("--sellers", type=positive, default=5_000, help="Sellers in the org (default 5000).")
        parser.add_argument("--buckets", type=positive, default=12, help="Plan buckets, regions × 3 motions (default 12).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed for the generated org (default 1).")
        parser.add_argument(
            "--method",
            choices=AllocationMethod.values,
            default=AllocationMethod.HISTORY,
            help="Allocation method (default history, the heaviest: it reads revenue history per bucket).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=options.get("stderr") or sys.stderr, highlight=False)
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

"""``equipoise demo``: migrate, load the demo company once, print the logins, and serve it.

Running it again on the same data directory reuses what is there and duplicates nothing. The
demo logins share one published password, so the command refuses to run outside demo mode
(``equipoise demo`` sets ``EQUIPOISE_DEMO=true`` itself) and never loads on top of other data.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandParser
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from equipoise.core.commands import ApplicationCommand
from equipoise.core.errors import ApplicationError
from equipoise.core.management.commands.serve import DEFAULT_THREADS, add_server_arguments, serve_forever, server_url
from equipoise.demo import catalog
from equipoise.demo.loader import LOAD_STEPS, LoadResult, load_demo
from equipoise.demo.spec import DEFAULT_CUSTOMERS, DEFAULT_SEED, DEFAULT_SELLERS

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it as YYYY-MM-DD, for example 2026-11-26.") from error


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number.") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1.")
    return value


class Command(ApplicationCommand):
    help = (
        "Set up the demo company (Northwind Data & Internet Services) in the data directory and serve it. "
        "Migrates, loads the company if the database has none yet (running again reuses it), prints the URL and logins, "
        "then serves with waitress; --no-serve stops after loading."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_server_arguments(parser)
        parser.add_argument("--no-serve", action="store_true", help="Stop after loading; do not start the server.")
        parser.add_argument("--sellers", type=positive, default=DEFAULT_SELLERS, help=f"Sellers to generate (default {DEFAULT_SELLERS}).")
        parser.add_argument("--customers", type=positive, default=DEFAULT_CUSTOMERS, help=f"Customers (default {DEFAULT_CUSTOMERS}).")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed: the same seed and --as-of give the same company.")
        parser.add_argument(
            "--as-of",
            type=iso_date,
            default=None,
            metavar="YYYY-MM-DD",
            help="The demo's today (default: today's date). The plans start with the fiscal year containing it, the 24 months "
            "of history end just before, and results run up to this day.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise ApplicationError(
                "The demo creates logins with a published password, so it runs only in demo mode: "
                "start it as `equipoise demo` (which sets EQUIPOISE_DEMO=true), not against a production configuration.",
                field="EQUIPOISE_DEMO",
            )
        console = Console(file=options.get("stderr") or sys.stderr, highlight=False)
        with console.status("Preparing the database…"):
            call_command("migrate", interactive=False, verbosity=0)
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console, transient=True
        ) as progress:
            task = progress.add_task("Checking for the demo company", total=len(LOAD_STEPS))

            def report(done: int, label: str) -> None:
                progress.update(task, completed=done, description=label)

            started = time.perf_counter()
            result = load_demo(
                as_of=options["as_of"], seed=options["seed"], sellers=options["sellers"], customers=options["customers"], progress=report
            )
            progress.update(task, completed=len(LOAD_STEPS))
        self._print_summary(result, url=server_url(options["host"], options["port"]), seconds=time.perf_counter() - started)
        if options["host"] not in _LOCAL_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            self.stderr.write(
                f"note: the server listens on {options['host']}, but only {', '.join(settings.ALLOWED_HOSTS)} are allowed host names; "
                "set ALLOWED_HOSTS to the name or address you will open it by."
            )
        if options["no_serve"]:
            return
        serve_forever(host=options["host"], port=options["port"], threads=DEFAULT_THREADS, stdout=self.stdout)

    def _print_summary(self, result: LoadResult, *, url: str, seconds: float) -> None:
        counts = result.counts
        if result.created:
            self.stdout.write(f"Loaded the demo company {result.company} in {seconds:.1f} s.")
        else:
            self.stdout.write(f"The demo company {result.company} is already in {_where()}: reusing it, nothing loaded.")
        self.stdout.write(
            f"  {counts['sellers']:,} sellers, {counts['customers']:,} customers, {counts['contracts']:,} contracts, "
            f"{counts['result_lines']:,} result lines in {counts['import_batches']:,} weekly imports"
            + (f" up to {result.results_until:%d %b %Y}" if result.results_until else "")
            + f", {counts['plans']} plans, {counts['quota_rows']:,} quota cells, {counts['commits']:,} commits."
        )
        self.stdout.write(f"Open {url} and sign in as one of:")
        width = max((len(login.username) for login in result.logins), default=0)
        for login in result.logins:
            self.stdout.write(f"  {login.username:<{width}}  {login.full_name}, {login.description}")
        self.stdout.write(f"Password for every demo login: {catalog.PASSWORD}")


def _where() -> str:
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        return str(database["NAME"])
    return f"database {database.get('NAME', '')}"

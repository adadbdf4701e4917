"""The import benchmark: a large company, a results file, a timed import, dissection queries, pandas.

``equipoise bench import --lines N`` runs in a throwaway database of the configured engine, so the
user's data is never touched and a multi-gigabyte benchmark leaves nothing behind:

- SQLite (no ``DATABASE_URL``): a temporary data directory;
- PostgreSQL: a temporary database ``<name>_bench_<pid>`` next to the configured one, dropped after.

Each phase runs in its own process so the import's peak memory is measured alone:

1. ``setup``: migrate, build a company of 5,000 sellers (teams of 8 under managers, directors and a
   VP) and 200,000 customers, and write an N-line CSV in the Equipoise format (streamed);
2. ``import``: ``results_import_file`` with the ``equipoise`` mapping, rollups included (timed);
3. ``query``: 100 random dissection queries through the tracking selectors straight after the import
   (``query_cold_*``), then 100 more (``query_*``), each timed; then pandas reading the same file and
   aggregating it by seller × month × motion (timed).
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction

from equipoise.core.access import Role
from equipoise.org.models import Company, Customer, Person, ProductApplication, ProductLine, Region
from equipoise.org.services import rebuild_paths

SELLERS = 5_000
CUSTOMERS = 200_000
TEAM_SIZE = 8
MANAGERS_PER_DIRECTOR = 25
REGIONS = 8
COUNTRIES_PER_REGION = 4
PRODUCT_LINES = 3
APPLICATIONS_PER_LINE = 3
HISTORY_DAYS = 730
FIRST_DAY = date(2025, 1, 1)
MOTIONS = ("new", "renewal", "expansion")
KINDS = ("booking",) * 17 + ("renewal",) * 2 + ("credit_note",)
ACTOR_USERNAME = "bench-admin"
FILE_NAME = "results.csv"

Status = Callable[[str], None]


def _peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# -- phase 1: the company and the file ---------------------------------------------------------------


@transaction.atomic
def build_company(*, sellers: int, customers: int, seed: int) -> None:
    """A VP, directors, managers of 8 sellers, regions with countries, products and customers."""
    rng = random.Random(seed)
    Company.objects.create(name="Bench Co", reporting_currency="EUR")
    user = get_user_model().objects.create_user(username=ACTOR_USERNAME, password=None, is_staff=True, is_superuser=True)
    Person.objects.create(user=user, full_name="Bench Admin", role=Role.ADMIN)
    regions = [Region.objects.create(code=f"R{r}", name=f"Region {r}") for r in range(REGIONS)]
    countries = [
        Region.objects.create(code=f"R{r}C{c}", name=f"Country {r}.{c}", parent=region)
        for r, region in enumerate(regions)
        for c in range(COUNTRIES_PER_REGION)
    ]
    for line_index in range(PRODUCT_LINES):
        line = ProductLine.objects.create(code=f"PL{line_index}", name=f"Line {line_index}")
        for app_index in range(APPLICATIONS_PER_LINE):
            ProductApplication.objects.create(product_line=line, code=f"PL{line_index}A{app_index}", name=f"App {line_index}.{app_index}")
    vp = Person.objects.create(full_name="Bench VP", role=Role.EXECUTIVE)
    managers_needed = -(-sellers // TEAM_SIZE)
    directors = Person.objects.bulk_create(
        [Person(full_name=f"Director {d}", role=Role.MANAGER, manager=vp) for d in range(-(-managers_needed // MANAGERS_PER_DIRECTOR))]
    )
    managers = Person.objects.bulk_create(
        [Person(full_name=f"Manager {m}", role=Role.MANAGER, manager=directors[m // MANAGERS_PER_DIRECTOR]) for m in range(managers_needed)]
    )
    Person.objects.bulk_create(
        [
            Person(
                full_name=f"Seller {s}",
                email=f"seller{s}@bench.example",
                role=Role.SELLER,
                carries_quota=True,
                manager=managers[s // TEAM_SIZE],
            )
            for s in range(sellers)
        ],
        batch_size=2_000,
    )
    rebuild_paths()
    table = Customer._meta.db_table
    rows = [(f"C{n}", f"Customer {n}", False, "mid_market", rng.choice(countries).pk) for n in range(customers)]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} (code, name, is_named_account, segment, home_region_id) VALUES (%s, %s, %s, %s, %s)", rows)


def write_results_file(path: Path, *, lines: int, sellers: int, customers: int, seed: int) -> None:
    """``lines`` result lines in the Equipoise format, streamed to ``path`` (a few lines split 60/40)."""
    rng = random.Random(seed + 1)
    applications = [f"PL{line}A{app}" for line in range(PRODUCT_LINES) for app in range(APPLICATIONS_PER_LINE)]
    days = [(FIRST_DAY + timedelta(days=offset)).isoformat() for offset in range(HISTORY_DAYS)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["external_id", "date", "amount", "customer_code", "product_line", "product_application", "sellers", "shares", "kind", "motion"]
        )
        for n in range(lines):
            application = rng.choice(applications)
            kind = rng.choice(KINDS)
            cents = rng.randrange(10_000, 5_000_000)
            amount = f"{'-' if kind == 'credit_note' else ''}{cents // 100}.{cents % 100:02d}"
            seller = rng.randrange(sellers)
            if n % 50 == 0:
                other = (seller + 1) % sellers
                seller_text, shares = f"seller{seller}@bench.example;seller{other}@bench.example", "60;40"
            else:
                seller_text, shares = f"seller{seller}@bench.example", ""
            motion = "renewal" if kind == "renewal" else rng.choice(MOTIONS)
            writer.writerow(
                [
                    f"B{n}",
                    rng.choice(days),
                    amount,
                    f"C{rng.randrange(customers)}",
                    application[:3],
                    application,
                    seller_text,
                    shares,
                    kind,
                    motion,
                ]
            )


# -- phase 2: the import -------------------------------------------------------------------------------


def timed_import(path: Path) -> dict[str, Any]:
    from equipoise.results.importing import forked
    from equipoise.results.services import results_import_file

    actor = get_user_model().objects.get(username=ACTOR_USERNAME)
    started = time.perf_counter()
    batch = results_import_file(actor=actor, path_or_file=path, mapping_name="equipoise", source="bench")
    seconds = time.perf_counter() - started
    return {
        "import_seconds": round(seconds, 3),
        "status": batch.status,
        "lines_created": batch.lines_created,
        "rows_rejected": batch.rows_rejected,
        "import_peak_rss_mib": _peak_rss_mib(),
        # The process that read the file, where the import forked one (0 otherwise): its resident
        # size, which counts the pages it shares with the importing process (the directory of
        # customers), and its memory of its own, which adds to the importing process's.
        "import_reader_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "import_reader_private_mib": forked.LAST_READER["private_mib"],
    }


# -- phase 3: queries and pandas -----------------------------------------------------------------------


def timed_queries(*, count: int, seed: int) -> dict[str, Any]:
    """``count`` random dissection queries over the tracking selectors, each timed, twice: straight
    after the import (``cold``: the database's caches hold whatever the import left) and then
    another ``count`` as a running server meets them (the headline figures). The slowest are named
    (scope kind, rows, grain, days) so a slow p95 says which view to look at."""
    from equipoise.tracking import selectors
    from equipoise.tracking.bench import TODAY, random_view

    actor = get_user_model().objects.get(username=ACTOR_USERNAME)

    def run(rng: random.Random) -> list[tuple[float, str]]:
        timings: list[tuple[float, str]] = []
        for _ in range(count):
            view = random_view(rng)
            started = time.perf_counter()
            selectors.dissect(actor, view, today=TODAY)
            days = (view.end - view.start).days + 1 if view.start and view.end else 0
            label = f"{view.scope.split(':')[0]} by {view.rows}, {view.grain.value} x {days} days"
            timings.append(((time.perf_counter() - started) * 1000, label))
        return sorted(timings)

    def percentile(timings: list[tuple[float, str]], share: float) -> float:
        return round(timings[max(0, int(len(timings) * share) - 1)][0], 2)

    cold = run(random.Random(seed + 3))
    timings = run(random.Random(seed + 2))
    return {
        "queries": count,
        "query_p50_ms": percentile(timings, 0.5),
        "query_p95_ms": percentile(timings, 0.95),
        "query_max_ms": round(timings[-1][0], 2),
        "query_slowest": [f"{ms:.1f} ms: {label}" for ms, label in reversed(timings[-8:])],
        "query_cold_p50_ms": percentile(cold, 0.5),
        "query_cold_p95_ms": percentile(cold, 0.95),
        "query_cold_max_ms": round(cold[-1][0], 2),
    }


def timed_pandas(path: Path) -> dict[str, Any]:
    try:
        import pandas
    except ImportError:
        return {"pandas_seconds": None, "pandas_note": "pandas is not installed (uv sync installs it with the dev group)"}
    started = time.perf_counter()
    frame = pandas.read_csv(path, usecols=["date", "amount", "sellers", "motion"], dtype={"amount": "string"})
    # Exact like the import: amounts to integer cents, not floats.
    cents = frame["amount"].str.replace(".", "", regex=False).astype("int64")
    frame = frame.assign(cents=cents, month=frame["date"].str.slice(0, 7))
    totals = frame.groupby(["sellers", "month", "motion"], sort=False)["cents"].sum()
    seconds = time.perf_counter() - started
    return {"pandas_seconds": round(seconds, 3), "pandas_groups": len(totals)}


# -- orchestration -----------------------------------------------------------------------------------------


def run_phase(phase: str, *, workdir: Path, lines: int, sellers: int, customers: int, seed: int, queries: int) -> dict[str, Any]:
    """One phase, in this process, against the throwaway database the parent configured."""
    path = workdir / FILE_NAME
    if phase == "setup":
        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        build_company(sellers=sellers, customers=customers, seed=seed)
        write_results_file(path, lines=lines, sellers=sellers, customers=customers, seed=seed)
        return {"setup_seconds": round(time.perf_counter() - started, 3), "file_mib": round(path.stat().st_size / 2**20, 1)}
    if phase == "import":
        return timed_import(path)
    if phase == "query":
        return {**timed_queries(count=queries, seed=seed), **timed_pandas(path)}
    raise ValueError(phase)


def run_import_bench(*, lines: int, sellers: int, customers: int, seed: int, queries: int, keep: bool, status: Status) -> dict[str, Any]:
    """Run the three phases in child processes against a throwaway database; one result dict."""
    database = settings.DATABASES["default"]
    vendor = "postgresql" if "postgresql" in database["ENGINE"] else "sqlite"
    workdir = Path(tempfile.mkdtemp(prefix="equipoise-bench-"))
    env = {**os.environ, "EQUIPOISE_DEMO": "true"}
    bench_db = ""
    if vendor == "postgresql":
        bench_db = f"{database['NAME']}_bench_{os.getpid()}"
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{bench_db}"')
        user = database.get("USER") or ""
        password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
        host = database.get("HOST") or "127.0.0.1"
        port = database.get("PORT") or 5432
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{bench_db}"
    else:
        env.pop("DATABASE_URL", None)
        env["EQUIPOISE_DATA_DIR"] = str(workdir)
    result: dict[str, Any] = {"bench": "import", "lines": lines, "sellers": sellers, "customers": customers, "database": vendor}
    try:
        for phase, label in (("setup", "Building the company and the file"), ("import", "Importing"), ("query", "Querying; pandas")):
            status(f"{label}…")
            command = [
                sys.executable, "-m", "equipoise.cli", "bench", "import", "--phase", phase, "--workdir", str(workdir),
                "--lines", str(lines), "--sellers", str(sellers), "--customers", str(customers), "--seed", str(seed),
                "--queries", str(queries),
            ]  # fmt: skip
            completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
            if completed.returncode != 0:
                raise RuntimeError(f"bench phase {phase} failed:\n{completed.stderr[-4000:]}")
            result.update(json.loads(completed.stdout.strip().splitlines()[-1]))
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
            if bench_db:
                connection.close()
                with connection.cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{bench_db}"')
    seconds = result.get("import_seconds") or 0
    result["lines_per_second"] = round(lines / seconds) if seconds else None
    pandas_seconds = result.get("pandas_seconds")
    result["import_vs_pandas"] = round(seconds / pandas_seconds, 2) if seconds and pandas_seconds else None
    result["goal_import_seconds_per_million"] = 15
    result["import_seconds_per_million"] = round(seconds * 1_000_000 / lines, 2) if seconds else None
    return result

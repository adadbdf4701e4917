"""``equipoise serve``: serve the application with waitress, a production-grade WSGI server.

Loads nothing: settings come from the environment (``DATABASE_URL``, ``SECRET_KEY``,
``ALLOWED_HOSTS``…). Static files are served by the app itself (whitenoise, straight from the
package), so no ``collectstatic`` step is needed. Behind a load balancer or reverse proxy, pass
``--trusted-proxy`` with its address so X-Forwarded-For/-Proto/-Host are believed from it only.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser, OutputWrapper
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from equipoise.core.commands import ApplicationCommand
from equipoise.core.errors import ApplicationError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_THREADS = 8


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number: use a whole number from 1 to 65535.") from error
    if not 1 <= port <= 65_535:
        raise argparse.ArgumentTypeError(f"Port {port} is outside 1 to 65535.")
    return port


def add_server_arguments(parser: CommandParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"Address to listen on (default {DEFAULT_HOST}; 0.0.0.0 for all interfaces).")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"Port to listen on (default {DEFAULT_PORT}).")


def server_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def serve_forever(*, host: str, port: int, threads: int, stdout: OutputWrapper, trusted_proxy: str | None = None) -> None:
    """Print the "serving" line, then block serving requests until interrupted."""
    if threads < 1:
        raise ApplicationError("The server needs at least one thread.", field="threads")
    options: dict[str, Any] = {"host": host, "port": port, "threads": threads}
    if trusted_proxy:
        options["trusted_proxy"] = trusted_proxy
        options["trusted_proxy_headers"] = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}
    if settings.STATIC_ROOT:
        # Whitenoise serves from the apps through finders, but warns on every start when
        # STATIC_ROOT does not exist: an empty directory in the data dir keeps the log clean.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    from waitress.server import create_server

    from equipoise.wsgi import application

    try:
        # Bind first, so "serving" is printed only once the port is really ours.
        server = create_server(application, **options)
    except OSError as error:
        raise ApplicationError(
            f"Cannot listen on {host}:{port}: {error.strerror or error}. Choose another --port or --host.", field="port"
        ) from error
    # Each request thread opens its own connection; release the one migrate and the loader used here
    # (unless a caller, such as a test, still holds a transaction on it).
    if not connections["default"].in_atomic_block:
        connections.close_all()
    stdout.write(f"Equipoise serving on {server_url(host, port)} with {threads} threads (press Ctrl+C to stop)")
    stdout.flush()
    server.run()  # returns on Ctrl+C, after waitress has shut its workers down


def pending_migrations() -> int:
    connection = connections["default"]
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(ApplicationCommand):
    help = "Serve Equipoise with waitress (a production WSGI server). Loads nothing; configure it through the environment."

    def add_arguments(self, parser: CommandParser) -> None:
        add_server_arguments(parser)
        parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help=f"Worker threads (default {DEFAULT_THREADS}).")
        parser.add_argument("--trusted-proxy", default=None, help="Address of a reverse proxy whose X-Forwarded-* headers to trust.")

    def handle(self, *args: Any, **options: Any) -> None:
        waiting = pending_migrations()
        if waiting:
            self.stderr.write(f"warning: {waiting} database migrations are not applied yet; run `equipoise migrate` first.")
        serve_forever(
            host=options["host"],
            port=options["port"],
            threads=options["threads"],
            stdout=self.stdout,
            trusted_proxy=options["trusted_proxy"],
        )

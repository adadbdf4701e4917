"""The ``equipoise`` console script: Django's management commands plus the product's own.

``equipoise demo`` runs in demo mode (generated secret key, local hosts allowed); every other
command uses the environment as configured. Errors the user can fix exit with code 2.
"""

from __future__ import annotations

import os
import sys

HYPHENATED_COMMANDS = {"rebuild-rollups": "rebuild_rollups", "import-job": "import_job"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "equipoise.settings")
    # The demo and the benchmarks build their own data and may run on a machine with no
    # configuration; they may invent a secret key kept in the data directory.
    if len(argv) > 1 and argv[1] in ("demo", "bench"):
        os.environ.setdefault("EQUIPOISE_DEMO", "true")
    # Product commands are spelt with hyphens; Django's command modules cannot be.
    if len(argv) > 1 and argv[1] in HYPHENATED_COMMANDS:
        argv[1] = HYPHENATED_COMMANDS[argv[1]]
    from django.core.management import execute_from_command_line

    from equipoise.core.errors import ApplicationError

    try:
        execute_from_command_line(argv)
    except ApplicationError as error:
        sys.stderr.write(f"error: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()

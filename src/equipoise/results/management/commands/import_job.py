"""``equipoise import-job ID``: run a background import job (started by the upload page).

The upload page starts this command in a process of its own for a large file, with the job's
number; it runs a job that is waiting to start, once. See ``equipoise.results.import_jobs``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from equipoise.core.commands import ApplicationCommand
from equipoise.results.import_jobs import job_run
from equipoise.results.models import ImportJob, JobState


class Command(ApplicationCommand):
    help = "Run a background import job started by the upload page (see docs/importing.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", type=int, help="The job's number.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            job = job_run(options["job"])
        except ImportJob.DoesNotExist:
            raise CommandError(f"There is no import job #{options['job']}.", returncode=2) from None
        self.stdout.write(f"Import job #{job.pk}: {job.get_state_display().lower()}{f' ({job.error})' if job.error else ''}")
        if job.state == JobState.FAILED:
            raise CommandError(f"Import job #{job.pk} failed.", returncode=2)

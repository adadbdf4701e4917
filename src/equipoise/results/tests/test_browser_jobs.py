"""A background import's page in a browser: the progress follows the job through HTMX polling,
and the page moves on to the batch when the job is done."""

from __future__ import annotations

import os
import re
import socket
from typing import Any

import pytest
from conftest import login

from equipoise.results import import_jobs
from equipoise.results.models import ImportJob, JobState
from equipoise.results.services import results_import_file
from equipoise.results.tests.test_import_helpers import csv_bytes, equipoise_row, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_job_page_follows_the_import_then_shows_the_batch(page: Any, live_server: Any, org: Any, catalog: Any, settings: Any, tmp_path):
    settings.DATA_DIR = tmp_path
    job = ImportJob.objects.create(
        created_by=org.admin, file_name="weekly.csv", stored_name="feed.csv", size_bytes=1_000, mapping_name="equipoise",
        state=JobState.RUNNING, pid=os.getpid(), host=socket.gethostname(),
    )  # fmt: skip
    from playwright.sync_api import expect

    with import_jobs._ProgressWriter(job) as progress:
        progress(300, 1_000)
        login(page, live_server, "admin", "correct-horse-battery")
        page.goto(f"{live_server.url}/results/imports/jobs/{job.pk}/")
        bar = page.get_by_role("progressbar", name="Share of the file read")
        expect(bar).to_have_attribute("aria-valuenow", "30")

        progress.written = 0.0  # write the next figure at once
        progress(650, 1_000)
        expect(bar).to_have_attribute("aria-valuenow", "65", timeout=5_000)  # polled, not reloaded
        assert page.url.endswith(f"/results/imports/jobs/{job.pk}/")

        # The job's process commits its batch and records itself done in the same transaction.
        batch = results_import_file(
            actor=org.admin, path_or_file=write(tmp_path, "weekly.csv", csv_bytes([equipoise_row("L1")])), mapping_name="equipoise"
        )
        ImportJob.objects.filter(pk=job.pk).update(state=JobState.DONE, batch=batch)
        page.wait_for_url(re.compile(rf"/results/imports/{batch.pk}/$"), timeout=5_000)
    expect(page.get_by_text(f"Import #{batch.pk}: 1 line created")).to_be_visible()

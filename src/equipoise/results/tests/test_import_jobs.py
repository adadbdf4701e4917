"""Large uploads imported in the background: the job, its page, its progress, its end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.results import import_jobs
from equipoise.results.import_jobs import DIED, access_job_by_id, job_progress, job_run, job_start, uploads_dir
from equipoise.results.models import ImportBatch, ImportJob, JobState, ResultLine
from equipoise.results.tests.test_import_helpers import csv_bytes, equipoise_row, nothing_imported


@pytest.fixture
def background(settings, tmp_path):
    """Every upload in the background, run before the page answers; uploads kept under tmp_path."""
    settings.DATA_DIR = tmp_path
    settings.EQUIPOISE_BACKGROUND_IMPORT_BYTES = 0
    settings.EQUIPOISE_IMPORT_JOBS = "inline"
    return tmp_path


def upload(client, content: bytes, name: str = "big.csv", **data):
    fields = {"mapping": "equipoise", "mode": "all_or_nothing", **data, "file": SimpleUploadedFile(name, content, content_type="text/csv")}
    return client.post(reverse("results:batch-new"), fields)


def left_in_uploads() -> list[str]:
    return sorted(path.name for path in uploads_dir().iterdir() if path.name != "import.lock")


def test_a_large_upload_becomes_a_job_whose_page_leads_to_its_batch(client, org, catalog, background):
    client.force_login(org.admin)
    response = upload(client, csv_bytes([equipoise_row("L1"), equipoise_row("L2", amount="250.00")]), source="weekly")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("results:job", args=[job.pk])
    assert (job.state, job.file_name, job.source, job.created_by, job.error) == (JobState.DONE, "big.csv", "weekly", org.admin, "")
    batch = job.batch
    assert batch is not None
    assert (batch.status, batch.lines_created, batch.source, batch.created_by) == ("committed", 2, "weekly", org.admin)
    assert ResultLine.objects.filter(source="weekly").count() == 2
    assert left_in_uploads() == []  # the upload's copy, its progress and its log are gone
    page = client.get(reverse("results:job", args=[job.pk]), follow=True)
    assert page.redirect_chain == [(reverse("results:batch", args=[batch.pk]), 302)]
    assert "2 lines created, 0 corrected, 0 unchanged, 0 rows skipped." in page.content.decode()
    polled = client.get(reverse("results:job", args=[job.pk]), headers={"HX-Request": "true"})
    assert polled.status_code == 204 and polled["HX-Redirect"] == reverse("results:batch", args=[batch.pk])


def test_a_small_upload_is_still_imported_while_the_page_waits(client, org, catalog, background, settings):
    settings.EQUIPOISE_BACKGROUND_IMPORT_BYTES = 10_000
    client.force_login(org.admin)
    response = upload(client, csv_bytes([equipoise_row("L1")]))
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("results:batch", args=[batch.pk])
    assert not ImportJob.objects.exists()


def test_a_job_whose_file_has_invalid_rows_ends_with_the_rejected_batch(client, org, catalog, background):
    client.force_login(org.admin)
    upload(client, csv_bytes([equipoise_row("L1"), equipoise_row("L2", date="2027-02-30")]))
    job = ImportJob.objects.get()
    assert job.state == JobState.DONE and job.batch.status == "rejected"
    assert nothing_imported()
    page = client.get(reverse("results:job", args=[job.pk]), follow=True).content.decode()
    assert "was rejected: nothing was imported" in page and "is not a date that exists" in page


def test_a_job_for_a_file_imported_before_ends_with_the_duplicate_batch(client, org, catalog, background):
    client.force_login(org.admin)
    content = csv_bytes([equipoise_row("L1")])
    upload(client, content)
    upload(client, content)
    second = ImportJob.objects.order_by("id").last()
    assert second.state == JobState.DONE and second.batch.status == "duplicate"
    assert ResultLine.objects.count() == 1


def test_a_job_that_crashes_fails_keeps_nothing_and_says_so(client, org, catalog, background, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("planted")

    monkeypatch.setattr(import_jobs, "results_import_file", broken)
    client.force_login(org.admin)
    upload(client, csv_bytes([equipoise_row("L1")]))
    job = ImportJob.objects.get()
    assert (job.state, job.batch, job.error) == (JobState.FAILED, None, import_jobs.CRASHED)
    assert job.finished_at is not None and nothing_imported()
    assert not (uploads_dir() / job.stored_name).exists()
    page = client.get(reverse("results:job", args=[job.pk])).content.decode()
    assert "The import failed" in page and "internal error" in page and "hx-trigger" not in page
    listed = client.get(reverse("results:batches")).content.decode()
    assert "Imports in the background" in listed and "internal error" in listed


def test_a_job_that_cannot_read_its_file_fails_with_the_reason(org, catalog, background):
    file = SimpleUploadedFile("x.csv", b"a,b\n1,2\n")
    job = job_start(actor=org.admin, upload=file, file_name="x.csv", mapping_name="equipoise", mode="quarantine")
    assert job.state == JobState.DONE and job.batch.status == "rejected" and nothing_imported()
    assert job.batch.issues.get().reason.startswith("The file lacks the columns 'external_id', 'date'")


def test_wrong_arguments_are_refused_before_a_job_or_a_copy_exists(org, catalog, background):
    file = SimpleUploadedFile("x.csv", csv_bytes([equipoise_row("L1")]))
    with pytest.raises(ApplicationError, match="no mapping named 'nope'"):
        job_start(actor=org.admin, upload=file, file_name="x.csv", mapping_name="nope", mode="all_or_nothing")
    with pytest.raises(ApplicationError, match="at most 64 characters"):
        job_start(actor=org.admin, upload=file, file_name="x.csv", mapping_name="equipoise", mode="all_or_nothing", source="s" * 65)
    with pytest.raises(ApplicationError, match="not all-or-nothing or quarantine"):
        job_start(actor=org.admin, upload=file, file_name="x.csv", mapping_name="equipoise", mode="sometimes")
    assert not ImportJob.objects.exists() and left_in_uploads() == []


def test_an_upload_that_cannot_be_kept_is_an_error_on_the_form(client, org, catalog, background, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "not-a-directory"
    settings.DATA_DIR.write_text("")
    client.force_login(org.admin)
    response = upload(client, csv_bytes([equipoise_row("L1")]))
    assert response.status_code == 200
    assert "The upload could not be kept for importing" in response.content.decode()
    assert not ImportJob.objects.exists() and nothing_imported()


@pytest.mark.parametrize("persona", ["seller", "manager", "finance", "outsider"])
def test_other_roles_cannot_start_or_see_a_job(client, org, catalog, background, persona):
    job = job_start(
        actor=org.admin, upload=SimpleUploadedFile("x.csv", csv_bytes([equipoise_row("L1")])), file_name="x.csv", mapping_name="equipoise",
        mode="all_or_nothing",
    )  # fmt: skip
    client.force_login(getattr(org, persona))
    assert client.get(reverse("results:job", args=[job.pk])).status_code == 404
    assert upload(client, csv_bytes([equipoise_row("L2")])).status_code == 404
    assert ImportJob.objects.count() == 1
    with pytest.raises(NotFound):
        access_job_by_id(getattr(org, persona), job.pk)
    with pytest.raises(AccessDenied, match="may not import"):  # before anything else is looked at
        job_start(actor=getattr(org, persona), upload=SimpleUploadedFile("y.csv", b"x"), file_name="y", mapping_name="x", mode="q")


def queued_job(org, **fields) -> ImportJob:
    stored = "0123abcd.csv"
    (uploads_dir() / stored).write_bytes(csv_bytes([equipoise_row("L1")]))
    values = {"created_by": org.admin, "file_name": "big.csv", "stored_name": stored, "size_bytes": 1_000, "mapping_name": "equipoise"}
    return ImportJob.objects.create(**{**values, **fields})


def test_the_page_of_a_running_job_shows_its_progress_and_polls(client, org, catalog, background, transactional_db):
    # Committed rows (transactional_db): on PostgreSQL progress is written through another connection.
    job = queued_job(org, state=JobState.RUNNING, pid=os.getpid(), host=import_jobs.socket.gethostname())
    with import_jobs._ProgressWriter(job) as progress:
        progress(420, 1_000)
        client.force_login(org.executive)
        html = client.get(reverse("results:job", args=[job.pk])).content.decode()
        assert "Importing big.csv" in html and 'aria-valuenow="42"' in html and "420\xa0bytes of 1000\xa0bytes read" in html
        assert 'hx-trigger="every 1s"' in html
        polled = client.get(reverse("results:job", args=[job.pk]), headers={"HX-Request": "true"})
        assert "HX-Request" in polled["Vary"]  # the page and its card share a URL
        fragment = polled.content.decode()
        assert fragment.lstrip().startswith('<div class="card" id="job-progress"') and "42%" in fragment and "<html" not in fragment
        listed = client.get(reverse("results:batches")).content.decode()
        assert "Importing 42%" in listed
    job.refresh_from_db()
    assert job.state == JobState.RUNNING  # this process is alive: nothing is marked failed


def test_the_page_of_a_waiting_job_says_what_it_waits_for(client, org, catalog, background):
    client.force_login(org.admin)
    starting = queued_job(org)
    assert "Starting the import" in client.get(reverse("results:job", args=[starting.pk])).content.decode()
    assert "Another import is running" not in client.get(reverse("results:job", args=[starting.pk])).content.decode()
    queued_job(org, state=JobState.RUNNING, pid=os.getpid(), host=import_jobs.socket.gethostname())
    html = client.get(reverse("results:job", args=[starting.pk])).content.decode()
    if connection.vendor == "sqlite":  # jobs take turns there
        assert "Another import is running; this one starts when it ends." in html
    else:
        assert "Starting the import" in html
    assert job_progress(starting).percent is None


def test_a_job_whose_process_died_is_marked_failed_with_nothing_kept(client, org, catalog, background):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    job = queued_job(org, state=JobState.RUNNING, pid=ended.pid, host=import_jobs.socket.gethostname())
    client.force_login(org.admin)
    html = client.get(reverse("results:job", args=[job.pk])).content.decode()
    job.refresh_from_db()
    assert (job.state, job.error) == (JobState.FAILED, DIED)
    assert "The import failed" in html and "stopped before it finished" in html
    assert not (uploads_dir() / job.stored_name).exists() and nothing_imported()


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="process command lines are read from /proc")
def test_a_process_number_taken_over_by_another_program_is_not_the_job(org, catalog, background):
    here = import_jobs.socket.gethostname()
    other = subprocess.Popen(["sleep", "30"])
    job_like = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "import-job", "1"])
    try:
        taken_over = queued_job(org, state=JobState.RUNNING, pid=other.pid, host=here)
        running = queued_job(org, state=JobState.RUNNING, pid=job_like.pid, host=here)
        assert access_job_by_id(org.admin, taken_over.pk).state == JobState.FAILED
        assert access_job_by_id(org.admin, running.pk).state == JobState.RUNNING
    finally:
        for process in (other, job_like):
            process.kill()
            process.wait()


def test_a_job_on_another_machine_is_not_judged_by_a_local_process_id(client, org, catalog, background):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    job = queued_job(org, state=JobState.RUNNING, pid=ended.pid, host="another-machine")
    assert access_job_by_id(org.admin, job.pk).state == JobState.RUNNING


def test_a_job_whose_process_cannot_start_fails_at_once(org, catalog, background, settings, monkeypatch):
    settings.EQUIPOISE_IMPORT_JOBS = "process"

    def refused(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(import_jobs.subprocess, "Popen", refused)
    file = SimpleUploadedFile("x.csv", csv_bytes([equipoise_row("L1")]))
    job = job_start(actor=org.admin, upload=file, file_name="x.csv", mapping_name="equipoise", mode="all_or_nothing")
    assert job.state == JobState.FAILED and job.error.startswith("The import could not be started: Resource temporarily unavailable.")
    assert not (uploads_dir() / job.stored_name).exists() and nothing_imported()


def test_only_a_waiting_job_runs_and_only_once(org, catalog, background):
    job = queued_job(org, state=JobState.DONE)
    with pytest.raises(ApplicationError, match="not waiting to start"):
        job_run(job.pk)
    claimed = queued_job(org, started_at=timezone.now(), pid=12345)  # a process took it and waits for its turn
    with pytest.raises(ApplicationError, match="was started by another process"):
        job_run(claimed.pk)
    claimed.refresh_from_db()
    assert (claimed.state, claimed.pid) == (JobState.QUEUED, 12345) and (uploads_dir() / claimed.stored_name).exists()


def test_the_command_runs_a_waiting_job_and_refuses_an_unknown_one(org, catalog, background):
    job = queued_job(org)
    call_command("import_job", str(job.pk))
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.batch.lines_created == 1
    with pytest.raises(CommandError, match="no import job #999"):
        call_command("import_job", "999")


def test_progress_is_readable_while_the_import_holds_its_transaction(org, catalog, background, transactional_db):
    """On SQLite beside the upload's copy (the import holds the write lock), on PostgreSQL in the
    job's row through a connection of its own."""
    job = queued_job(org, state=JobState.RUNNING)
    with import_jobs._ProgressWriter(job) as progress:
        progress(250, 1_000)
        progress(300, 1_000)  # within half a second of the first: not written
        if connection.vendor == "postgresql":
            assert ImportJob.objects.get(pk=job.pk).bytes_read == 250
        else:
            assert json.loads(import_jobs._progress_file(job).read_text()) == {"bytes_read": 250}
        assert import_jobs.job_refresh(ImportJob.objects.get(pk=job.pk)).bytes_read == 250
    assert not import_jobs._progress_file(job).exists()


@pytest.mark.django_db(transaction=True)
def test_a_job_runs_in_a_process_of_its_own(org, catalog, settings, tmp_path, monkeypatch):
    """The real thing: the upload page's spawn, a second process, the batch it commits. On
    PostgreSQL only: SQLite's test database lives in this process's memory."""
    if connection.vendor != "postgresql":
        pytest.skip("the test database of SQLite is in memory, out of another process's reach")
    settings.DATA_DIR = tmp_path
    database = connection.settings_dict
    monkeypatch.setenv("DATABASE_URL", f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "equipoise.settings_test")
    settings.EQUIPOISE_IMPORT_JOBS = "process"
    job = job_start(
        actor=org.admin, upload=SimpleUploadedFile("x.csv", csv_bytes([equipoise_row("L1"), equipoise_row("L2")])), file_name="x.csv",
        mapping_name="equipoise", mode="all_or_nothing",
    )  # fmt: skip
    assert job.pid and job.state in (JobState.QUEUED, JobState.RUNNING, JobState.DONE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = access_job_by_id(org.admin, job.pk)
        if not job.is_active:
            break
        time.sleep(0.2)
    assert (job.state, job.error) == (JobState.DONE, "")
    assert job.batch.lines_created == 2 and ResultLine.objects.count() == 2
    assert not any(tmp_path.joinpath("uploads").glob("*.csv"))
    while time.monotonic() < deadline and os.path.exists(f"/proc/{job.pid}"):
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{job.pid}")  # reaped, not left a zombie of this process


def test_the_upload_page_says_which_files_import_in_the_background(client, org, catalog, settings):
    client.force_login(org.admin)
    assert "A file over 5.0\xa0MB is imported in the background" in client.get(reverse("results:batch-new")).content.decode()
    settings.EQUIPOISE_BACKGROUND_IMPORT_BYTES = 50 * 1024 * 1024
    assert "A file over 50.0\xa0MB is imported in the background" in client.get(reverse("results:batch-new")).content.decode()


def test_progress_that_cannot_be_written_does_not_stop_the_import(client, org, catalog, background, settings, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    job = queued_job(org)
    monkeypatch.setattr(import_jobs.os, "replace", full_disk)
    monkeypatch.setattr(import_jobs, "_ProgressWriter", _AlwaysReporting)
    finished = job_run(job.pk)
    assert finished.state == JobState.DONE and finished.batch.lines_created == 1


class _AlwaysReporting(import_jobs._ProgressWriter):
    """Writes progress into its file on either database, so that the full disk is met."""

    def __enter__(self):
        return self

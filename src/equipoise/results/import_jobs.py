"""Large uploads imported in a background process, with progress the upload's page polls.

A file larger than ``EQUIPOISE_BACKGROUND_IMPORT_BYTES`` is not imported while the browser waits:
:func:`job_start` keeps a copy in the data directory, records an :class:`ImportJob` and starts
``equipoise import-job ID`` in a process of its own, and the page shows the job. That process runs
a single thread, so the import reads the file in a forked child while it writes (see
``importing.forked``) — a web server's threads cannot — and a minute-long import outlives no
request timeout.

- The job is marked ``done``, with its batch, inside the transaction that commits the batch: a job
  that failed has no batch, and a done one always has.
- Progress (bytes of the file read) is written every half second: on PostgreSQL into the job's row
  through a connection of its own, outside the import's transaction; on SQLite, whose import holds
  the database's one write lock until it commits, into a small file beside the upload's copy.
- On SQLite, jobs take turns through a lock file (a second writer would time out waiting for the
  first); on PostgreSQL they run side by side, as imports from the command line do.
- A job whose process died (killed, out of memory, the machine restarted) is found by its process
  id when its page is next read on the same machine, and marked failed; its import, one
  transaction, left nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Q, QuerySet
from django.utils import timezone

from equipoise.core.errors import ApplicationError, NotFound
from equipoise.results.models import ImportBatch, ImportJob, JobState
from equipoise.results.services import file_import_arguments, results_import_file, user_may_import

logger = logging.getLogger(__name__)

# Seconds between two writes of a running job's progress.
PROGRESS_SECONDS = 0.5
# Failed jobs stay listed on the imports page this long.
FAILED_SHOWN_HOURS = 24
DIED = (
    "The import process stopped before it finished (it was stopped, ran out of memory or the server restarted). "
    "Nothing of this file was imported: upload it again."
)
CRASHED = "The import stopped on an internal error; nothing of this file was imported. The server's log has the details."


def uploads_dir() -> Path:
    path = Path(settings.DATA_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_background(size: int) -> bool:
    """Whether an upload of ``size`` bytes is imported in the background."""
    return size > int(settings.EQUIPOISE_BACKGROUND_IMPORT_BYTES)


# -- starting ------------------------------------------------------------------------------------


def job_start(
    *, actor: Any, upload: Any, file_name: str, mapping_name: str, mode: str, source: str | None = None, force: bool = False
) -> ImportJob:
    """Keep a copy of ``upload`` (a file object) and import it in the background; returns the job.

    The arguments are checked now, so a wrong mapping or source is an error on the form
    (ApplicationError), not a failed job; what is in the file is the import's business."""
    _, mode, _ = file_import_arguments(actor=actor, mapping_name=mapping_name, mode=mode, source=source)
    suffix = Path(file_name).suffix.lower()[:10] if Path(file_name).suffix.isascii() else ""
    stored = f"{uuid.uuid4().hex}{suffix}"
    with contextlib.suppress(AttributeError, OSError):
        upload.seek(0)
    target: Path | None = None
    try:
        target = uploads_dir() / stored
        with target.open("wb") as copy:
            chunks = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
            for chunk in chunks:
                copy.write(chunk)
    except OSError as error:
        if target is not None:
            target.unlink(missing_ok=True)
        raise ApplicationError(f"The upload could not be kept for importing: {error.strerror or error}.", field="file") from error
    try:
        job = ImportJob.objects.create(
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            file_name=file_name[:255],
            stored_name=stored,
            size_bytes=target.stat().st_size,
            mapping_name=mapping_name,
            mode=mode,
            source=(source or "").strip(),
            force=force,
        )
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if settings.EQUIPOISE_IMPORT_JOBS == "inline":
        job_run(job.pk, report_progress=False)  # nobody can look before it ends
    else:
        _spawn(job)
    job.refresh_from_db()
    return job


def _spawn(job: ImportJob) -> None:
    """Start ``equipoise import-job`` for the job, in a session of its own (a signal to the web
    server's process group does not stop it), with the same settings as this process."""
    log = _log_file(job)
    environment = {**os.environ, "EQUIPOISE_DATA_DIR": str(settings.DATA_DIR)}
    with log.open("ab") as output:
        try:
            process = subprocess.Popen(  # noqa: S603 (this interpreter, a job number)
                [sys.executable, "-m", "equipoise.cli", "import-job", str(job.pk)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as error:
            _fail(job.pk, f"The import could not be started: {error.strerror or error}. Upload the file again.")
            (uploads_dir() / job.stored_name).unlink(missing_ok=True)
            return
    # Recorded here too, so a job that dies before it starts is still found (see job_refresh).
    ImportJob.objects.filter(pk=job.pk, pid__isnull=True).update(pid=process.pid, host=socket.gethostname())
    # Reaped as soon as it ends, so that no finished job lingers as a zombie of the web server.
    threading.Thread(target=process.wait, name=f"equipoise-import-job-{job.pk}", daemon=True).start()


# -- running -------------------------------------------------------------------------------------


def job_run(job_id: int, *, report_progress: bool = True) -> ImportJob:
    """Run a queued job in this process (``equipoise import-job``): wait for the import lock,
    import, record the outcome; the upload's copy is removed either way."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.state != JobState.QUEUED:
        raise ApplicationError(f"Import job #{job.pk} is {job.get_state_display().lower()}, not waiting to start.", field="job")
    # Claimed once (started_at), so that a second process started for the same job does nothing.
    claimed = ImportJob.objects.filter(pk=job.pk, state=JobState.QUEUED, started_at__isnull=True).update(
        pid=os.getpid(), host=socket.gethostname(), started_at=timezone.now()
    )
    if not claimed:
        raise ApplicationError(f"Import job #{job.pk} was started by another process.", field="job")
    path = uploads_dir() / job.stored_name
    try:
        with _import_turn():
            ImportJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, started_at=timezone.now())
            with _ProgressWriter(job, enabled=report_progress) as progress:

                def finished(batch: ImportBatch) -> None:
                    ImportJob.objects.filter(pk=job.pk).update(
                        state=JobState.DONE, batch=batch, finished_at=timezone.now(), bytes_read=job.size_bytes
                    )

                results_import_file(
                    actor=job.created_by,
                    path_or_file=path,
                    file_name=job.file_name,
                    mapping_name=job.mapping_name,
                    mode=job.mode,
                    source=job.source or None,
                    force=job.force,
                    progress=progress,
                    on_batch=finished,
                )
    except ApplicationError as error:
        _fail(job.pk, error.message)
    except Exception:
        logger.exception("Import job #%s failed", job.pk)
        _fail(job.pk, CRASHED)
    finally:
        path.unlink(missing_ok=True)
    job.refresh_from_db()
    if job.state == JobState.DONE:
        _log_file(job).unlink(missing_ok=True)  # kept only when something went wrong
    return job


def _fail(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id, state__in=(JobState.QUEUED, JobState.RUNNING)).update(
        state=JobState.FAILED, error=message[:500], finished_at=timezone.now()
    )


@contextlib.contextmanager
def _import_turn() -> Iterator[None]:
    """On SQLite, one import job at a time (an exclusive lock on a file in the data directory):
    a second import would wait for the first's write lock and give up after the busy timeout."""
    if connection.vendor != "sqlite" or os.name != "posix":
        yield
        return
    import fcntl

    with (uploads_dir() / "import.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class _ProgressWriter:
    """The import's progress callback: bytes read, every PROGRESS_SECONDS, where a reader of the job
    can see it while the import's transaction is open (see the module's docstring)."""

    def __init__(self, job: ImportJob, *, enabled: bool = True) -> None:
        self.job_id = job.pk
        self.file = _progress_file(job)
        self.enabled = enabled
        self.written = 0.0
        self.side: Any = None

    def __enter__(self) -> _ProgressWriter:
        if self.enabled and connection.vendor == "postgresql":
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.side is not None:
            self.side.close()
        self.file.unlink(missing_ok=True)

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.written < PROGRESS_SECONDS:
            return
        self.written = now
        try:
            if self.side is not None:
                with self.side.cursor() as cursor:
                    cursor.execute(f"UPDATE {ImportJob._meta.db_table} SET bytes_read = %s WHERE id = %s", [done, self.job_id])
                return
            partial = self.file.with_suffix(".tmp")
            partial.write_text(json.dumps({"bytes_read": done}))
            os.replace(partial, self.file)
        except Exception:  # the import matters more than its progress bar: go on without it
            logger.warning("Import job #%s: progress could not be written; the import goes on without it", self.job_id, exc_info=True)
            self.enabled = False


def _progress_file(job: ImportJob) -> Path:
    return uploads_dir() / f"{Path(job.stored_name).stem}.progress"


def _log_file(job: ImportJob) -> Path:
    """What the job's process printed: kept for whoever runs the server when a job fails."""
    return uploads_dir() / f"{Path(job.stored_name).stem}.log"


# -- reading -------------------------------------------------------------------------------------


def jobs_visible(user: Any) -> QuerySet[ImportJob]:
    if not user_may_import(user):
        return ImportJob.objects.none()
    return ImportJob.objects.select_related("created_by", "batch").order_by("-created_at", "-id")


def access_job_by_id(user: Any, job_id: int) -> ImportJob:
    job = jobs_visible(user).filter(pk=job_id).first()
    if job is None:
        raise NotFound("That import", field="job")
    return job_refresh(job)


def jobs_current(user: Any) -> list[ImportJob]:
    """Jobs to list above the imports: those waiting or running, and those that failed lately."""
    since = timezone.now() - timedelta(hours=FAILED_SHOWN_HOURS)
    current = jobs_visible(user).filter(Q(state__in=(JobState.QUEUED, JobState.RUNNING)) | Q(state=JobState.FAILED, created_at__gte=since))
    return [job_refresh(job) for job in current[:20]]


def job_refresh(job: ImportJob) -> ImportJob:
    """Mark the job failed if its process is known to be gone, and read its progress."""
    if job.is_active and job.pid and job.host == socket.gethostname() and _process_gone(job.pid):
        job.refresh_from_db()  # it may have finished between the two reads
        if job.is_active:
            _fail(job.pk, DIED)
            (uploads_dir() / job.stored_name).unlink(missing_ok=True)
            _progress_file(job).unlink(missing_ok=True)
            job.refresh_from_db()
    if job.state == JobState.RUNNING and connection.vendor != "postgresql":
        with contextlib.suppress(OSError, ValueError, TypeError):
            job.bytes_read = int(json.loads(_progress_file(job).read_text())["bytes_read"])
    return job


def _process_gone(pid: int) -> bool:
    """Whether the job process ``pid`` of this machine has ended (or its number now belongs to
    another program)."""
    if pid == os.getpid():  # a job run inline, by this very process
        return False
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)  # our child (the web server started it): reap it if it ended
    except ChildProcessError:
        pass
    else:
        if reaped == pid:
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as command:
            return b"import-job" not in command.read()
    except OSError:  # no /proc here, or the process ended meanwhile: go by the signal's answer
        return not os.path.exists(f"/proc/{pid}") and os.path.isdir("/proc")


def job_waits_for_another(job: ImportJob) -> bool:
    """Whether a waiting job waits for another job's turn (SQLite; see :func:`_import_turn`)."""
    if job.state != JobState.QUEUED or connection.vendor != "sqlite":
        return False
    return ImportJob.objects.filter(state=JobState.RUNNING).exclude(pk=job.pk).exists()


@dataclass(frozen=True)
class JobProgress:
    percent: int | None
    read: int
    total: int


def job_progress(job: ImportJob) -> JobProgress:
    if job.state == JobState.DONE:
        return JobProgress(100, job.size_bytes, job.size_bytes)
    if not job.size_bytes or job.state != JobState.RUNNING:
        return JobProgress(None, job.bytes_read, job.size_bytes)
    return JobProgress(min(99, job.bytes_read * 100 // job.size_bytes), job.bytes_read, job.size_bytes)

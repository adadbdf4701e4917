"""Read a file in a second process while this one writes what it reads.

An import is two kinds of work: reading rows (parsing, mapping, resolving references; Python) and
writing them (the ingest's Python, then the database). With both in one process the GIL lets one
run at a time. A writer thread does not help: each row the SQLite driver steps lets go of the GIL,
and the reading thread holds it until it is made to give it back, up to a switch interval (5 ms)
later, so the two threads take turns. In a forked child, reading has a core of its own and this
process only writes.

The child inherits everything the reading needs — the open file, the mapping, the directory of
customers, products and people, already loaded — and never touches the database: the reading
resolves references from the directory alone (the caller makes sure of that by forking only when
the mapping creates nothing). It sends its rows in pickled chunks through a pipe. This process
keeps the one transaction, so a batch is still committed whole or not at all; killing either
process stops the import and leaves nothing of it.

Forking is safe only in a process with a single thread (a lock another thread held at the fork
stays held in the child forever): :func:`available` says so, and the caller falls back to the
writer thread (a web server answering an upload runs threads).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, Pipe
from typing import Any

from django.db import connections

from equipoise.core.errors import ApplicationError
from equipoise.results.importing.writer import drain

# Off, imports read rows in the importing process (with a writer thread): the end-to-end tests
# import files both ways.
ENABLED = True

# Rows per message: large enough that pickling and the pipe cost little per row.
CHUNK_ROWS = 2_000
# Chunks the child may read ahead of this process (about 100 bytes a row pickled, 20 MB in all):
# 200k rows, as many as this process holds before writing them. It is the slower of the two, so
# reading further ahead would only hold memory.
AHEAD_CHUNKS = 100
PIPE_BYTES = 1 << 20

_ROWS, _END, _ERROR, _CRASH = "rows", "end", "error", "crash"

# What the last child to finish said of itself, for the benchmark: its peak memory in MiB not
# shared with this process (its resident size also counts every page of ours it has read).
LAST_READER: dict[str, float] = {"private_mib": 0.0}

# Database connections the child inherited: kept referenced and never closed there, since
# closing one would end the parent's session (PostgreSQL) or its locks (SQLite).
_inherited: list[Any] = []


def available() -> bool:
    return ENABLED and sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: for an import that reads its file in a forked child
    (which inherits the pause). What both processes make by the million is tuples of numbers and
    text, which hold no cycles, and each collection looks at every one made since the last in vain:
    1.6 s of a million-line import. Only where :func:`available` holds: with other threads running,
    a pause would be theirs too."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class ForkedRows:
    """The items of ``produce()``, produced in a forked child and received here in order.

    Items go in chunks of ``chunk_rows`` (at most :data:`CHUNK_ROWS`); ``pack``, run in the child,
    turns each chunk into what is sent for it (the file import turns its lines into credit rows
    there). ``position()`` is read in the child after each chunk (how far into the file it has
    read) and is available here as :attr:`position` for progress; the child's peak memory of its own is left
    in :data:`LAST_READER` when it has finished. ``on_idle`` is called here whenever the child has
    nothing ready to receive. An :class:`ApplicationError` raised while
    producing is raised here after the items produced before it, as it would be in-process."""

    def __init__(
        self,
        produce: Callable[[], Iterable[Any]],
        *,
        position: Callable[[], int],
        pack: Callable[[list[Any]], list[Any]] | None = None,
        chunk_rows: int | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> None:
        self._produce = produce
        self._on_idle = on_idle
        self._chunk_rows = chunk_rows
        self._position = position
        self._pack = pack
        self.position = 0

    def __iter__(self) -> Iterator[Any]:
        receiver, sender = Pipe(duplex=False)
        _widen(sender)
        # Objects that exist now are left out of the child's garbage collections, which would
        # otherwise write to every one of them and so copy every page they sit on (the directory
        # of customers: tens of megabytes). This process takes them back right after the fork.
        gc.freeze()
        pid = os.fork()
        if pid != 0:
            gc.unfreeze()
        if pid == 0:  # the child: read, send, and leave without running any of the parent's cleanup
            code = 1
            try:
                receiver.close()
                _detach_database_connections()
                # The child's sending thread takes the GIL back from its reading thread after each
                # write; at the default 5 ms a turn, the parent would wait on the pipe.
                sys.setswitchinterval(0.0005)
                self._send_all(sender)
                code = 0
            finally:
                os._exit(code)
        sender.close()
        finished = reaped = False
        try:
            while True:
                if self._on_idle is not None and not receiver.poll():
                    self._on_idle()  # nothing to receive yet: time this process would spend waiting
                try:
                    # Trusted: written by this process's own child, over a pipe only the two share.
                    kind, payload, self.position = pickle.loads(receiver.recv_bytes())  # noqa: S301
                except (EOFError, OSError):  # the pipe closed, whole or halfway through a chunk
                    finished = reaped = True
                    _, status = os.waitpid(pid, 0)
                    raise ApplicationError(
                        f"The process reading the file stopped before the end of it ({_how(status)}); nothing was "
                        "imported. Import the file again.",
                        field="file",
                    ) from None
                if kind == _ROWS:
                    yield from payload
                elif kind == _END:
                    finished = True
                    LAST_READER["private_mib"] = payload
                    return
                elif kind == _ERROR:
                    finished = True
                    message, field, row = payload
                    raise ApplicationError(message, field=field, row=row)
                else:
                    finished = True
                    raise RuntimeError(f"The process reading the file failed:\n{payload}")
        finally:
            receiver.close()
            if not finished:  # this side stopped early (an error while writing): the child is not needed
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if not reaped:
                os.waitpid(pid, 0)

    def _send_all(self, sender: Connection) -> None:
        """Produce, pickle and queue chunks; a thread of the child sends them. So the child reads
        ahead while this process is busy writing (a rollup flush takes seconds), instead of
        waiting on a full pipe, up to :data:`AHEAD_CHUNKS` chunks."""
        outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD_CHUNKS)
        gone = threading.Event()

        def deliver() -> None:
            try:
                while (message := outbox.get()) is not None:
                    sender.send_bytes(message)
            except OSError:  # the parent has gone (BrokenPipeError): nothing to read for
                gone.set()
                drain(outbox)

        def send(kind: str, payload: Any) -> None:
            if kind == _ROWS and self._pack is not None:
                payload = self._pack(payload)
            message = pickle.dumps((kind, payload, self._position()), protocol=pickle.HIGHEST_PROTOCOL)
            while not gone.is_set():
                try:
                    outbox.put(message, timeout=0.5)
                    return
                except queue.Full:
                    continue

        thread = threading.Thread(target=deliver, name="equipoise-import-sender", daemon=True)
        thread.start()
        chunk: list[Any] = []
        private, sent = 0.0, 0
        size = min(CHUNK_ROWS, self._chunk_rows or CHUNK_ROWS)
        try:
            for item in self._produce():
                chunk.append(item)
                if len(chunk) >= size:
                    send(_ROWS, chunk)
                    chunk = []
                    if gone.is_set():
                        return
                    sent += 1
                    if sent % 50 == 1:
                        private = max(private, _private_mib())
            if chunk:
                send(_ROWS, chunk)
            send(_END, max(private, _private_mib()))
        except ApplicationError as error:
            if chunk:
                send(_ROWS, chunk)
            send(_ERROR, (error.message, error.field, error.row))
        except BaseException:
            send(_CRASH, traceback.format_exc())
        finally:
            if not gone.is_set():
                outbox.put(None)
            thread.join()


def _how(status: int) -> str:
    """How a child ended, from its wait status."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"killed by {signal.Signals(number).name}"
        except ValueError:
            return f"killed by signal {number}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _private_mib() -> float:
    """Memory this process does not share with its parent (pages it wrote since the fork, and its
    own), in MiB; 0 where Linux's smaps_rollup is not there to say. Its resident size would count
    every page of the parent it has read, which stays shared."""
    try:
        with open("/proc/self/smaps_rollup") as rollup:
            fields = dict(line.split(":", 1) for line in rollup if line.startswith("Private_"))
    except OSError:
        return 0.0
    return round(sum(int(value.split()[0]) for value in fields.values()) / 1024, 1)


def _widen(pipe: Connection) -> None:
    """A pipe buffer of 1 MiB (Linux's default limit) instead of 64 KiB, so that a chunk goes
    through in one write rather than in turns of the two processes."""
    with contextlib.suppress(OSError, AttributeError, ImportError):
        import fcntl  # not on Windows, where nothing forks anyway

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _detach_database_connections() -> None:
    """In the child: forget the parent's connections without closing them, so that any use of
    the database (there should be none) opens a connection of its own."""
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _inherited.append(wrapper.connection)
            wrapper.connection = None

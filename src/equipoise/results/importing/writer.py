"""Write an import's chunks on a second thread while the first goes on reading the file.

Reading, mapping and resolving rows is Python; writing them is mostly the database's own work —
SQLite's B-tree inserts run with the GIL released, PostgreSQL's in its server process. Handing
each chunk to a writer thread lets the two overlap on a two-core machine instead of taking turns.

The writer uses the reader's database connection, so its writes are part of the same transaction
(and savepoint): the batch still commits whole or not at all. While the writer is busy the reading
thread must not use that connection; :class:`~equipoise.results.importing.runner.BatchRun` only
writes in the background when resolving rows never writes (the mapping creates nothing) and
drains the writer before it touches the database again.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from equipoise.results.ingest import Ingestor, LineInput

# Chunks waiting for the writer: enough to keep it busy, few enough to bound memory.
QUEUE_CHUNKS = 2

Outcome = tuple[list[int], list[tuple[int, str]]]  # (repeated rows, conflicting (row, external id))


class BackgroundWriter:
    """Feeds :meth:`Ingestor.ingest` from a queue on a thread that shares the caller's connection.

    ``submit`` hands a chunk over (blocking while the queue is full) and ``outcomes`` returns what
    the written chunks reported so far; ``close`` waits for the last chunk. An error on the writer
    is raised in the caller by the next ``submit``, ``outcomes`` or ``close``."""

    def __init__(self, ingestor: Ingestor, *, using: str = DEFAULT_DB_ALIAS) -> None:
        self._ingestor = ingestor
        self._connection = connections[using]
        self._using = using
        self._chunks: queue.Queue[Sequence[LineInput] | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def submit(self, chunk: Sequence[LineInput]) -> None:
        self._raise()
        if self._thread is None:
            self._connection.inc_thread_sharing()
            self._thread = threading.Thread(target=self._run, name="equipoise-import-writer", daemon=True)
            self._thread.start()
        while True:
            try:
                self._chunks.put(chunk, timeout=0.5)
                return
            except queue.Full:
                self._raise()

    def outcomes(self) -> list[Outcome]:
        self._raise()
        found = []
        while True:
            try:
                found.append(self._outcomes.get_nowait())
            except queue.Empty:
                return found

    def close(self) -> list[Outcome]:
        """Wait until every submitted chunk is written; the outcomes not yet collected."""
        if self._thread is not None:
            if self._thread.is_alive():
                while True:
                    try:
                        self._chunks.put(None, timeout=0.5)
                        break
                    except queue.Full:
                        if not self._thread.is_alive():
                            break
            self._thread.join()
            self._thread = None
            self._connection.dec_thread_sharing()
        return self.outcomes()

    def stop(self) -> None:
        """Wait for the writer to finish and drop what it reports: for a caller already failing,
        before it rolls back the transaction the writer writes in."""
        if self._thread is not None:
            drain(self._chunks)
        with contextlib.suppress(BaseException):  # the caller is raising its own error
            self.close()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        connections[self._using] = self._connection  # this thread's "default" is the reader's connection
        ingestor = self._ingestor
        try:
            while (chunk := self._chunks.get()) is not None:
                ingestor.ingest(chunk)
                outcome: Outcome = (list(ingestor.repeats), list(ingestor.conflicts))
                ingestor.repeats.clear()
                ingestor.conflicts.clear()
                self._outcomes.put(outcome)
        except BaseException as error:  # handed to the reading thread, which raises it
            self._error = error
            # Unblock a reader waiting on a full queue; it sees the error on its next call.
            drain(self._chunks)


def drain(chunks: queue.Queue[Any]) -> None:
    """Take everything out of a queue without waiting (to unblock whoever waits to put)."""
    while True:
        try:
            chunks.get_nowait()
        except queue.Empty:
            return

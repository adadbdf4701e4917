"""Read a result file as a stream of rows: CSV (delimiter and encoding sniffed) or XLSX.

Memory does not grow with the file: CSV is read line by line through a bounded ``readline`` and XLSX
through openpyxl's read-only mode. Rows are numbered as a spreadsheet shows them (the header is row
1). Anything that makes the file unreadable as a whole raises :class:`ApplicationError` with a
message that says how to fix it: an empty file, a binary file, an undecodable byte, a line longer
than :data:`MAX_LINE_CHARS`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, cast

from equipoise.core.errors import ApplicationError

# One CSV record (a line, or a quoted field running over several lines) may be at most this long.
# Real export rows are a few hundred bytes; the bound keeps a broken file from filling memory.
MAX_LINE_CHARS = 1_000_000
csv.field_size_limit(MAX_LINE_CHARS)

SAMPLE_BYTES = 64 * 1024
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive or an Excel workbook (XLSX): save it as CSV, or upload it with the .xlsx extension",
    b"\xd0\xcf\x11\xe0": "an old Excel (XLS) or Office file: save it as CSV or XLSX",
    b"%PDF": "a PDF document, not a table",
    b"\x89PNG": "an image, not a table",
    b"\xff\xd8\xff": "an image, not a table",
    b"\x1f\x8b": "a compressed (gzip) file: unpack it first",
}
_CONTROL = {chr(code) for code in range(32)} - {"\t", "\n", "\r", "\x0c", "\x1a"}

Cell = str | int | Decimal | date


@dataclass
class SourceFile:
    """A file to import: its name, size and SHA-256, and a way to read it from the start."""

    name: str
    size: int
    sha256: str
    _open: Callable[[], IO[bytes]]

    def open(self) -> IO[bytes]:
        return self._open()


def source_file(path_or_file: str | Path | IO[bytes] | Any, *, name: str | None = None) -> SourceFile:
    """Hash the file (streamed) and keep a way to read it again.

    Accepts a path, or a seekable binary file object (an uploaded file); the object is rewound.
    """
    digest = hashlib.sha256()
    size = 0
    if isinstance(path_or_file, str | Path):
        path = Path(path_or_file)
        if not path.is_file():
            raise ApplicationError(f"There is no file {str(path)!r}.", field="file")
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        return SourceFile(name=name or path.name, size=size, sha256=digest.hexdigest(), _open=lambda: path.open("rb"))
    handle: Any = path_or_file
    handle.seek(0)
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)

    def reopen() -> IO[bytes]:
        handle.seek(0)
        return cast(IO[bytes], _Unclosable(handle))

    file_name = name or Path(str(getattr(handle, "name", "") or "upload")).name
    return SourceFile(name=file_name, size=size, sha256=digest.hexdigest(), _open=reopen)


class _Unclosable(io.RawIOBase):
    """A view of a caller's file object that counts bytes read and leaves it open when we are done."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._handle.seek(offset, whence))

    def tell(self) -> int:
        return int(self._handle.tell())

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return bytes(self._handle.read(size))


class _Counting(io.RawIOBase):
    """Counts the bytes read through it, for the progress bar."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class RowReader:
    """Rows of one file. ``header`` is the first row; iterate for (row number, cells) of the rest."""

    header: list[str]
    total_bytes: int

    def __iter__(self) -> Iterator[tuple[int, list[Cell]]]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def bytes_read(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def open_rows(source: SourceFile, *, delimiter: str = "auto", sheet: str = "") -> RowReader:
    if source.size == 0:
        raise ApplicationError("The file is empty: export it again with a header row and at least one line.", field="file")
    if source.name.lower().endswith((".xlsx", ".xlsm")):
        return XlsxRows(source, sheet=sheet)
    return CsvRows(source, delimiter=delimiter)


def _sniff_encoding(sample: bytes, at_end: bool) -> str:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ApplicationError("The file is UTF-16 text: save it as UTF-8 (CSV UTF-8) and import it again.", field="file")
    for signature, what in _BINARY_SIGNATURES.items():
        if sample.startswith(signature):
            raise ApplicationError(f"This is not a CSV file but {what}.", field="file")
    if b"\x00" in sample:
        raise ApplicationError("This is a binary file, not CSV text: export the table as CSV (UTF-8) or XLSX.", field="file")
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        text = decoder.decode(sample, final=at_end)
        encoding = "utf-8"
    except UnicodeDecodeError:
        try:
            text = sample.decode("cp1252")
            encoding = "cp1252"
        except UnicodeDecodeError as error:
            raise ApplicationError(
                "This is a binary file, or text in an unknown encoding: save it as CSV in UTF-8 (or Windows-1252).", field="file"
            ) from error
    if sum(1 for char in text[:SAMPLE_BYTES] if char in _CONTROL) > 0:
        raise ApplicationError("This is a binary file, not CSV text: export the table as CSV (UTF-8) or XLSX.", field="file")
    return encoding


def _sniff_delimiter(text: str) -> str:
    """The candidate that splits the header into the most columns (comma on a tie)."""
    first_line = text.splitlines()[0] if text else ""
    best, best_count = ",", 1
    for candidate in (",", ";", "\t"):
        try:
            count = len(next(csv.reader([first_line], delimiter=candidate)))
        except (csv.Error, StopIteration):
            continue
        if count > best_count:
            best, best_count = candidate, count
    return best


class CsvRows(RowReader):
    def __init__(self, source: SourceFile, *, delimiter: str = "auto") -> None:
        self.total_bytes = source.size
        raw = source.open()
        try:
            sample = raw.read(SAMPLE_BYTES)
            if not sample.strip(b"\xef\xbb\xbf \t\r\n"):
                raise ApplicationError("The file is empty: export it again with a header row and at least one line.", field="file")
            self.encoding = _sniff_encoding(sample, at_end=len(sample) < SAMPLE_BYTES)
            raw.seek(0)
        except BaseException:
            raw.close()
            raise
        self._counting = _Counting(raw)
        self._text = io.TextIOWrapper(io.BufferedReader(self._counting, 1 << 16), encoding=self.encoding, errors="strict", newline="")
        self.delimiter = _sniff_delimiter(sample.decode(self.encoding, errors="replace")) if delimiter == "auto" else delimiter
        self._record = 0  # the number of the last record read (the header is 1)
        self._reader = csv.reader(self._lines(), delimiter=self.delimiter)
        header = self._next()
        if header is None:
            raise ApplicationError("The file is empty: export it again with a header row and at least one line.", field="file")
        self.header = [cell.strip().lstrip("\ufeff").strip() for cell in header]

    def _lines(self) -> Iterator[str]:
        readline = self._text.readline
        while True:
            try:
                line = readline(MAX_LINE_CHARS + 1)
            except UnicodeDecodeError as error:
                raise ApplicationError(
                    f"Near row {self._record + 1} the file holds bytes that are not valid {self._encoding_label()}: "
                    "save it as UTF-8 and import it again.",
                    field="file",
                    row=self._record + 1,
                ) from error
            if not line:
                return
            if len(line) > MAX_LINE_CHARS:
                raise ApplicationError(
                    f"Row {self._record + 1} is longer than {MAX_LINE_CHARS:,} characters: the file is probably broken "
                    "(an unclosed quote, or not a table).",
                    field="file",
                    row=self._record + 1,
                )
            yield line

    def _encoding_label(self) -> str:
        return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1252": "Windows-1252"}.get(self.encoding, self.encoding)

    def _unreadable(self, error: csv.Error) -> ApplicationError:
        return ApplicationError(
            f"Row {self._record + 1} cannot be read as CSV ({error}): a value is longer than {MAX_LINE_CHARS:,} characters "
            "or a quote is not closed.",
            field="file",
            row=self._record + 1,
        )

    def _next(self) -> list[str] | None:
        try:
            record = next(self._reader)
        except StopIteration:
            return None
        except csv.Error as error:
            raise self._unreadable(error) from error
        self._record += 1
        return record

    def __iter__(self) -> Iterator[tuple[int, list[Cell]]]:
        # One loop rather than a call of _next per row: this runs a million times per import.
        try:
            for record in self._reader:
                self._record += 1
                yield self._record, record  # type: ignore[misc]
        except csv.Error as error:
            raise self._unreadable(error) from error

    @property
    def bytes_read(self) -> int:
        return self._counting.bytes_read

    def close(self) -> None:
        self._text.close()


def _cell(value: Any) -> Cell:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date | str):
        return value
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # repr is the shortest text that round-trips, so 1054.5 stays 1054.5 (never binary noise).
        return Decimal(repr(value))
    return str(value)


class XlsxRows(RowReader):
    def __init__(self, source: SourceFile, *, sheet: str = "") -> None:
        from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]

        self.total_bytes = source.size
        self._raw = source.open()
        try:
            workbook = load_workbook(self._raw, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, AttributeError) as error:
            # openpyxl raises any of these (or its InvalidFileException, an OSError) for a file that
            # is not a workbook; all mean the same to the user.
            self._raw.close()
            raise ApplicationError(
                "This is not a readable XLSX workbook: save it again from your spreadsheet as .xlsx or CSV.", field="file"
            ) from error
        self._workbook = workbook
        if sheet:
            if sheet not in workbook.sheetnames:
                self.close()
                raise ApplicationError(f"The workbook has no sheet {sheet!r}: it has {', '.join(workbook.sheetnames)}.", field="sheet")
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        self._max_row = worksheet.max_row or 0
        self._rows = worksheet.iter_rows(values_only=True)
        self._row = 0
        first = next(self._rows, None)
        if first is None or all(value is None for value in first):
            self.close()
            raise ApplicationError("The workbook's first sheet is empty: put the header in row 1.", field="file")
        self._row = 1
        self.header = [str(value).strip() if value is not None else "" for value in first]

    def __iter__(self) -> Iterator[tuple[int, list[Cell]]]:
        rows = self._rows
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, AttributeError, SyntaxError) as error:
                raise ApplicationError(
                    f"The workbook cannot be read after row {self._row}: save it again from your spreadsheet as .xlsx or CSV.",
                    field="file",
                    row=self._row + 1,
                ) from error
            self._row += 1
            yield self._row, [_cell(value) for value in values]

    @property
    def bytes_read(self) -> int:
        if not self._max_row:
            return 0
        return min(self.total_bytes, self.total_bytes * self._row // self._max_row)

    def close(self) -> None:
        self._workbook.close()
        self._raw.close()

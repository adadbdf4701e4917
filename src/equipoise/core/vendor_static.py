"""Plotly's JavaScript bundle, served by the application with a compressed copy beside it.

The bundle is 4.8 MB. Served as it is, every first visit to a page with a chart downloads all of
it: 1.2 s on the machine itself, far longer over an office VPN. whitenoise sends a file's ``.gz``
sibling to a browser that accepts gzip (1.4 MB here), but the plotly package's own directory may
not be writable, so the bundle and its gzip copy are kept in the data directory, once per plotly
version, and served from there as ``static/plotly/plotly.min.js``.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

BUNDLE = "plotly.min.js"


def plotly_static_dir(data_dir: Path) -> Path:
    """The directory holding plotly.min.js and plotly.min.js.gz for the installed plotly version,
    made if it is not there yet (safe when several processes start at once: each file is written
    aside and renamed into place)."""
    import plotly

    source = Path(plotly.__file__).resolve().parent / "package_data" / BUNDLE
    target = data_dir / "vendor" / f"plotly-{plotly.__version__}"
    script, compressed = target / BUNDLE, target / f"{BUNDLE}.gz"
    if script.exists() and compressed.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)

    def copy(out: BinaryIO) -> None:
        with source.open("rb") as original:
            shutil.copyfileobj(original, out)

    def compress(out: BinaryIO) -> None:
        with source.open("rb") as original, gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as packed:
            shutil.copyfileobj(original, packed)

    _write_atomically(script, copy)
    _write_atomically(compressed, compress)
    return target


def _write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as out:
            write(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

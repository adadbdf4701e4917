"""Static files are the application's own; Plotly's bundle goes out compressed to browsers that accept it."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import plotly

from equipoise.core.vendor_static import plotly_static_dir

PLOTLY = "/static/plotly/plotly.min.js"


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_plotly_is_sent_gzipped_to_a_browser_that_accepts_it(client: Any) -> None:
    original = (Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js").read_bytes()
    packed = client.get(PLOTLY, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert packed.status_code == 200
    assert packed["Content-Encoding"] == "gzip"
    body = _body(packed)
    assert len(body) < len(original) / 2
    assert gzip.decompress(body) == original
    plain = client.get(PLOTLY)
    assert plain.status_code == 200 and "Content-Encoding" not in plain
    assert _body(plain) == original


def test_the_copies_are_made_once_and_again_when_missing(tmp_path: Path) -> None:
    first = plotly_static_dir(tmp_path)
    script, compressed = first / "plotly.min.js", first / "plotly.min.js.gz"
    assert first.name == f"plotly-{plotly.__version__}"
    made = compressed.stat().st_mtime_ns
    assert plotly_static_dir(tmp_path) == first and compressed.stat().st_mtime_ns == made
    compressed.unlink()
    plotly_static_dir(tmp_path)
    assert gzip.decompress(compressed.read_bytes()) == script.read_bytes()
    assert not [path for path in first.iterdir() if path.name.startswith(".")]  # no temporary file left


def test_every_chart_turns_off_plotlys_share_button() -> None:
    """plotly.js 4 shows a button that sends a chart's data to Plotly Cloud unless told not to:
    company figures must not leave a closed network at a click."""
    templates = [path for path in Path(__file__).resolve().parents[2].rglob("*.html") if "Plotly." in path.read_text()]
    assert templates, "no template draws a chart: this test looks in the wrong place"
    for path in templates:
        text = path.read_text()
        drawn = text.count("Plotly.newPlot(") + text.count("Plotly.react(")
        assert drawn, path
        assert "showSendToCloud: false" in text, f"{path.name} draws a chart with Plotly's share button"

"""File import of result lines: readers (CSV, XLSX), column mappings and presets, row validation
and the import run itself.

- :mod:`.config` — the mapping configuration schema (what a ``ColumnMapping.config`` holds);
- :mod:`.presets` — the built-in, read-only mappings;
- :mod:`.readers` — streamed CSV (sniffed delimiter and encoding) and XLSX rows;
- :mod:`.parsing` — amounts and dates as text, by the mapping's settings;
- :mod:`.rows` — a file row to a canonical line (filters, skips, duplicates);
- :mod:`.resolve` — a canonical line to a validated :class:`~equipoise.results.ingest.LineInput`
  (customers, products, sellers, regions; shared with the push API);
- :mod:`.fastpath` — the common CSV row straight to its line, exactly as ``rows`` and ``resolve``
  would read it (anything else goes through them);
- :mod:`.runner` — one import: hash, duplicate check, one transaction, issues, counts;
- :mod:`.report` — the error report as CSV, formula injection neutralised.

The public entry points are in :mod:`equipoise.results.services`.
"""

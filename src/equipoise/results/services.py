"""Writes of the results app that interfaces call: file imports, API pushes, column mappings.

Imports may be run by executives and sales ops / admins (``IMPORT_ROLES``), or by the command line
(``actor=None``: whoever can run it already holds the database). Every import is a recorded
:class:`~equipoise.results.models.ImportBatch` — who, when, file name and SHA-256, mapping, counts and
skipped reasons — and either commits whole or changes no result line (see ``importing.runner``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from equipoise.core.access import Role
from equipoise.core.errors import AccessDenied, ApplicationError
from equipoise.org.selectors import user_role
from equipoise.results.importing.config import MappingConfig
from equipoise.results.importing.fileimport import import_file
from equipoise.results.importing.presets import PRESETS, presets_ensure
from equipoise.results.importing.push import MAX_PUSH_LINES, push_lines
from equipoise.results.importing.readers import source_file
from equipoise.results.importing.runner import CHUNK_LINES, Progress
from equipoise.results.models import BatchMode, ColumnMapping, ImportBatch, ImportJob, JobState

# Who may import results and edit mappings: the people who configure the system.
IMPORT_ROLES = frozenset({Role.EXECUTIVE, Role.ADMIN})
MAX_SOURCE_CHARS = 64


def user_may_import(user: Any) -> bool:
    return user_role(user) in IMPORT_ROLES


def _require_importer(actor: Any) -> None:
    if actor is not None and not user_may_import(actor):
        raise AccessDenied("Your role may not import results: ask an executive or sales ops.")


def batch_mode(value: str) -> str:
    """``all-or-nothing`` / ``all_or_nothing`` / ``quarantine`` to the stored value."""
    normalised = str(value or BatchMode.ALL_OR_NOTHING).strip().replace("-", "_").lower()
    if normalised not in BatchMode.values:
        raise ApplicationError(f"Mode {value!r} is not all-or-nothing or quarantine.", field="mode")
    return normalised


def _source_name(source: str) -> str:
    source = source.strip()
    if not source:
        raise ApplicationError("Name the source the lines come from (for example crm or billing).", field="source")
    if len(source) > MAX_SOURCE_CHARS:
        raise ApplicationError(f"A source name is at most {MAX_SOURCE_CHARS} characters.", field="source")
    return source


def mappings_all() -> list[ColumnMapping]:
    """Every mapping, the built-in presets first (created on demand)."""
    presets_ensure()
    return sorted(ColumnMapping.objects.all(), key=lambda mapping: (not mapping.is_preset, mapping.name))


def mapping_get(name: str) -> ColumnMapping:
    if name in PRESETS:
        presets_ensure()
    mapping = ColumnMapping.objects.filter(name=name).first()
    if mapping is None:
        names = ", ".join(mapping.name for mapping in mappings_all())
        raise ApplicationError(f"There is no mapping named {name!r}: use one of {names}.", field="mapping")
    return mapping


def file_import_arguments(*, actor: Any, mapping_name: str, mode: str, source: str | None) -> tuple[ColumnMapping, str, str]:
    """Check who imports and how, before any file is read: the mapping, the stored mode, and the
    source (given, or the mapping's). AccessDenied or ApplicationError naming the field."""
    _require_importer(actor)
    mode = batch_mode(mode)
    mapping = mapping_get(mapping_name)
    config = MappingConfig.from_dict(mapping.config)
    return mapping, mode, _source_name(source if source is not None and source.strip() else (config.source or mapping.name))


def results_import_file(
    *,
    actor: Any,
    path_or_file: str | Path | IO[bytes] | Any,
    mapping_name: str,
    mode: str = BatchMode.ALL_OR_NOTHING,
    source: str | None = None,
    force: bool = False,
    file_name: str | None = None,
    progress: Progress | None = None,
    chunk_lines: int = CHUNK_LINES,
    on_batch: Callable[[ImportBatch], None] | None = None,
) -> ImportBatch:
    """Import a CSV or XLSX file (a path, or a seekable binary file such as an upload) through a mapping.

    Returns the batch: ``committed`` (valid rows imported; in quarantine mode invalid ones are its
    issues), ``rejected`` (nothing imported; its issues say why) or ``duplicate`` (the same file was
    already imported with this mapping and ``force`` is off: nothing imported). Raises
    ApplicationError only for a wrong argument (unknown mapping, bad mode or source, no such file);
    AccessDenied when ``actor`` may not import.
    """
    mapping, mode, source_name = file_import_arguments(actor=actor, mapping_name=mapping_name, mode=mode, source=source)
    file = source_file(path_or_file, name=file_name)
    return import_file(
        actor=actor,
        source=file,
        mapping=mapping,
        mode=mode,
        source_name=source_name,
        force=force,
        progress=progress,
        chunk_lines=chunk_lines,
        on_batch=on_batch,
    )


def results_push(*, actor: Any, payload: dict[str, Any]) -> tuple[ImportBatch, list[dict[str, Any]]]:
    """Validate and ingest lines pushed through the API, as one batch.

    ``payload``: ``{"source": str, "mode": "all_or_nothing" | "quarantine", "lines": [line, …]}`` with at
    most ``MAX_PUSH_LINES`` lines (see ``importing.push`` for a line). Returns the batch and its
    per-line errors ``{"index", "field", "value", "reason"}``.
    """
    _require_importer(actor)
    source = _source_name(str(payload.get("source") or ""))
    mode = batch_mode(payload.get("mode") or BatchMode.ALL_OR_NOTHING)
    lines = payload.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ApplicationError("Send at least one line.", field="lines")
    if len(lines) > MAX_PUSH_LINES:
        raise ApplicationError(f"{len(lines):,} lines is more than {MAX_PUSH_LINES:,}: split them into several pushes.", field="lines")
    batch = push_lines(actor=actor, source=source, mode=mode, lines=lines)
    errors = [
        {"index": row, "field": column, "value": value, "reason": reason}
        for row, column, value, reason in batch.issues.order_by("row_number", "id").values_list("row_number", "column", "value", "reason")
    ]
    return batch, errors


@transaction.atomic
def mapping_delete(*, actor: Any, mapping: ColumnMapping) -> None:
    """Delete a custom mapping. Built-in ones stay; one that a background import is about to use or
    is using stays until that import ends. Batches keep the name of the mapping they were read with."""
    if actor is None or not user_may_import(actor):
        raise AccessDenied("Your role may not delete column mappings: ask an executive or sales ops.")
    if mapping.is_preset:
        raise ApplicationError(f"{mapping.name!r} is a built-in mapping and cannot be deleted.", field="mapping")
    if ImportJob.objects.filter(mapping_name=mapping.name, state__in=[JobState.QUEUED, JobState.RUNNING]).exists():
        raise ApplicationError(
            f"A background import is reading a file with {mapping.name!r}: delete the mapping once it has finished.", field="mapping"
        )
    ColumnMapping.objects.filter(pk=mapping.pk).delete()


@transaction.atomic
def mapping_save(*, actor: Any, mapping: ColumnMapping | None, name: str, description: str, config: dict[str, Any]) -> ColumnMapping:
    """Create (``mapping=None``) or update a custom mapping; the config is validated first. Presets are read-only."""
    if actor is None or not user_may_import(actor):
        raise AccessDenied("Your role may not edit column mappings: ask an executive or sales ops.")
    MappingConfig.from_dict(config)
    name = name.strip()
    if mapping is not None and mapping.is_preset:
        raise ApplicationError(f"{mapping.name!r} is a built-in mapping and cannot be changed: copy it instead.", field="name")
    if name in PRESETS:
        raise ApplicationError(f"{name!r} is the name of a built-in mapping: choose another.", field="name")
    clash = ColumnMapping.objects.filter(name=name)
    if mapping is not None:
        clash = clash.exclude(pk=mapping.pk)
    if clash.exists():
        raise ApplicationError(f"There is already a mapping named {name!r}.", field="name")
    if mapping is None:
        mapping = ColumnMapping(created_by=actor if getattr(actor, "is_authenticated", False) else None)
    mapping.name, mapping.description, mapping.config, mapping.is_preset = name, description.strip()[:300], config, False
    try:
        mapping.full_clean(exclude=["created_by", "config"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise ApplicationError(" ".join(messages), field=field) from error
    mapping.save()
    return mapping

"""Bulk inserts of plain tuples, for the demo's and the benchmark's large fixture tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def insert_rows(model: type[Model], field_names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert ``rows`` (values in ``field_names`` order; foreign keys as ids) in one executemany.

    Skips model instances, signals and history: use it only for plain fact rows such as revenue
    history, where building a model instance per row would dominate the load time.
    """
    fields = [model._meta.get_field(name) for name in field_names]
    columns = ", ".join(connection.ops.quote_name(str(getattr(field, "column", field.name))) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})", rows)
    return len(rows)

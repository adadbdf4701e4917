"""Model fields the project needs beyond Django's."""

from __future__ import annotations

from typing import Any

from django.db import models


class RowIdField(models.BigAutoField):
    """A ``BigAutoField`` without SQLite's ``AUTOINCREMENT``, for tables whose rows nothing refers
    to by id (rollups, found by their key; result lines, found by source and external id).
    SQLite then numbers a new row one past the largest id instead of keeping a counter in
    ``sqlite_sequence``, and an import writing millions of rows saves a counter update on each:
    about a sixth of the cost of a rollup upsert, two seconds per million lines. The price is that
    the id of a deleted last row may be given again, which such a table never notices. Other
    databases are unaffected."""

    def db_type_suffix(self, connection: Any) -> str | None:
        if connection.vendor == "sqlite":
            return None
        return super().db_type_suffix(connection)

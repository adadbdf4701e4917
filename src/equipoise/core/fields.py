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


class TextCodeField(models.SmallIntegerField):
    """Text from a short fixed list, stored as its position in ``values``: the ORM reads and writes
    the text (filters, ``values()``, instances), the table holds a ``smallint``. For the rollup
    keys, whose B-trees compared text on every insert: 1.6M new rollup rows were added a quarter
    faster on PostgreSQL with these columns as small integers.

    ``values`` are in the order the text sorts (ASCII), so that the codes sort as the text does;
    a new value goes where it sorts, with a migration that renumbers the stored codes."""

    def __init__(self, *args: Any, values: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.values = tuple(values)
        self._codes = {value: code for code, value in enumerate(self.values)}
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["values"] = self.values
        return name, path, args, kwargs

    def code(self, value: Any) -> int:
        """The code of a value; -1 (matching no row) for text that is not one of ``values``."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return self._codes.get(str(value), -1)

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return self.code(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        return None if value is None else self.values[value]

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return self.values[int(value)]

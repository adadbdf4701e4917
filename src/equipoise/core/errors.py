"""Errors a user can fix, and the ones that mean "not yours to see".

One handler per interface turns these into a response: HTTP 400 (or 403/404) with a JSON body in
the API, a message on the page, exit code 2 in the CLI. Messages say what was wrong and how to
fix it, and name the field (and row, for imports) so the user can find it.
"""

from __future__ import annotations


class ApplicationError(Exception):
    """Invalid input or a forbidden state change; nothing was changed."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.row = row

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.message}
        if self.field:
            body["field"] = self.field
        if self.row is not None:
            body["row"] = self.row
        return body

    def __str__(self) -> str:
        prefix = []
        if self.row is not None:
            prefix.append(f"row {self.row}")
        if self.field:
            prefix.append(self.field)
        return f"{', '.join(prefix)}: {self.message}" if prefix else self.message


class AccessDenied(ApplicationError):
    """The user may see the thing but not do this to it (HTTP 403)."""

    status_code = 403


class NotFound(ApplicationError):
    """The thing does not exist *or the user may not see it*: both look the same (HTTP 404)."""

    status_code = 404

    def __init__(self, what: str = "That record", *, field: str | None = None) -> None:
        super().__init__(f"{what} was not found.", field=field)

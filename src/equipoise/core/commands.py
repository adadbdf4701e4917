"""Base for the product's management commands: user-fixable errors exit with code 2."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from equipoise.core.errors import ApplicationError


class ApplicationCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except ApplicationError as error:
            raise CommandError(str(error), returncode=2) from error

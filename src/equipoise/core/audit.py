"""Audit history: who changed what, when and why.

Plans, buckets and plan months carry django-simple-history records; services stamp each save
with the acting user and a reason through :func:`stamp` so the history answers "why" as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from simple_history.utils import bulk_create_with_history, bulk_update_with_history


def stamp(instance: models.Model, *, actor: Any, reason: str) -> models.Model:
    instance._history_user = actor if getattr(actor, "is_authenticated", False) else None  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    return instance


def bulk_create_audited(model: type[models.Model], objects: Iterable[models.Model], *, actor: Any, reason: str) -> list[Any]:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return list(bulk_create_with_history(list(objects), model, default_user=user, default_change_reason=reason, batch_size=1000))


def bulk_update_audited(model: type[models.Model], objects: Iterable[models.Model], fields: list[str], *, actor: Any, reason: str) -> None:
    user = actor if getattr(actor, "is_authenticated", False) else None
    bulk_update_with_history(list(objects), model, fields, default_user=user, default_change_reason=reason, batch_size=1000)

"""Reads of import batches, their issues and the column mappings, on behalf of an acting user.

Only executives and sales ops / admins see imports: for anyone else every batch and mapping looks
as if it did not exist (NotFound, a 404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from equipoise.core.errors import NotFound
from equipoise.results.models import BatchChannel, ColumnMapping, ImportBatch, ImportIssue
from equipoise.results.services import user_may_import


def batches_visible(user: Any) -> QuerySet[ImportBatch]:
    if not user_may_import(user):
        return ImportBatch.objects.none()
    return ImportBatch.objects.select_related("created_by").order_by("-created_at", "-id")


def access_batch_by_id(user: Any, batch_id: int) -> ImportBatch:
    batch = batches_visible(user).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("That import", field="batch")
    return batch


def default_mapping_name() -> str:
    """The mapping an upload form offers first: the one the last file import used, else the
    generic Equipoise format."""
    last = ImportBatch.objects.filter(channel=BatchChannel.FILE).exclude(mapping_name="").order_by("-created_at", "-id").first()
    if last is not None and ColumnMapping.objects.filter(name=last.mapping_name).exists():
        return last.mapping_name
    return "equipoise"


def batches_read_with(mapping: ColumnMapping) -> int:
    """How many imports were read with the mapping (they keep its name if it is deleted)."""
    return ImportBatch.objects.filter(mapping_name=mapping.name).count()


def batch_issues(batch: ImportBatch) -> QuerySet[ImportIssue]:
    return batch.issues.order_by("row_number", "id")


def access_mapping_by_id(user: Any, mapping_id: int) -> ColumnMapping:
    mapping = ColumnMapping.objects.filter(pk=mapping_id).first() if user_may_import(user) else None
    if mapping is None:
        raise NotFound("That mapping", field="mapping")
    return mapping

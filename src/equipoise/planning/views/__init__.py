"""Planning pages: the plan list, the plan grid with inline month edits, its forms and actions, the gap.

Views parse input, call :mod:`~equipoise.planning.services` or
:mod:`~equipoise.planning.selectors`, and render. Plans are company-level: anyone else gets a 404
from ``access_plan_by_id`` (and from :func:`_require_plan_reader` for pages without a plan yet).
A service's :class:`ApplicationError` becomes a form error or a message naming the field; an
:class:`AccessDenied` escapes to the middleware (403)."""

from equipoise.planning.views.buckets import bucket_add, bucket_delete, bucket_edit
from equipoise.planning.views.gap import plan_gap
from equipoise.planning.views.grid import plan_cell, plan_grid_page
from equipoise.planning.views.versions import plan_approve, plan_archive, plan_create, plan_edit, plan_list, plan_rephase, plan_revise

__all__ = [
    "bucket_add",
    "bucket_delete",
    "bucket_edit",
    "plan_approve",
    "plan_archive",
    "plan_cell",
    "plan_create",
    "plan_edit",
    "plan_gap",
    "plan_grid_page",
    "plan_list",
    "plan_rephase",
    "plan_revise",
]

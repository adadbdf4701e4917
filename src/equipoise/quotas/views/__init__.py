"""Quota pages: the quota table and per-bucket breakdown, allocation and locking, hand adjustments,
commit entry and the commit gap.

Views parse input, call the quota, org and planning selectors and services, and render. Errors a
user can fix (``ApplicationError``) become form errors under the field they name; ``NotFound``
propagates and the error middleware turns it into a 404, exactly as for a record that does not
exist; ``AccessDenied`` propagates to a 403 page."""

from equipoise.quotas.views.allocation import allocate, allocation_lock
from equipoise.quotas.views.commits import commit_gap, commits
from equipoise.quotas.views.table import person_breakdown, quota_adjust, quota_table

__all__ = [
    "allocate",
    "allocation_lock",
    "commit_gap",
    "commits",
    "person_breakdown",
    "quota_adjust",
    "quota_table",
]

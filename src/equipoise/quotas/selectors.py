"""Reads of quotas and commits, scoped to what the acting user may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet, Sum

from equipoise.core.access import Role
from equipoise.core.errors import NotFound
from equipoise.org.models import Person
from equipoise.org.selectors import user_role, visible_people
from equipoise.planning.models import PlanVersion
from equipoise.quotas.models import AllocationState, Commit, Quota, QuotaAllocation


def allocations_visible(user: Any) -> QuerySet[QuotaAllocation]:
    """Allocations whose quotas the user has any part in (everyone in scope sees the same
    allocations). A seller sees quotas once they are locked: a draft is still being adjusted by
    hand, and a figure a seller saw there could change or vanish before it is final."""
    if not visible_people(user).exists():
        return QuotaAllocation.objects.none()
    allocations = QuotaAllocation.objects.select_related("plan", "root").order_by("-created_at")
    if user_role(user) == Role.SELLER:
        allocations = allocations.exclude(state=AllocationState.DRAFT)
    return allocations


def current_allocation(user: Any) -> QuotaAllocation | None:
    allocations = allocations_visible(user).exclude(state=AllocationState.ARCHIVED)
    return allocations.filter(state=AllocationState.LOCKED).first() or allocations.first()


def access_allocation_by_id(user: Any, allocation_id: int) -> QuotaAllocation:
    allocation = allocations_visible(user).filter(pk=allocation_id).first()
    if allocation is None:
        raise NotFound("That allocation", field="allocation")
    return allocation


def quotas_visible(user: Any, allocation: QuotaAllocation) -> QuerySet[Quota]:
    return Quota.objects.filter(allocation=allocation, person__in=visible_people(user))


def access_quota_by_id(user: Any, quota_id: int) -> Quota:
    quotas = Quota.objects.filter(pk=quota_id, person__in=visible_people(user), allocation__in=allocations_visible(user))
    quota = quotas.select_related("person", "bucket", "allocation").first()
    if quota is None:
        raise NotFound("That quota", field="quota")
    return quota


@dataclass
class QuotaTableRow:
    person: Person
    months: list[int]
    total: int
    commits: list[int] | None = None


def quota_table(
    user: Any,
    *,
    allocation: QuotaAllocation,
    months: list[date],
    team: Person | None = None,
    seller: Person | None = None,
    bucket_id: int | None = None,
    people_ids: list[int] | None = None,
) -> list[QuotaTableRow]:
    """Quota per person per month (summed over buckets, or one bucket), within the user's scope."""
    people = visible_people(user).filter(pk__in=Quota.objects.filter(allocation=allocation).values("person_id"))
    if team is not None:
        people = people.filter(path__startswith=team.path)
    if seller is not None:
        people = people.filter(pk=seller.pk)
    if people_ids is not None:
        people = people.filter(pk__in=people_ids)
    people_list = list(people.order_by("path"))
    index = {month: position for position, month in enumerate(months)}
    amounts: dict[int, list[int]] = defaultdict(lambda: [0] * len(months))
    rows = Quota.objects.filter(allocation=allocation, person__in=[p.pk for p in people_list], month__in=months)
    if bucket_id is not None:
        rows = rows.filter(bucket_id=bucket_id)
    for person_id, month, total in (
        rows.values("person_id", "month").annotate(total=Sum("amount_minor")).values_list("person_id", "month", "total")
    ):
        amounts[person_id][index[month]] = total
    return [QuotaTableRow(person=p, months=amounts[p.pk], total=sum(amounts[p.pk])) for p in people_list]


def quota_by_motion(user: Any, *, allocation: QuotaAllocation, person: Person, months: list[date]) -> dict[str, list[int]]:
    """One person's quota per motion and month (buckets without a motion under '')."""
    if not visible_people(user).filter(pk=person.pk).exists():
        raise NotFound("That person", field="person")
    index = {month: position for position, month in enumerate(months)}
    result: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    rows = Quota.objects.filter(allocation=allocation, person=person, month__in=months)
    for motion, month, total in (
        rows.values("bucket__motion", "month").annotate(total=Sum("amount_minor")).values_list("bucket__motion", "month", "total")
    ):
        result[motion][index[month]] = total
    return dict(result)


def commits_visible(user: Any) -> QuerySet[Commit]:
    return Commit.objects.filter(person__in=visible_people(user)).select_related("person")


def access_commit_by_id(user: Any, commit_id: int) -> Commit:
    commit = commits_visible(user).filter(pk=commit_id).first()
    if commit is None:
        raise NotFound("That commit", field="commit")
    return commit


def committed_months(user: Any, *, months: list[date]) -> list[date]:
    """The months of ``months`` for which anyone in the user's view saved a commit, in order.

    Commits are entered a few months ahead, not for a whole horizon: a quota-vs-commit total must
    cover only these months, or months nobody has committed yet read as a shortfall.
    """
    found = set(commits_visible(user).filter(month__in=months).order_by().values_list("month", flat=True).distinct())
    return [month for month in months if month in found]


@dataclass
class CommitGapRow:
    person: Person
    quota: list[int]
    commit: list[int]

    @property
    def quota_total(self) -> int:
        return sum(self.quota)

    @property
    def commit_total(self) -> int:
        return sum(self.commit)

    @property
    def gap_total(self) -> int:
        return self.commit_total - self.quota_total

    @property
    def gaps(self) -> list[int]:
        return [c - q for q, c in zip(self.quota, self.commit, strict=True)]


def commit_gap(
    user: Any, *, allocation: QuotaAllocation, months: list[date], team: Person | None = None, motion: str = ""
) -> list[CommitGapRow]:
    """Commit vs quota per person and month. A manager's commit for a month is their own number if
    they entered one for that month, otherwise the sum of their reports' commits."""
    if motion:
        quota_rows = _quota_rows_for_motion(user, allocation=allocation, months=months, team=team, motion=motion)
    else:
        quota_rows = quota_table(user, allocation=allocation, months=months, team=team)
    index = {month: position for position, month in enumerate(months)}
    people_ids = [row.person.pk for row in quota_rows]
    own: dict[int, dict[int, int]] = defaultdict(dict)  # person → month index → their own commit
    commits = Commit.objects.filter(person_id__in=people_ids, month__in=months)
    if motion:
        commits = commits.filter(motion=motion)
    for person_id, month, total in (
        commits.values("person_id", "month").annotate(total=Sum("amount_minor")).values_list("person_id", "month", "total")
    ):
        own[person_id][index[month]] = total
    by_path = sorted(quota_rows, key=lambda row: row.person.path)
    reports: dict[int, list[int]] = defaultdict(list)
    for row in by_path:
        if row.person.manager_id is not None:
            reports[row.person.manager_id].append(row.person.pk)
    rolled: dict[int, list[int]] = {}
    for row in reversed(by_path):  # deepest first, so reports are rolled before their manager
        total = [0] * len(months)
        for report_id in reports[row.person.pk]:
            total = [a + b for a, b in zip(total, rolled[report_id], strict=True)]
        for month_index, amount in own.get(row.person.pk, {}).items():
            total[month_index] = amount
        rolled[row.person.pk] = total
    return [CommitGapRow(person=row.person, quota=row.months, commit=rolled[row.person.pk]) for row in by_path]


def _quota_rows_for_motion(
    user: Any, *, allocation: QuotaAllocation, months: list[date], team: Person | None, motion: str
) -> list[QuotaTableRow]:
    rows = quota_table(user, allocation=allocation, months=months, team=team)
    index = {month: position for position, month in enumerate(months)}
    amounts: dict[int, list[int]] = defaultdict(lambda: [0] * len(months))
    quotas = Quota.objects.filter(allocation=allocation, person_id__in=[r.person.pk for r in rows], month__in=months, bucket__motion=motion)
    for person_id, month, total in (
        quotas.values("person_id", "month").annotate(total=Sum("amount_minor")).values_list("person_id", "month", "total")
    ):
        amounts[person_id][index[month]] = total
    return [QuotaTableRow(person=r.person, months=amounts[r.person.pk], total=sum(amounts[r.person.pk])) for r in rows]


def plan_for_allocation(allocation: QuotaAllocation) -> PlanVersion:
    return allocation.plan

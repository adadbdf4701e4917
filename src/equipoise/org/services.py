"""Writes to the organisation: people and reporting lines, kept as a tree."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from equipoise.core.access import Role
from equipoise.core.errors import ApplicationError
from equipoise.org.models import Customer, Person, ProductApplication, ProductLine


@transaction.atomic
def person_create(
    *,
    full_name: str,
    role: Role | str,
    manager: Person | None = None,
    user: Any = None,
    email: str = "",
    team_name: str = "",
    carries_quota: bool | None = None,
    hire_date: date | None = None,
) -> Person:
    if not full_name.strip():
        raise ApplicationError("A person needs a name.", field="full_name")
    role = Role(role)
    person = Person.objects.create(
        full_name=full_name.strip(),
        role=role,
        manager=manager,
        user=user,
        email=email,
        team_name=team_name,
        carries_quota=(role == Role.SELLER) if carries_quota is None else carries_quota,
        hire_date=hire_date,
    )
    person.path = f"{manager.path if manager else '/'}{person.pk}/"
    person.depth = manager.depth + 1 if manager else 0
    person.save(update_fields=["path", "depth"])
    return person


@transaction.atomic
def person_set_manager(*, person: Person, manager: Person | None) -> Person:
    """Move ``person`` (and everyone below them) under ``manager``. Refuses a cycle."""
    if manager is not None and manager.path.startswith(person.path):
        raise ApplicationError(f"{manager} reports to {person}: a person cannot report to their own subtree.", field="manager")
    old_path, old_depth = person.path, person.depth
    new_path = f"{manager.path if manager else '/'}{person.pk}/"
    new_depth = manager.depth + 1 if manager else 0
    descendants = list(Person.objects.filter(path__startswith=old_path).exclude(pk=person.pk))
    person.manager = manager
    person.path, person.depth = new_path, new_depth
    person.save(update_fields=["manager", "path", "depth"])
    for descendant in descendants:
        descendant.path = new_path + descendant.path[len(old_path) :]
        descendant.depth = descendant.depth - old_depth + new_depth
    Person.objects.bulk_update(descendants, ["path", "depth"])
    return person


def rebuild_paths() -> int:
    """Recompute every path and depth from the manager links (after a bulk load). Returns people updated."""
    people = {person.pk: person for person in Person.objects.all()}
    children: dict[int | None, list[int]] = {}
    for person in people.values():
        children.setdefault(person.manager_id, []).append(person.pk)
    stack = [(pk, "/", 0) for pk in children.get(None, [])]
    seen = 0
    while stack:
        pk, prefix, depth = stack.pop()
        person = people[pk]
        person.path, person.depth = f"{prefix}{pk}/", depth
        seen += 1
        stack.extend((child, person.path, depth + 1) for child in children.get(pk, []))
    if seen != len(people):
        raise ApplicationError("The reporting lines contain a cycle.", field="manager")
    Person.objects.bulk_update(people.values(), ["path", "depth"], batch_size=2000)
    return seen


def customer_create(*, code: str, name: str, home_region_id: int, owner: Person | None = None, is_named_account: bool = False) -> Customer:
    """A customer; the code is its identity across imports."""
    if not code.strip():
        raise ApplicationError("A customer needs a code.", field="customer")
    return Customer.objects.create(
        code=code.strip(),
        name=(name.strip() or code.strip())[:200],
        home_region_id=home_region_id,
        owner=owner,
        is_named_account=is_named_account,
    )


def product_line_create(*, code: str, name: str) -> ProductLine:
    if not code.strip():
        raise ApplicationError("A product line needs a code.", field="product_line")
    return ProductLine.objects.create(code=code.strip(), name=(name.strip() or code.strip())[:120])


def product_application_create(*, code: str, name: str, product_line_id: int) -> ProductApplication:
    if not code.strip():
        raise ApplicationError("A product application needs a code.", field="product_application")
    return ProductApplication.objects.create(code=code.strip(), name=(name.strip() or code.strip())[:120], product_line_id=product_line_id)

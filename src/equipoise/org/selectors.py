"""Reads of the organisation, always on behalf of an acting user.

``visible_people`` is the one definition of scope: executives, finance and admins see everyone,
a manager their subtree (themselves included), a seller only themselves. Every other app's
selectors build on it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from equipoise.core.access import COMPANY_WIDE_ROLES, Role
from equipoise.core.errors import ApplicationError, NotFound
from equipoise.org.models import Company, Person


def company_get() -> Company:
    """The company's settings; before any are saved, the defaults (not stored: reads never write)."""
    return Company.objects.order_by("id").first() or Company()


def person_for_user(user: Any) -> Person | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def user_role(user: Any) -> Role | None:
    """The user's role; a superuser without a person record acts as an admin."""
    if not getattr(user, "is_authenticated", False):
        return None
    person = person_for_user(user)
    if person is not None and person.is_active:
        return Role(person.role)
    if user.is_superuser:
        return Role.ADMIN
    return None


def user_sees_company(user: Any) -> bool:
    return user_role(user) in COMPANY_WIDE_ROLES


def visible_people(user: Any) -> QuerySet[Person]:
    role = user_role(user)
    if role is None:
        return Person.objects.none()
    if role in COMPANY_WIDE_ROLES:
        return Person.objects.all()
    person = person_for_user(user)
    assert person is not None  # a non-company-wide role always comes from a person record
    if role == Role.MANAGER:
        return Person.objects.filter(path__startswith=person.path)
    return Person.objects.filter(pk=person.pk)


def access_person_by_id(user: Any, person_id: int) -> Person:
    """The person, if the user may see them; otherwise NotFound, exactly as if they did not exist."""
    person = visible_people(user).filter(pk=person_id).first()
    if person is None:
        raise NotFound("That person", field="person")
    return person


def subtree(person: Person) -> QuerySet[Person]:
    return Person.objects.filter(path__startswith=person.path)


def managers_visible(user: Any) -> QuerySet[Person]:
    """People with reports whom the user may see: the teams they can filter by."""
    return visible_people(user).filter(reports__isnull=False).distinct().order_by("path")


def sellers_visible(user: Any) -> QuerySet[Person]:
    return visible_people(user).filter(carries_quota=True).order_by("full_name")


def dimension_by_code(model: type[Any], code: str, *, field: str) -> Any:
    """A region, product line, product application or customer by its code, or an error naming the field."""
    found = model.objects.filter(code=code).first()
    if found is None:
        raise ApplicationError(f"There is no {model._meta.verbose_name} with code {code!r}.", field=field)
    return found


def sales_head() -> Person:
    """The top of the sales tree (the VP): the one active person without a manager who has reports."""
    heads = list(Person.objects.filter(manager__isnull=True, is_active=True, reports__isnull=False).distinct()[:2])
    if len(heads) != 1:
        if not heads:
            raise ApplicationError("The organisation has no head: add a person without a manager who has reports.", field="root")
        raise ApplicationError("The organisation has more than one head: choose the root person explicitly.", field="root")
    return heads[0]

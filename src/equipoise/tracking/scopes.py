"""Whose figures a tracking table shows: the company, a team, a seller, or a customer — always
within the acting user's scope (:func:`equipoise.org.selectors.visible_people`).

``access_scope`` and ``access_customer_by_id`` are the guards every tracking route goes through:
anything outside the user's scope is :class:`~equipoise.core.errors.NotFound`, exactly as if it
did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q

from equipoise.core.access import COMPANY_WIDE_ROLES
from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.org.models import Customer, Person
from equipoise.org.selectors import managers_visible, person_for_user, sellers_visible, user_role, user_sees_company, visible_people
from equipoise.results.models import ResultLine
from equipoise.tracking.actuals import COMPANY, SELLER, TEAM

# Sellers offered in the scope list; in a larger organisation they are reached by drilling.
SCOPE_SELLER_OPTIONS_LIMIT = 300


@dataclass(frozen=True)
class Scope:
    """Whose figures: ``kind`` is the org part (company, team or seller); a customer scope is the
    user's own org scope narrowed to one customer."""

    kind: str
    person: Person | None
    customer: Customer | None
    text: str
    label: str

    @property
    def has_reports(self) -> bool:
        return self.kind in (COMPANY, TEAM)

    @property
    def org_text(self) -> str:
        if self.kind == COMPANY or self.person is None:
            return "company"
        return f"{self.kind}:{self.person.pk}"


def with_reports_flag(people: Any) -> Any:
    return people.annotate(has_reports=Exists(Person.objects.filter(manager_id=OuterRef("pk"))))


def _person_scope(person: Person) -> Scope:
    if getattr(person, "has_reports", False):
        return Scope(kind=TEAM, person=person, customer=None, text=f"team:{person.pk}", label=f"Team {person.label}")
    return Scope(kind=SELLER, person=person, customer=None, text=f"seller:{person.pk}", label=person.full_name)


def home_scope(user: Any) -> Scope:
    """The widest scope the user has: the company, their team, or themselves."""
    role = user_role(user)
    if role is None:
        raise AccessDenied("Your login is not linked to anyone in the sales organisation: ask sales ops to link it.")
    if role in COMPANY_WIDE_ROLES:
        return Scope(kind=COMPANY, person=None, customer=None, text="company", label="Company")
    person = person_for_user(user)
    assert person is not None  # a role other than company-wide comes from a person record
    return _person_scope(with_reports_flag(Person.objects.filter(pk=person.pk)).get())


def _record_id(raw: str, what: str, field_name: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise NotFound(what, field=field_name)
    return int(raw)


def access_customer_by_id(user: Any, customer_id: int) -> Customer:
    """The customer, if the user may see it: everyone company-wide; others, customers owned by or
    credited to someone in their scope. Otherwise NotFound, as if it did not exist."""
    customers = Customer.objects.filter(pk=customer_id)
    if not user_sees_company(user):
        people = visible_people(user)
        credited = ResultLine.objects.filter(customer_id=OuterRef("pk"), seller__in=people)
        customers = customers.filter(Q(owner__in=people) | Q(Exists(credited)))
    customer = customers.first()
    if customer is None:
        raise NotFound("That customer", field="customer")
    return customer


def access_scope(user: Any, text: str) -> Scope:
    """``company``, ``team:<id>``, ``seller:<id>`` or ``customer:<id>`` (empty: the user's own).

    A person with reports is always a team and one without a seller, whichever was asked."""
    text = (text or "").strip()
    if not text:
        return home_scope(user)
    kind, _, raw_id = text.partition(":")
    if kind == "company" and not raw_id:
        if not user_sees_company(user):
            if user_role(user) is None:
                home_scope(user)  # says why
            raise NotFound("That scope", field="scope")
        return Scope(kind=COMPANY, person=None, customer=None, text="company", label="Company")
    if kind in (TEAM, SELLER):
        person = with_reports_flag(visible_people(user)).filter(pk=_record_id(raw_id, "That person", "scope")).first()
        if person is None:
            raise NotFound("That person", field="scope")
        return _person_scope(person)
    if kind == "customer":
        customer = access_customer_by_id(user, _record_id(raw_id, "That customer", "scope"))
        home = home_scope(user)
        return Scope(kind=home.kind, person=home.person, customer=customer, text=f"customer:{customer.pk}", label=customer.name)
    raise ApplicationError(
        f"{text!r} is not a scope: use company, team:<person id>, seller:<person id> or customer:<customer id>.", field="scope"
    )


def scope_options(user: Any, current: Scope | None = None) -> list[tuple[str, str]]:
    """Scopes to offer in the picker: the company, teams in scope, and sellers (while few)."""
    options: list[tuple[str, str]] = []
    if user_sees_company(user):
        options.append(("company", "Company"))
    teams = list(managers_visible(user))
    root_depth = min((team.depth for team in teams), default=0)
    options += [(f"team:{team.pk}", "\u2003" * (team.depth - root_depth) + f"Team {team.label}") for team in teams]
    team_ids = {team.pk for team in teams}
    sellers = [seller for seller in sellers_visible(user)[: SCOPE_SELLER_OPTIONS_LIMIT + 1] if seller.pk not in team_ids]
    if len(sellers) <= SCOPE_SELLER_OPTIONS_LIMIT:
        options += [(f"seller:{seller.pk}", seller.full_name) for seller in sellers]
    if current is not None and current.text not in {value for value, _ in options}:
        prefix = "Customer " if current.customer is not None else ""
        options.append((current.text, f"{prefix}{current.label}"))
    return options

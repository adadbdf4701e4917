"""Whose retention: the scopes a user may ask for, and the options the retention page offers.

Scopes: ``company``; ``team:<person id>`` (everything sold by that person's subtree);
``seller:<person id>`` (that person's own contracts or credits); ``region:<region id>`` (customers
whose home region is that region or one of its countries). A scope is always inside what the user
may see (:func:`equipoise.org.selectors.visible_people`): the company is for company-wide roles; a
person outside the user's scope is NotFound, as if they did not exist; a region is narrowed to the
user's own people (a manager's subtree, a seller's own customers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from equipoise.core.access import COMPANY_WIDE_ROLES, Role
from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.org.models import Customer, Person, ProductLine, Region
from equipoise.org.selectors import managers_visible, person_for_user, sellers_visible, user_role
from equipoise.results.models import Contract, ResultLine

SCOPE_SELLER_OPTIONS_LIMIT = 300


@dataclass(frozen=True)
class RetentionScope:
    """Whose retention. ``within_*`` narrow a region to the viewer's own people."""

    kind: str
    text: str
    label: str
    person: Person | None = None
    region_ids: tuple[int, ...] = ()
    within_path: str | None = None
    within_seller_id: int | None = None

    def condition(self, *, seller_ids: Sequence[int] | None = None) -> Q:
        """The filter on contracts or result lines (both have ``seller`` and ``customer``).

        ``seller_ids``: the subtree's people, given as ids so that result lines are read through
        their ``(seller, occurred_on)`` index rather than a join on the people's paths."""
        condition = Q()
        subtree = self.subtree_path
        if subtree is not None:
            condition &= Q(seller_id__in=seller_ids) if seller_ids is not None else Q(seller__path__startswith=subtree)
        if self.kind == "seller" and self.person is not None:
            condition &= Q(seller_id=self.person.pk)
        if self.kind == "region":
            condition &= Q(customer__home_region_id__in=self.region_ids)
        if self.within_seller_id is not None:
            condition &= Q(seller_id=self.within_seller_id)
        return condition

    @property
    def subtree_path(self) -> str | None:
        """The path prefix of the people whose figures count, when the scope is a subtree."""
        if self.kind == "team" and self.person is not None:
            return self.person.path
        return self.within_path


def _viewer(user: Any) -> tuple[Role, Person | None]:
    role = user_role(user)
    if role is None:
        raise AccessDenied("Your login is not linked to anyone in the sales organisation: ask sales ops to link it.")
    return role, person_for_user(user)


def home_scope(user: Any) -> RetentionScope:
    """The widest scope the user has: the company, their team, or their own customers."""
    role, person = _viewer(user)
    if role in COMPANY_WIDE_ROLES:
        return RetentionScope(kind="company", text="company", label="Company")
    assert person is not None  # a role other than company-wide comes from a person record
    if role == Role.MANAGER:
        return _person_scope("team", person)
    return _person_scope("seller", person)


def _person_scope(kind: str, person: Person) -> RetentionScope:
    if kind == "team":
        return RetentionScope(kind="team", text=f"team:{person.pk}", label=f"Team {person.label}", person=person)
    return RetentionScope(kind="seller", text=f"seller:{person.pk}", label=person.full_name, person=person)


def _record_id(raw: str, what: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise NotFound(what, field="scope")
    return int(raw)


def access_retention_scope(user: Any, text: str) -> RetentionScope:
    """``company``, ``team:<id>``, ``seller:<id>`` or ``region:<id>``; empty: the user's own scope."""
    text = (text or "").strip()
    role, person = _viewer(user)
    if not text:
        return home_scope(user)
    kind, _, raw_id = text.partition(":")
    sees_company = role in COMPANY_WIDE_ROLES
    if kind == "company" and not raw_id:
        if not sees_company:
            raise NotFound("That scope", field="scope")
        return home_scope(user)
    if kind in ("team", "seller"):
        people = Person.objects.all()
        if not sees_company:
            assert person is not None
            people = people.filter(path__startswith=person.path) if role == Role.MANAGER else people.filter(pk=person.pk)
        found = people.filter(pk=_record_id(raw_id, "That person")).first()
        if found is None:
            raise NotFound("That person", field="scope")
        return _person_scope(kind, found)
    if kind == "region":
        region_id = _record_id(raw_id, "That region")
        regions = list(Region.objects.filter(Q(pk=region_id) | Q(parent_id=region_id)).values_list("id", "name"))
        name = next((name for pk, name in regions if pk == region_id), None)
        if name is None:
            raise NotFound("That region", field="scope")
        ids = tuple(sorted(pk for pk, _ in regions))
        if sees_company:
            return RetentionScope(kind="region", text=f"region:{region_id}", label=f"Region {name}", region_ids=ids)
        assert person is not None
        if role == Role.MANAGER:
            label = f"Region {name}, team {person.label}"
            return RetentionScope("region", f"region:{region_id}", label, region_ids=ids, within_path=person.path, person=person)
        return RetentionScope("region", f"region:{region_id}", f"Region {name}, your customers", region_ids=ids, within_seller_id=person.pk)
    raise ApplicationError(
        f"{text!r} is not a scope: use company, team:<person id>, seller:<person id> or region:<region id>.", field="scope"
    )


def _own_data(user: Any) -> QuerySet[Any] | None:
    """The contracts (or, for a company without contracts, the result lines) of the user's own scope
    — what their retention is measured on — or None for a company-wide role (everything)."""
    role, _ = _viewer(user)
    if role in COMPANY_WIDE_ROLES:
        return None
    scope = home_scope(user)
    condition = scope.condition()
    if scope.subtree_path is not None:  # the subtree's ids, so result lines are read by their seller index
        condition = Q(seller_id__in=Person.objects.filter(path__startswith=scope.subtree_path).values("id"))
    source: QuerySet[Any] = Contract.objects.all() if Contract.objects.exists() else ResultLine.objects.all()
    return source.filter(condition)


def _region_options(own: QuerySet[Any] | None) -> list[tuple[str, str]]:
    """Regions by name, each followed by its countries by name; for a seller or a manager only those
    where their own scope (``own``, see :func:`_own_data`) has customers (a region elsewhere would
    only ever show an empty page). One query (the ``IN`` is a subquery)."""
    homes = own.values("customer__home_region_id") if own is not None else Customer.objects.values("home_region_id")
    regions = list(
        Region.objects.filter(Q(pk__in=homes) | Q(children__pk__in=homes)).distinct().values_list("id", "name", "parent_id", "parent__name")
    )
    listed = {pk for pk, _, _, _ in regions}
    countries: dict[int, list[tuple[str, int]]] = {}
    tops: list[tuple[str, int]] = []
    labels: dict[int, str] = {}
    for pk, name, parent_id, parent_name in regions:
        labels[pk] = f"Region {name}" + (f" ({parent_name})" if parent_name else "")
        if parent_id in listed:
            countries.setdefault(parent_id, []).append((name.casefold(), pk))
        else:
            tops.append((name.casefold(), pk))
    options: list[tuple[str, str]] = []
    for _, pk in sorted(tops):
        options.append((f"region:{pk}", labels[pk]))
        options += [(f"region:{child}", "\u2003" + labels[child]) for _, child in sorted(countries.get(pk, []))]
    return options


def picker_options(
    user: Any, current: RetentionScope | None, product_line: ProductLine | None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The retention page's two pickers, :func:`scope_options` and :func:`product_line_options`,
    from one reading of the user's own scope."""
    own = _own_data(user)
    return _scope_options(user, current, own), _product_line_options(product_line, own)


def scope_options(user: Any, current: RetentionScope | None = None) -> list[tuple[str, str]]:
    """The picker's scopes: the company, teams and sellers in the user's scope, and regions (see
    :func:`_region_options`). The current scope is always offered, first if nothing else offers it."""
    return _scope_options(user, current, _own_data(user))


def _scope_options(user: Any, current: RetentionScope | None, own: QuerySet[Any] | None) -> list[tuple[str, str]]:
    role, person = _viewer(user)
    options: list[tuple[str, str]] = []
    if role in COMPANY_WIDE_ROLES:
        options.append(("company", "Company"))
    teams = list(managers_visible(user))
    root_depth = min((team.depth for team in teams), default=0)
    options += [(f"team:{team.pk}", "\u2003" * (team.depth - root_depth) + f"Team {team.label}") for team in teams]
    sellers = list(sellers_visible(user)[: SCOPE_SELLER_OPTIONS_LIMIT + 1])
    if role == Role.SELLER and person is not None and person not in sellers:
        sellers.append(person)
    if len(sellers) <= SCOPE_SELLER_OPTIONS_LIMIT:
        options += [(f"seller:{seller.pk}", seller.full_name + ("" if seller.is_active else " (no longer active)")) for seller in sellers]
    options += _region_options(own)
    if current is not None and current.text not in {value for value, _ in options}:
        options.insert(0, (current.text, current.label))
    return options


def product_line_options(user: Any, current: ProductLine | None = None) -> list[tuple[str, str]]:
    """Product lines by name; for a seller or a manager only those their own scope has contracts (or
    results) in. The current one is always offered. One query."""
    return _product_line_options(current, _own_data(user))


def _product_line_options(current: ProductLine | None, own: QuerySet[Any] | None) -> list[tuple[str, str]]:
    lines = ProductLine.objects.all()
    if own is not None:
        lines = lines.filter(pk__in=own.values("product_line_id"))
    options = [(str(pk), name) for pk, name in lines.order_by("name").values_list("id", "name")]
    if current is not None and str(current.pk) not in {value for value, _ in options}:
        options.insert(0, (str(current.pk), current.name))
    return options

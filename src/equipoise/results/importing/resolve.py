"""From a canonical line to a validated :class:`~equipoise.results.ingest.LineInput`: the rules every
channel (file import, API push) shares.

- kind and motion must be known values; the currency a three-letter code;
- credit notes and churn are stored negative whatever sign the source used; a negative invoice is
  a credit note; a negative booking stays a booking (a cancellation reduces what was booked);
- a zero amount is skipped ("zero amount") unless the line is churn (a logo lost at no value);
- the customer is found by code, else by name; the region defaults to the customer's home region;
- the product by application (code or name), else by product line, else the default product line;
- sellers by the mapping's match rule; shares must be positive, distinct and sum to exactly 100%;
  with no seller, the customer's owner is credited when the mapping allows it.

Unknown customers, products and sellers are created only when the policy says so; everything the
:class:`Directory` looks up is loaded once per import, so a row costs dictionary look-ups only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from django.contrib.auth import get_user_model

from equipoise.core.access import Role
from equipoise.org.models import Customer, Motion, Person, ProductApplication, ProductLine, Region
from equipoise.org.services import customer_create, person_create, product_application_create, product_line_create
from equipoise.results.importing.lines import CanonicalLine, Problem, RowInvalid, RowSkipped, SellerRef, truncate
from equipoise.results.ingest import LineInput
from equipoise.results.models import ResultKind

T = TypeVar("T")

KINDS = frozenset(ResultKind.values)
MOTIONS = frozenset(Motion.values)
NEGATIVE_KINDS = frozenset({ResultKind.CREDIT_NOTE.value, ResultKind.CHURN.value})
_NOT_CODE = re.compile(r"[^A-Z0-9]+")


def _key(text: str) -> str:
    """How names compare: ignoring case and repeated spaces."""
    return " ".join(text.split()).casefold()


def code_from_name(name: str, limit: int) -> str:
    code = _NOT_CODE.sub("-", name.upper()).strip("-")
    return (code or "X")[:limit].rstrip("-") or "X"


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    id: int
    home_region_id: int
    owner_id: int | None
    name: str


@dataclass(frozen=True)
class Policy:
    """What to do with references the directory does not know, and the defaults to fall back on."""

    create_customers: bool = False
    create_products: bool = False
    create_sellers: bool = False
    default_region: str = ""
    default_product_line: str = ""
    application_lines: tuple[tuple[str, str], ...] = ()
    seller_fallback_to_owner: bool = True


class Directory:
    """Customers, regions, products and people of the organisation, by the keys sources use."""

    def __init__(self) -> None:
        self.customers_by_code: dict[str, CustomerInfo] = {}
        for pk, code, name, region_id, owner_id in Customer.objects.values_list("id", "code", "name", "home_region_id", "owner_id"):
            self.customers_by_code[code.casefold()] = CustomerInfo(pk, region_id, owner_id, name)
        self._customers_by_name: dict[str, list[CustomerInfo]] | None = None
        self.regions: dict[str, list[int]] = defaultdict(list)
        for pk, code, name in Region.objects.values_list("id", "code", "name"):
            self.regions[code.casefold()].append(pk)
            if _key(name) != code.casefold():
                self.regions[_key(name)].append(pk)
        self.lines: dict[str, list[int]] = defaultdict(list)
        self.line_codes: set[str] = set()
        for pk, code, name in ProductLine.objects.values_list("id", "code", "name"):
            self.line_codes.add(code.casefold())
            self.lines[code.casefold()].append(pk)
            if _key(name) != code.casefold():
                self.lines[_key(name)].append(pk)
        self.applications: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.application_codes: set[str] = set()
        for pk, code, name, line_id in ProductApplication.objects.values_list("id", "code", "name", "product_line_id"):
            self.application_codes.add(code.casefold())
            self.applications[code.casefold()].append((pk, line_id))
            if _key(name) != code.casefold():
                self.applications[_key(name)].append((pk, line_id))
        self._people: dict[str, dict[str, list[int]]] | None = None

    # -- customers ------------------------------------------------------------------------------

    def customers_by_name(self) -> dict[str, list[CustomerInfo]]:
        if self._customers_by_name is None:
            by_name: dict[str, list[CustomerInfo]] = defaultdict(list)
            for info in self.customers_by_code.values():
                by_name[_key(info.name)].append(info)
            self._customers_by_name = by_name
        return self._customers_by_name

    def customer_create(self, *, code: str, name: str, home_region_id: int) -> CustomerInfo:
        code = code or self._free_code(code_from_name(name, 60))
        customer = customer_create(code=code, name=name or code, home_region_id=home_region_id)
        info = CustomerInfo(customer.pk, home_region_id, None, customer.name)
        self.customers_by_code[code.casefold()] = info
        if self._customers_by_name is not None:
            self._customers_by_name[_key(customer.name)].append(info)
        return info

    def _free_code(self, base: str) -> str:
        code, suffix = base, 1
        while code.casefold() in self.customers_by_code:
            suffix += 1
            code = f"{base}-{suffix}"
        return code

    # -- products -------------------------------------------------------------------------------

    def product_line_create(self, reference: str) -> int:
        code = code_from_name(reference, 32)
        base, suffix = code, 1
        while code.casefold() in self.line_codes:
            suffix += 1
            code = f"{base[:28]}-{suffix}"
        line = product_line_create(code=code, name=reference)
        self.line_codes.add(code.casefold())
        self.lines[code.casefold()].append(line.pk)
        if _key(reference) != code.casefold():
            self.lines[_key(reference)].append(line.pk)
        return line.pk

    def application_create(self, reference: str, line_id: int) -> tuple[int, int]:
        code = code_from_name(reference, 32)
        base, suffix = code, 1
        while code.casefold() in self.application_codes:
            suffix += 1
            code = f"{base[:28]}-{suffix}"
        application = product_application_create(code=code, name=reference, product_line_id=line_id)
        found = (application.pk, line_id)
        self.application_codes.add(code.casefold())
        self.applications[code.casefold()].append(found)
        if _key(reference) != code.casefold():
            self.applications[_key(reference)].append(found)
        return found

    # -- people ---------------------------------------------------------------------------------

    def people(self) -> dict[str, dict[str, list[int]]]:
        if self._people is None:
            by: dict[str, dict[str, list[int]]] = {"name": defaultdict(list), "email": defaultdict(list), "username": defaultdict(list)}
            by["person_id"] = defaultdict(list)
            for pk, full_name, email in Person.objects.values_list("id", "full_name", "email"):
                by["name"][_key(full_name)].append(pk)
                if email:
                    by["email"][email.casefold()].append(pk)
                by["person_id"][str(pk)].append(pk)
            usernames = get_user_model().objects.filter(person__isnull=False).values_list("username", "person__id")
            for username, pk in usernames:
                by["username"][username.casefold()].append(pk)
            self._people = by
        return self._people

    def people_matching(self, reference: str, match: str) -> tuple[str, list[int]]:
        """The rule ``auto`` comes to (an e-mail address, else a user name, else a full name) and the
        people a trimmed seller reference names by it."""
        people = self.people()
        if match == "auto":
            if "@" in reference:
                match = "email"
            elif people["username"].get(reference.casefold()):
                match = "username"
            else:
                match = "name"
        key = _key(reference) if match == "name" else reference.casefold()
        return match, people[match].get(key, [])

    def seller_create(self, reference: str) -> int:
        email = reference if "@" in reference else ""
        full_name = " ".join(reference.split()) if not email else reference
        person = person_create(full_name=full_name[:200], role=Role.SELLER, email=email)
        people = self.people()
        people["name"][_key(person.full_name)].append(person.pk)
        if email:
            people["email"][email.casefold()].append(person.pk)
        people["person_id"][str(person.pk)].append(person.pk)
        return person.pk


class LineResolver:
    """Turns canonical lines into ``LineInput`` values for one source, under one policy."""

    def __init__(self, *, source: str, policy: Policy, directory: Directory | None = None) -> None:
        self.source = source
        self.policy = policy
        self.directory = directory or Directory()
        self._application_lines = {key.casefold(): value for key, value in policy.application_lines}
        self._default_region_id: int | None = None
        if policy.default_region:
            found = self.directory.regions.get(_key(policy.default_region), [])
            if len(found) == 1:
                self._default_region_id = found[0]
        self.created = {"customers": 0, "products": 0, "sellers": 0}
        self._checking = False  # see problems_beside: create nothing, only say what is wrong

    def problems_beside(self, line: CanonicalLine, reported: Sequence[Problem]) -> list[Problem]:
        """For a row the mapping found problems in already (a date that does not exist, say): what
        resolving it would find as well (an unknown customer, a seller no one is), so that one
        import reports everything wrong with the row, not one more thing each time it is fixed.
        Creates nothing, since the row is not imported, and says nothing more about a field a
        reported problem is about. A row whose values do not line up with the header is left as
        reported: its references would be noise."""
        fields = {problem.field for problem in reported}
        if "" in fields:
            return []
        problems: list[Problem] = []
        self._checking = True
        try:
            self._values(line, problems)
            customer = self._customer(line, problems)
            self._region(line, customer, problems)
            self._product(line, problems)
            if not fields & {"seller", "sellers", "shares"}:
                self._credits(line, customer, problems)
        finally:
            self._checking = False
        return [problem for problem in problems if problem.field not in fields]

    def resolve(self, line: CanonicalLine) -> LineInput:
        """The validated line; RowSkipped for a zero amount; RowInvalid listing every problem."""
        problems: list[Problem] = []
        self._values(line, problems)
        kind, currency = line.kind, line.currency
        amount = line.amount_minor
        if kind in NEGATIVE_KINDS:
            amount = -abs(amount)
        elif kind == ResultKind.INVOICE and amount < 0:
            kind = ResultKind.CREDIT_NOTE.value
        if amount == 0 and kind != ResultKind.CHURN and not problems:
            raise RowSkipped("zero amount")
        customer = self._customer(line, problems)
        region_id = self._region(line, customer, problems)
        product_line_id, application_id = self._product(line, problems)
        credits = self._credits(line, customer, problems)
        if problems:
            raise RowInvalid(problems)
        assert customer is not None and region_id is not None and product_line_id is not None
        resolved = LineInput(
            row=line.row,
            source=self.source,
            external_id=line.external_id,
            kind=kind,
            occurred_on=line.occurred_on,
            currency=currency,
            amount_minor=amount,
            customer_id=customer.id,
            region_id=region_id,
            product_line_id=product_line_id,
            product_application_id=application_id,
            motion=line.motion,
            credits=credits,
        )
        return resolved._replace(digest=resolved.fingerprint())  # as the fast path makes it

    def _values(self, line: CanonicalLine, problems: list[Problem]) -> None:
        """The external id, kind, motion and currency: present, known, of the right shape."""
        if not line.external_id:
            problems.append(Problem("external_id", "", "The row has no external id."))
        elif len(line.external_id) > 128:
            problems.append(Problem("external_id", truncate(line.external_id), "The external id is longer than 128 characters."))
        kind = line.kind
        if kind not in KINDS:
            problems.append(
                Problem("kind", truncate(kind), f"Unknown kind: use {', '.join(sorted(KINDS))} (or map the value in the mapping).")
            )
        if line.motion not in MOTIONS:
            problems.append(
                Problem(
                    "motion", truncate(line.motion), f"Unknown motion: use {', '.join(Motion.values)} (or map the value in the mapping)."
                )
            )
        currency = line.currency
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            problems.append(Problem("currency", truncate(currency), "Not a currency code: use three capital letters such as EUR or USD."))

    # -- references -----------------------------------------------------------------------------

    def _create(self, kind: str, create: Callable[[], T]) -> T | None:
        """Create a customer, product or seller the policy creates, counted under ``kind``; nothing
        while :meth:`problems_beside` checks a row that will not be imported (None: it would be)."""
        if self._checking:
            return None
        self.created[kind] += 1
        return create()

    def _region_id(self, reference: str) -> int | None:
        found = self.directory.regions.get(_key(reference), [])
        return found[0] if len(found) == 1 else None

    def _customer(self, line: CanonicalLine, problems: list[Problem]) -> CustomerInfo | None:
        directory = self.directory
        code, name = line.customer_code, line.customer_name
        if code:
            info = directory.customers_by_code.get(code.casefold())
            field, shown = "customer_code", code
        elif name:
            matches = directory.customers_by_name().get(_key(name), [])
            if len(matches) > 1:
                problems.append(Problem("customer_name", truncate(name), f"{len(matches)} customers have this name: use customer codes."))
                return None
            info = matches[0] if matches else None
            field, shown = "customer_name", name
        else:
            problems.append(Problem("customer", "", "The row names no customer."))
            return None
        if info is not None:
            return info
        if not self.policy.create_customers:
            problems.append(Problem(field, truncate(shown), "Unknown customer (the mapping rejects unknown customers)."))
            return None
        if len(code) > 64:
            problems.append(Problem(field, truncate(code), "A customer code is at most 64 characters."))
            return None
        region_id = self._region_id(line.region) if line.region else self._default_region_id
        if region_id is None:
            problems.append(
                Problem(field, truncate(shown), "A new customer needs a home region: give the row a known region or set a default region.")
            )
            return None
        return self._create("customers", lambda: directory.customer_create(code=code, name=name, home_region_id=region_id))

    def _region(self, line: CanonicalLine, customer: CustomerInfo | None, problems: list[Problem]) -> int | None:
        if line.region:
            found = self.directory.regions.get(_key(line.region), [])
            if len(found) != 1:
                reason = "Unknown region: use a region's code or name." if not found else "Several regions have this name: use the code."
                problems.append(Problem("region", truncate(line.region), reason))
                return None
            return found[0]
        return customer.home_region_id if customer else None

    def _line_id(self, reference: str, problems: list[Problem], *, field: str, create: bool) -> int | None:
        found = self.directory.lines.get(_key(reference), [])
        if len(found) == 1:
            return found[0]
        if found:
            problems.append(Problem(field, truncate(reference), "Several product lines have this name: use the code."))
            return None
        if create and self.policy.create_products:
            return self._create("products", lambda: self.directory.product_line_create(reference))
        problems.append(Problem(field, truncate(reference), "Unknown product line (the mapping rejects unknown products)."))
        return None

    def _product(self, line: CanonicalLine, problems: list[Problem]) -> tuple[int | None, int | None]:
        application, line_reference = line.product_application, line.product_line
        line_id = None
        if line_reference:
            line_id = self._line_id(line_reference, problems, field="product_line", create=True)
            if line_id is None:
                return None, None
        if application:
            found = self.directory.applications.get(_key(application), [])
            if line_id is not None and len(found) > 1:
                found = [item for item in found if item[1] == line_id]
            if len(found) > 1:
                problems.append(
                    Problem("product_application", truncate(application), "Several product applications have this name: use the code.")
                )
                return None, None
            if found:
                application_id, application_line_id = found[0]
                if line_id is not None and application_line_id != line_id:
                    problems.append(
                        Problem("product_application", truncate(application), "This application belongs to another product line.")
                    )
                    return None, None
                return application_line_id, application_id
            if not self.policy.create_products:
                problems.append(
                    Problem("product_application", truncate(application), "Unknown product (the mapping rejects unknown products).")
                )
                return None, None
            if line_id is None:
                parent = self._application_lines.get(application.casefold()) or self.policy.default_product_line
                if not parent:
                    problems.append(
                        Problem(
                            "product_application", truncate(application), "A new product needs a product line: map one or set a default."
                        )
                    )
                    return None, None
                line_id = self._line_id(parent, problems, field="product_application", create=True)
                if line_id is None:
                    return None, None
            created = self._create("products", partial(self.directory.application_create, application, line_id))
            if created is None:
                return None, None
            application_id, line_id = created
            return line_id, application_id
        if line_id is not None:
            return line_id, None
        if self.policy.default_product_line:
            return self._line_id(self.policy.default_product_line, problems, field="product_line", create=False), None
        problems.append(Problem("product", "", "The row names no product: map a product column or set a default product line."))
        return None, None

    def _credits(self, line: CanonicalLine, customer: CustomerInfo | None, problems: list[Problem]) -> tuple[tuple[int, int], ...]:
        sellers = line.sellers
        if not sellers:
            if customer is None and problems:
                return ()  # the customer's problem is reported; its owner cannot be known yet
            if self.policy.seller_fallback_to_owner and customer is not None and customer.owner_id is not None:
                return ((customer.owner_id, 10_000),)
            problems.append(Problem("sellers", "", "The row names no seller (and the customer has no owner to credit)."))
            return ()
        credits: list[tuple[int, int]] = []
        total = 0
        seen: set[int] = set()
        for seller in sellers:
            person_id = self._seller(seller, problems)
            if seller.share_bp <= 0:
                problems.append(Problem("shares", f"{seller.share_bp / 100:g}%", "Every seller's share must be above 0%."))
            total += seller.share_bp
            if person_id is None:
                continue
            if person_id in seen:
                problems.append(Problem("sellers", truncate(seller.reference), "The same seller appears twice in the split."))
                continue
            seen.add(person_id)
            credits.append((person_id, seller.share_bp))
        if total != 10_000:
            shown = "+".join(f"{seller.share_bp / 100:g}" for seller in sellers)
            problems.append(Problem("shares", shown, f"The sellers' shares sum to {total / 100:g}%, not 100%."))
        return tuple(credits)

    def _seller(self, seller: SellerRef, problems: list[Problem]) -> int | None:
        reference = seller.reference.strip()
        match, found = self.directory.people_matching(reference, seller.match)
        if len(found) == 1:
            return found[0]
        if found:
            problems.append(
                Problem("sellers", truncate(reference), f"{len(found)} people match this seller: use e-mail addresses or user names.")
            )
            return None
        if self.policy.create_sellers and match in ("name", "email") and reference:
            return self._create("sellers", lambda: self.directory.seller_create(reference))
        label = {"person_id": "person id", "username": "user name", "email": "e-mail address", "name": "name"}[match]
        problems.append(Problem("sellers", truncate(reference), f"No person has this {label} (the mapping rejects unknown sellers)."))
        return None

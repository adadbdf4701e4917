"""Who is credited with a demo customer's result on a given day.

A customer has one owner today, and before that owner was hired maybe a previous one; but over
three years people join, leave and move country. On a day that owner was not yet hired, had
left, or did not yet cover the customer's country, the
credit goes to a seller who did cover it that day (the same one for a customer whenever possible,
picked by a stable hash of its code), else to a seller of the same region, else to anyone on the
books, else to the owner's manager. A split credit adds a colleague from the same team when there
is one. Plain data only: seller keys, never database ids.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from equipoise.demo.spec import CustomerSpec, Organisation, PersonSpec, TerritorySpec, region_of_country

BP = 10_000
# How a split credit divides a line between the lead seller and the colleague (basis points).
SPLITS = ((6_000, 4_000), (5_000, 5_000), (7_000, 3_000))


@dataclass(frozen=True, slots=True)
class _Span:
    seller_key: str
    starts_on: date
    ends_on: date | None

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


def _stable_index(text: str, count: int) -> int:
    return zlib.crc32(text.encode()) % count


class Crediting:
    def __init__(self, org: Organisation, territories: Sequence[TerritorySpec], owners: Mapping[str, str] | None = None) -> None:
        self.people = {person.key: person for person in org.people}
        # customer code → owner key, overriding the customer's; read live (the caller may add to it)
        self.owners: Mapping[str, str] = owners if owners is not None else {}
        self.team_of = {person.key: self._team(person) for person in org.people}
        region_code = {code: region.code for code, region in region_of_country().items()}
        self.region_code = region_code
        self.by_country: dict[str, list[_Span]] = defaultdict(list)
        self.by_region: dict[str, list[_Span]] = defaultdict(list)
        self.named: dict[tuple[str, str], list[_Span]] = defaultdict(list)  # (seller, customer) → spans
        self.country_spans: dict[str, list[tuple[str, _Span]]] = defaultdict(list)  # seller → (country, span)
        for territory in territories:
            person = self.people[territory.seller_key]
            span = self._span(person, territory)
            if span is None:
                continue
            if territory.region_code is not None:
                self.by_country[territory.region_code].append(span)
                self.by_region[region_code[territory.region_code]].append(span)
                self.country_spans[person.key].append((territory.region_code, span))
            elif territory.customer_code is not None:
                self.named[(person.key, territory.customer_code)].append(span)
        self.sellers = [person for person in org.people if person.carries_quota and person.hire_date is not None]
        self.team_members: dict[str, list[PersonSpec]] = defaultdict(list)
        for person in self.sellers:
            self.team_members[self.team_of[person.key]].append(person)

    def _team(self, person: PersonSpec) -> str:
        """The team key of a seller (their manager) or of a manager (themselves)."""
        return person.manager_key if person.carries_quota and person.manager_key else person.key

    @staticmethod
    def _span(person: PersonSpec, territory: TerritorySpec) -> _Span | None:
        starts = max(territory.starts_on, person.hire_date) if person.hire_date else territory.starts_on
        ends = territory.ends_on
        if person.left_on is not None:
            ends = min(ends, person.left_on) if ends else person.left_on
        if ends is not None and ends < starts:
            return None
        return _Span(person.key, starts, ends)

    def on_books(self, person: PersonSpec, day: date) -> bool:
        return person.hire_date is not None and person.hire_date <= day and (person.left_on is None or day <= person.left_on)

    def owner_of(self, customer: CustomerSpec) -> str:
        return self.owners.get(customer.code, customer.owner_key)

    def covers(self, seller_key: str, customer: CustomerSpec, day: date) -> bool:
        """Whether the seller worked the customer's country (or had it as a named account) on ``day``."""
        if any(span.covers(day) for span in self.named.get((seller_key, customer.code), ())):
            return True
        return any(country == customer.country_code and span.covers(day) for country, span in self.country_spans.get(seller_key, ()))

    def seller_on(self, customer: CustomerSpec, day: date) -> str:
        owner = self.owner_of(customer)
        if customer.code not in self.owners and customer.previous_owner_key and customer.owner_since and day < customer.owner_since:
            owner = customer.previous_owner_key
        if self.covers(owner, customer, day):
            return owner
        for spans in (self.by_country.get(customer.country_code, ()), self.by_region.get(self.region_code[customer.country_code], ())):
            present = sorted({span.seller_key for span in spans if span.covers(day)})
            if present:
                return present[_stable_index(customer.code, len(present))]
        present = sorted(person.key for person in self.sellers if self.on_books(person, day))
        if present:
            return present[_stable_index(customer.code, len(present))]
        manager = self.people[owner].manager_key
        return manager or owner

    def credits(self, customer: CustomerSpec, day: date, *, split: int | None = None) -> tuple[tuple[str, int], ...]:
        """The credit for a line on ``day``: the seller alone, or with ``split`` (an index into
        :data:`SPLITS`) shared with a team colleague on the books that day, if there is one."""
        lead = self.seller_on(customer, day)
        if split is None:
            return ((lead, BP),)
        colleagues = sorted(
            person.key for person in self.team_members.get(self.team_of[lead], ()) if person.key != lead and self.on_books(person, day)
        )
        if not colleagues:
            return ((lead, BP),)
        colleague = colleagues[_stable_index(f"{customer.code}:{day.isoformat()}", len(colleagues))]
        lead_share, colleague_share = SPLITS[split % len(SPLITS)]
        return ((lead, lead_share), (colleague, colleague_share))

    def team(self, seller_key: str) -> str:
        return self.team_of[seller_key]

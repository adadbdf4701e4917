"""The demo company as plain data, generated from a seed: people, territories and customers.

Everything comes from one ``random.Random(seed)`` drawn in a fixed order, and dates are anchored
to the plan start of a :class:`~equipoise.demo.timeline.DemoTimeline`, so the same seed, scale and
``as_of`` always give the same company. Amounts are integer minor units (EUR cents) computed with
integer arithmetic only.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from equipoise.core.access import Role
from equipoise.core.money import allocate_minor
from equipoise.core.periods import add_months, month_end
from equipoise.demo import catalog
from equipoise.demo.catalog import RegionInfo
from equipoise.demo.timeline import DemoTimeline

DEFAULT_SEED = 2027
DEFAULT_SELLERS = 40
DEFAULT_CUSTOMERS = 1500


@dataclass(frozen=True, slots=True)
class PersonSpec:
    key: str
    full_name: str
    username: str
    role: str
    manager_key: str | None
    team_name: str = ""
    hire_date: date | None = None
    left_on: date | None = None  # last working day of someone who has left (inactive)
    carries_quota: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@{catalog.EMAIL_DOMAIN}"

    @property
    def is_active(self) -> bool:
        return self.left_on is None


@dataclass(frozen=True, slots=True)
class TerritorySpec:
    """A seller's coverage: a country or a named customer, from ``starts_on`` to ``ends_on``."""

    seller_key: str
    region_code: str | None
    customer_code: str | None
    starts_on: date
    ends_on: date | None
    potential_minor: int


@dataclass(frozen=True, slots=True)
class CustomerSpec:
    code: str
    name: str
    segment: str
    country_code: str
    owner_key: str
    is_named_account: bool
    # Who looked after the customer before its owner was hired, and from when the owner has.
    previous_owner_key: str | None = None
    owner_since: date | None = None


@dataclass(frozen=True, slots=True)
class BucketSpec:
    """A plan bucket and its horizon targets in the top-down and bottom-up plans."""

    motion: str
    region_code: str | None = None
    product_line_code: str | None = None
    customer_code: str | None = None
    top_down_minor: int = 0
    bottom_up_minor: int = 0

    @property
    def key(self) -> tuple[str | None, ...]:
        return (self.motion, self.region_code, self.product_line_code, self.customer_code)


@dataclass(frozen=True)
class Organisation:
    people: tuple[PersonSpec, ...]
    territories: tuple[TerritorySpec, ...]
    # login name → person key for the five demo logins
    logins: dict[str, str] = field(default_factory=dict)


def region_of_country() -> dict[str, RegionInfo]:
    return {country.code: region for region in catalog.REGIONS for country in region.countries}


def team_groups(team_count: int) -> list[tuple[RegionInfo, ...]]:
    """The regions each team covers, in team order.

    With fewer teams than regions, adjacent regions merge, smallest pair first (five teams put
    Benelux and UK & Ireland together); with more, every region gets a team and the rest go to
    regions by market weight.
    """
    regions = list(catalog.REGIONS)
    if team_count <= len(regions):
        groups: list[tuple[RegionInfo, ...]] = [(region,) for region in regions]
        while len(groups) > max(team_count, 1):
            sizes = [sum(r.weight for r in groups[i] + groups[i + 1]) for i in range(len(groups) - 1)]
            merge_at = sizes.index(min(sizes))
            groups[merge_at : merge_at + 2] = [groups[merge_at] + groups[merge_at + 1]]
        return groups
    extra = allocate_minor(team_count - len(regions), [region.weight for region in regions])
    return [(region,) for region, more in zip(regions, extra, strict=True) for _ in range(1 + more)]


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))


class _Names:
    """Unique full names and log-in names (first.last, ASCII) from the catalog's name lists."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_names: set[str] = set()
        self.used_logins: set[str] = set(catalog.LOGINS)

    def person(self) -> tuple[str, str]:
        for _ in range(50):
            name = f"{self.rng.choice(catalog.FIRST_NAMES)} {self.rng.choice(catalog.LAST_NAMES)}"
            if name not in self.used_names:
                break
        else:
            name = f"{name} {len(self.used_names) + 1}"
        self.used_names.add(name)
        login = _ascii_login(name)
        candidate, suffix = login, 2
        while candidate in self.used_logins:
            candidate, suffix = f"{login}{suffix}", suffix + 1
        self.used_logins.add(candidate)
        return name, candidate


def _ascii_login(full_name: str) -> str:
    plain = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode("ascii").lower()
    parts = ["".join(ch for ch in part if ch.isalnum()) for part in plain.split()]
    return ".".join(part for part in parts if part)


def build_organisation(rng: random.Random, *, sellers: int, timeline: DemoTimeline) -> Organisation:
    """The VP, finance, admin, directors (large orgs only), one manager per team and the sellers.

    About one seller in ten is a recent hire (hired just before or during the plan, so ramp
    matters); one seller in forty has left and been replaced; one seller in forty moved country
    six months before the plan started (territories with effective dates).
    """
    if sellers < 1:
        raise ValueError("The demo needs at least one seller.")
    names = _Names(rng)
    people: list[PersonSpec] = []
    territories: list[TerritorySpec] = []
    logins: dict[str, str] = {}

    def add(
        key: str,
        role: Role,
        manager_key: str | None,
        *,
        login: str | None = None,
        team_name: str = "",
        hire_date: date | None = None,
        left_on: date | None = None,
        carries_quota: bool = False,
    ) -> PersonSpec:
        full_name, username = names.person()
        person = PersonSpec(
            key=key,
            full_name=full_name,
            username=login or username,
            role=role.value,
            manager_key=manager_key,
            team_name=team_name,
            hire_date=hire_date,
            left_on=left_on,
            carries_quota=carries_quota,
        )
        if login:
            logins[login] = key
        people.append(person)
        return person

    plan_start = timeline.plan_start

    def before_plan(months: int) -> date:
        return add_months(plan_start, -months)

    old_hand = (before_plan(156), month_end(before_plan(49)))
    add("vp", Role.EXECUTIVE, None, login="executive", team_name="Sales", hire_date=_random_day(rng, *old_hand))
    add("finance", Role.FINANCE, None, login="finance", hire_date=_random_day(rng, *old_hand))
    add("admin", Role.ADMIN, None, login="admin", hire_date=_random_day(rng, *old_hand))

    team_count = max(1, (sellers + catalog.SELLERS_PER_TEAM // 2) // catalog.SELLERS_PER_TEAM)
    groups = team_groups(team_count)
    directors: dict[str, str] = {}
    if len(groups) > catalog.MAX_TEAMS_WITHOUT_DIRECTORS:
        for region in catalog.REGIONS:
            director = add(f"director-{region.code}", Role.MANAGER, "vp", team_name=region.name, hire_date=_random_day(rng, *old_hand))
            directors[region.code] = director.key
    team_sizes = allocate_minor(sellers, [1] * len(groups))
    region_team_count: dict[str, int] = {}
    seller_number = 0
    team_sellers: list[list[tuple[str, str]]] = []  # per team: (seller key, country code)
    for team_index, (group, size) in enumerate(zip(groups, team_sizes, strict=True)):
        team_name = " + ".join(region.name for region in group)
        if len(group) == 1 and groups.count(group) > 1:
            region_team_count[group[0].code] = region_team_count.get(group[0].code, 0) + 1
            team_name = f"{team_name} {region_team_count[group[0].code]}"
        manager_key = f"manager-{team_index + 1}"
        add(
            manager_key,
            Role.MANAGER,
            directors.get(group[0].code, "vp"),
            login="manager" if team_index == 0 else None,
            team_name=team_name,
            hire_date=_random_day(rng, *old_hand),
        )
        countries = [country for region in group for country in region.countries]
        per_country = allocate_minor(size, [country.weight for country in countries])
        members: list[tuple[str, str]] = []
        for country, count in zip(countries, per_country, strict=True):
            for _ in range(count):
                seller_number += 1
                members.append((f"seller-{seller_number}", country.code))
        team_sellers.append(members)

    # The `seller` login: an established seller in the `manager` login's team (not its senior one).
    first_team = team_sellers[0]
    login_seller = first_team[1][0] if len(first_team) > 1 else first_team[0][0]
    # Who is new: never a team's first seller (its senior account owner) nor the `seller` login.
    candidates = [key for members in team_sellers for key, _ in members[1:] if key != login_seller]
    new_hire_count = min(len(candidates), max(1, sellers // 10)) if sellers >= 4 else 0
    # Every region keeps at least one established seller, so each plan month has someone to carry it.
    region_code = {code: region.code for code, region in region_of_country().items()}
    country_of = {key: code for members in team_sellers for key, code in members}
    established: dict[str, int] = {}
    for code in country_of.values():
        established[region_code[code]] = established.get(region_code[code], 0) + 1
    new_hires: set[str] = set()
    for key in rng.sample(candidates, len(candidates)):
        seller_region = region_code[country_of[key]]
        if len(new_hires) < new_hire_count and established[seller_region] > 1:
            new_hires.add(key)
            established[seller_region] -= 1
    departures = sorted(new_hires, key=_key_order)[: sellers // 40]
    movers_pool = [key for key in candidates if key not in new_hires]
    movers = set(rng.sample(movers_pool, min(len(movers_pool), sellers // 40)))

    for team_index, members in enumerate(team_sellers):
        manager_key = f"manager-{team_index + 1}"
        team_countries = [code for _, code in members]
        for key, country_code in members:
            login = "seller" if key == login_seller else None
            if key in departures:
                # Replaces someone who left in the autumn: hired just before the plan starts.
                hire = _random_day(rng, before_plan(2), before_plan(1))
            elif key in new_hires:
                hire = _random_day(rng, before_plan(2), add_months(plan_start, 6))
            else:
                hire = _random_day(rng, before_plan(144), month_end(before_plan(16)))
            add(key, Role.SELLER, manager_key, login=login, hire_date=hire, carries_quota=True)
            potential = rng.randint(1_500, 6_000) * 1_000 * 100
            # A mover came from another country of the same region, so the region stays covered.
            neighbours = [code for code in team_countries if code != country_code and region_code[code] == region_code[country_code]]
            if key in movers and neighbours:
                previous = neighbours[0]
                moved_on = before_plan(6)
                territories.append(TerritorySpec(key, previous, None, hire, month_end(before_plan(7)), potential))
                territories.append(TerritorySpec(key, country_code, None, max(hire, moved_on), None, potential))
            else:
                territories.append(TerritorySpec(key, country_code, None, hire, None, potential))
            if key in departures:
                former_key = f"former-{key}"
                left_on = _random_day(rng, before_plan(5), month_end(before_plan(3)))
                add(
                    former_key,
                    Role.SELLER,
                    manager_key,
                    hire_date=_random_day(rng, before_plan(132), month_end(before_plan(49))),
                    left_on=left_on,
                    carries_quota=True,
                )
                former = people[-1]
                assert former.hire_date is not None
                territories.append(TerritorySpec(former_key, country_code, None, former.hire_date, left_on, potential))
    return Organisation(people=tuple(people), territories=tuple(territories), logins=logins)


def _key_order(key: str) -> tuple[str, int]:
    prefix, _, number = key.rpartition("-")
    return prefix, int(number) if number.isdigit() else 0


def territories_by_seller(territories: Sequence[TerritorySpec]) -> dict[str, list[TerritorySpec]]:
    grouped: dict[str, list[TerritorySpec]] = {}
    for territory in territories:
        grouped.setdefault(territory.seller_key, []).append(territory)
    return grouped


def country_on(territories: Sequence[TerritorySpec], on: date) -> str | None:
    """The country a seller covers on a day (``territories`` are that seller's)."""
    for territory in territories:
        if territory.region_code and territory.starts_on <= on and (territory.ends_on is None or territory.ends_on >= on):
            return territory.region_code
    return None


def build_customers(
    rng: random.Random, org: Organisation, *, count: int, timeline: DemoTimeline
) -> tuple[list[CustomerSpec], list[TerritorySpec]]:
    """Customers spread over countries by market weight, each owned by a seller covering its country.

    Owners are the sellers on the books at ``as_of``, recent hires with about half an
    established seller's book. A customer whose owner was hired during the history was looked
    after before by a colleague in its country (the one who left, if someone did), its
    ``previous_owner_key``, up to the owner's hire date.

    About one in 75 (at least three) is a named account: an enterprise customer with a
    named-account territory for its owner.
    """
    people = {person.key: person for person in org.people}
    countries = [country for region in catalog.REGIONS for country in region.countries]
    # Owners: sellers on the books at as_of, by the country they cover then; established sellers count twice.
    owners_by_country: dict[str, list[str]] = {}
    owners_by_region: dict[str, list[str]] = {}
    regions = region_of_country()
    coverage = territories_by_seller(org.territories)
    for person in org.people:
        if not person.carries_quota or not person.is_active or person.hire_date is None or person.hire_date > timeline.as_of:
            continue
        covered = country_on(coverage.get(person.key, []), timeline.as_of)
        if covered is None:
            continue
        weight = 1 if person.hire_date >= timeline.months_before_plan(2) else 2
        owners_by_country.setdefault(covered, []).extend([person.key] * weight)
        owners_by_region.setdefault(regions[covered].code, []).extend([person.key] * weight)
    everyone = [key for keys in owners_by_country.values() for key in keys]
    if not everyone:
        everyone = [person.key for person in org.people if person.carries_quota and person.is_active]
    # A small company sells only in the regions where it has sellers: customers elsewhere would
    # bring history (and plan buckets) that no territory covers.
    served = [country for country in countries if regions[country.code].code in owners_by_region] or countries
    per_country = allocate_minor(count, [country.weight if country in served else 0 for country in countries])
    used: set[str] = set()
    customers: list[CustomerSpec] = []
    number = 0
    for country, country_count in zip(countries, per_country, strict=True):
        owners = owners_by_country.get(country.code) or owners_by_region.get(regions[country.code].code) or everyone
        for _ in range(country_count):
            number += 1
            base = f"{rng.choice(catalog.CUSTOMER_PREFIXES)} {rng.choice(catalog.CUSTOMER_SECTORS)} {country.legal_suffix}"
            name, suffix = base, 2
            while name in used:
                name, suffix = f"{base} {suffix}", suffix + 1
            used.add(name)
            roll = rng.randint(1, 100)
            segment = "enterprise" if roll <= 12 else "mid_market" if roll <= 50 else "small_business"
            owner = people[rng.choice(owners)]
            previous, since = _previous_owner(rng, owner, country.code, org.territories, people, timeline)
            customers.append(CustomerSpec(f"C{number:06d}", name, segment, country.code, owner.key, False, previous, since))
    named_target = max(3, round(count / 75)) if count else 0
    by_region: dict[str, list[int]] = {}
    for index, customer in enumerate(customers):
        if customer.segment == "enterprise":
            by_region.setdefault(regions[customer.country_code].code, []).append(index)
    named: list[int] = []
    while len(named) < named_target and any(by_region.values()):
        for region in catalog.REGIONS:
            pool = by_region.get(region.code)
            if pool and len(named) < named_target:
                named.append(pool.pop(0))
    territories: list[TerritorySpec] = []
    for index in sorted(named):
        customer = customers[index]
        customers[index] = replace(customer, is_named_account=True)
        owner = people[customer.owner_key]
        assert owner.hire_date is not None
        starts = max(owner.hire_date, timeline.months_before_plan(36))
        territories.append(TerritorySpec(owner.key, None, customer.code, starts, None, rng.randint(2_000, 9_000) * 1_000 * 100))
    return customers, territories


def _previous_owner(
    rng: random.Random,
    owner: PersonSpec,
    country_code: str,
    territories: Sequence[TerritorySpec],
    people: dict[str, PersonSpec],
    timeline: DemoTimeline,
) -> tuple[str | None, date | None]:
    """Who looked after a customer in ``country_code`` before ``owner`` was hired during the history."""
    assert owner.hire_date is not None
    if owner.hire_date <= timeline.history_start:
        return None, None
    colleagues = sorted(
        {
            territory.seller_key
            for territory in territories
            if territory.region_code == country_code
            and territory.seller_key != owner.key
            and (people[territory.seller_key].hire_date or owner.hire_date) < owner.hire_date
        },
        key=_key_order,
    )
    leavers = [key for key in colleagues if not people[key].is_active]
    if leavers:
        return leavers[0], owner.hire_date
    if colleagues:
        return colleagues[rng.randrange(len(colleagues))], owner.hire_date
    return None, owner.hire_date

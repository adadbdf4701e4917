"""Shared test personas: executive, finance, admin, manager, seller, other seller, outsider.

The org: the VP (executive) at the top; manager Maria leads sellers Sam and Sara; manager Omar
leads seller Olga (the "other seller" in another team). Finance and admin see everything; the
outsider has a login but no place in the org.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from equipoise.core.access import Role
from equipoise.org.models import Company, Person, Region, Territory
from equipoise.org.services import person_create


@dataclass
class Org:
    executive: Any
    finance: Any
    admin: Any
    manager: Any
    seller: Any
    teammate: Any
    other_manager: Any
    other_seller: Any
    outsider: Any
    vp: Person
    maria: Person
    sam: Person
    sara: Person
    omar: Person
    olga: Person
    north: Region
    south: Region


def _user(username: str) -> Any:
    return get_user_model().objects.create_user(username=username, password="correct-horse-battery", email=f"{username}@example.com")


@pytest.fixture
def org(db: Any) -> Org:
    Company.objects.create(name="Test Co", fiscal_year_start_month=1, reporting_currency="EUR")
    users = {
        name: _user(name)
        for name in ("executive", "finance", "admin", "manager", "seller", "teammate", "other_manager", "other_seller", "outsider")
    }
    vp = person_create(full_name="Vera VP", role=Role.EXECUTIVE, user=users["executive"], team_name="Sales")
    person_create(full_name="Fin Ance", role=Role.FINANCE, user=users["finance"])
    person_create(full_name="Ada Admin", role=Role.ADMIN, user=users["admin"])
    maria = person_create(full_name="Maria Manager", role=Role.MANAGER, manager=vp, user=users["manager"], team_name="North")
    sam = person_create(full_name="Sam Seller", role=Role.SELLER, manager=maria, user=users["seller"])
    sara = person_create(full_name="Sara Seller", role=Role.SELLER, manager=maria, user=users["teammate"])
    omar = person_create(full_name="Omar Manager", role=Role.MANAGER, manager=vp, user=users["other_manager"], team_name="South")
    olga = person_create(full_name="Olga Seller", role=Role.SELLER, manager=omar, user=users["other_seller"])
    north = Region.objects.create(code="NORTH", name="North")
    south = Region.objects.create(code="SOUTH", name="South")
    for seller in (sam, sara):
        Territory.objects.create(seller=seller, region=north, starts_on=date(2020, 1, 1), potential_minor=1_000_000)
    Territory.objects.create(seller=olga, region=south, starts_on=date(2020, 1, 1), potential_minor=2_000_000)
    return Org(
        executive=users["executive"],
        finance=users["finance"],
        admin=users["admin"],
        manager=users["manager"],
        seller=users["seller"],
        teammate=users["teammate"],
        other_manager=users["other_manager"],
        other_seller=users["other_seller"],
        outsider=users["outsider"],
        vp=vp,
        maria=maria,
        sam=sam,
        sara=sara,
        omar=omar,
        olga=olga,
        north=north,
        south=south,
    )


@pytest.fixture
def approved_plan(org: Org) -> Any:
    """An approved 24-month top-down plan: North and South buckets, new and renewal, 1.2M EUR."""
    from equipoise.planning.services import bucket_add, plan_approve, plan_create

    plan = plan_create(actor=org.executive, name="FY27-28 plan", start_month=date(2027, 1, 1), total_target_minor=120_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.north, motion="new", target_minor=50_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.north, motion="renewal", target_minor=30_000_000)
    bucket_add(actor=org.executive, plan=plan, region=org.south, motion="new", target_minor=40_000_000)
    return plan_approve(actor=org.executive, plan=plan)

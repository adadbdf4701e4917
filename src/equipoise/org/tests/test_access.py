import pytest

from equipoise.core.errors import ApplicationError, NotFound
from equipoise.org.selectors import access_person_by_id, visible_people
from equipoise.org.services import person_set_manager


def test_scope_by_role(org):
    everyone = set(visible_people(org.executive))
    assert {org.vp, org.maria, org.sam, org.sara, org.omar, org.olga} <= everyone
    assert set(visible_people(org.finance)) == everyone
    assert set(visible_people(org.manager)) == {org.maria, org.sam, org.sara}
    assert set(visible_people(org.seller)) == {org.sam}
    assert list(visible_people(org.outsider)) == []


def test_a_seller_cannot_reach_another_seller(org):
    assert access_person_by_id(org.seller, org.sam.pk) == org.sam
    for person in (org.sara, org.olga, org.maria):
        with pytest.raises(NotFound):
            access_person_by_id(org.seller, person.pk)
    with pytest.raises(NotFound):
        access_person_by_id(org.manager, org.olga.pk)


def test_moving_a_manager_moves_their_subtree_and_refuses_cycles(org):
    person_set_manager(person=org.maria, manager=org.omar)
    org.sam.refresh_from_db()
    assert org.sam.path == f"/{org.vp.pk}/{org.omar.pk}/{org.maria.pk}/{org.sam.pk}/"
    assert org.sam.depth == 3
    assert set(visible_people(org.other_manager)) >= {org.maria, org.sam, org.sara, org.olga}
    with pytest.raises(ApplicationError, match="own subtree"):
        person_set_manager(person=org.omar, manager=org.sam)

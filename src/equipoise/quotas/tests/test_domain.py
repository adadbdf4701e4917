from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equipoise.core.errors import ApplicationError
from equipoise.core.money import uplift_minor
from equipoise.quotas import domain


def _tree(shape: list[int]) -> tuple[domain.Tree, list[int]]:
    """Root 0 with len(shape) managers; manager i has shape[i] sellers."""
    children: dict[int, list[int]] = {0: []}
    depth = {0: 0}
    sellers = []
    next_id = 1
    for team_size in shape:
        manager = next_id
        next_id += 1
        children[0].append(manager)
        depth[manager] = 1
        children[manager] = []
        for _ in range(team_size):
            children[manager].append(next_id)
            depth[next_id] = 2
            sellers.append(next_id)
            next_id += 1
    return domain.Tree(root_id=0, children=children, depth=depth), sellers


@settings(max_examples=150)
@given(
    shape=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=5),
    months=st.lists(st.integers(min_value=0, max_value=10**10), min_size=12, max_size=24),
    cushions=st.lists(st.integers(min_value=0, max_value=3000), min_size=0, max_size=3),
    data=st.data(),
)
def test_every_level_reconciles_exactly_with_cushion(shape, months, cushions, data):
    tree, sellers = _tree(shape)
    weights = {
        seller: data.draw(st.lists(st.integers(min_value=1, max_value=10**6), min_size=len(months), max_size=len(months)))
        for seller in sellers
    }
    amounts = domain.allocate_tree(tree=tree, month_amounts=months, seller_weights=weights, cushion_bp_by_level=cushions, currency="EUR")
    assert amounts[0] == months
    assert domain.reconciliation_errors(tree=tree, amounts=amounts, cushion_bp_by_level=cushions, currency="EUR") == []
    assert all(value >= 0 for values in amounts.values() for value in values)


def test_cushion_reconciles_per_month_and_over_the_horizon():
    tree, sellers = _tree([2, 1])
    plan = [208_333_333] * 24
    amounts = domain.allocate_tree(
        tree=tree, month_amounts=plan, seller_weights={s: [1] * 24 for s in sellers}, cushion_bp_by_level=[0, 1000], currency="EUR"
    )
    assert sum(amounts[1]) + sum(amounts[4]) == sum(plan)
    # Each manager's sellers hold exactly the manager's horizon total plus 10%, rounded once.
    assert sum(amounts[2]) + sum(amounts[3]) == uplift_minor(sum(amounts[1]), 1000, "EUR")
    assert sum(amounts[5]) == uplift_minor(sum(amounts[4]), 1000, "EUR")


def test_equal_split_with_ramp_gives_a_new_hire_a_smaller_share():
    ramp = [2500, 5000, 7500]
    hire = date(2027, 2, 10)
    months = [date(2027, m, 1) for m in range(1, 7)]
    factors = [domain.ramp_bp_for(hire, month, ramp) for month in months]
    assert factors == [0, 2500, 5000, 7500, 10_000, 10_000]
    tree, sellers = _tree([2])
    amounts = domain.allocate_tree(
        tree=tree,
        month_amounts=[1_000_000] * 6,
        seller_weights={sellers[0]: [10_000] * 6, sellers[1]: factors},
        cushion_bp_by_level=[],
        currency="EUR",
    )
    assert amounts[sellers[1]] == [0, 200_000, 333_333, 428_571, 500_000, 500_000]
    assert [a + b for a, b in zip(amounts[sellers[0]], amounts[sellers[1]], strict=True)] == [1_000_000] * 6


def test_bucket_nobody_covers_is_an_error_naming_the_bucket():
    tree, _ = _tree([1])
    with pytest.raises(ApplicationError, match="Latam · New") as error:
        domain.allocate_tree(
            tree=tree, month_amounts=[5], seller_weights={}, cushion_bp_by_level=[], currency="EUR", bucket_label="Latam · New"
        )
    assert error.value.field == "territory"


def test_ramp_and_cushion_validation():
    with pytest.raises(ApplicationError, match="longer than the plan's 24-month horizon") as error:
        domain.validate_ramp([5000] * 25, 24)
    assert error.value.field == "ramp"
    with pytest.raises(ApplicationError, match="from 0% to 100%"):
        domain.validate_ramp([12_000], 24)
    with pytest.raises(ApplicationError, match="Cushion at level 2"):
        domain.validate_cushions([0, -5])


@given(amounts=st.lists(st.integers(min_value=0, max_value=10**9), min_size=2, max_size=10), data=st.data())
def test_redistribute_keeps_the_total(amounts, data):
    index = data.draw(st.integers(min_value=0, max_value=len(amounts) - 1))
    new_amount = data.draw(st.integers(min_value=0, max_value=sum(amounts)))
    result = domain.redistribute(amounts=amounts, index=index, new_amount=new_amount)
    assert sum(result) == sum(amounts)
    assert result[index] == new_amount
    assert all(value >= 0 for value in result)


def test_redistribute_refuses_more_than_the_team_holds():
    with pytest.raises(ApplicationError, match="exceeds what the team holds"):
        domain.redistribute(amounts=[10, 10], index=0, new_amount=21)

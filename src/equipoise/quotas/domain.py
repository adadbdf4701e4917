"""Pure quota allocation down an org tree: weights, cushion, ramp, exact reconciliation.

All amounts are integer minor units of one currency, per plan month (index 0 = first month).
No ORM, no I/O: the services gather plain data, call these functions, and store the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from equipoise.core.errors import ApplicationError
from equipoise.core.money import allocate_minor, uplift_minor
from equipoise.core.periods import months_between

FULL_BP = 10_000


def validate_ramp(ramp_bp: Sequence[int], horizon_months: int) -> list[int]:
    """A ramp is the share of full quota (basis points) in a new seller's first months."""
    if len(ramp_bp) > horizon_months:
        raise ApplicationError(
            f"The ramp lasts {len(ramp_bp)} months, longer than the plan's {horizon_months}-month horizon.", field="ramp"
        )
    for index, value in enumerate(ramp_bp, start=1):
        if not 0 <= value <= FULL_BP:
            raise ApplicationError(f"Ramp month {index} is {value / 100:g}%; each month must be from 0% to 100%.", field="ramp")
    return list(ramp_bp)


def validate_cushions(cushion_bp_by_level: Sequence[int]) -> list[int]:
    for level, value in enumerate(cushion_bp_by_level, start=1):
        if not 0 <= value <= FULL_BP:
            raise ApplicationError(f"Cushion at level {level} is {value / 100:g}%; it must be from 0% to 100%.", field="cushion")
    return list(cushion_bp_by_level)


def ramp_bp_for(hire_date: date | None, month: date, ramp_bp: Sequence[int]) -> int:
    """Share of full quota in ``month`` for someone hired on ``hire_date`` (the hire month is ramp month 1)."""
    if hire_date is None:
        return FULL_BP
    offset = months_between(hire_date, month)
    if offset < 0:
        return 0  # not yet hired
    return ramp_bp[offset] if offset < len(ramp_bp) else FULL_BP


def cushioned_months(amounts: Sequence[int], cushion_bp: int, currency: str) -> list[int]:
    """What a person's reports share per month: the amounts plus cushion.

    The cushion is applied once to the horizon total (by the one rounding rule) and spread over
    the months in proportion to the amounts, so the reports' quotas reconcile exactly both per
    month and over the horizon: cent-level rounding per month would otherwise drift.
    """
    if not cushion_bp:
        return list(amounts)
    return allocate_minor(uplift_minor(sum(amounts), cushion_bp, currency), list(amounts))


@dataclass(frozen=True, slots=True)
class Tree:
    """Reporting lines below a root: ``children[person] -> reports`` (sellers have none)."""

    root_id: int
    children: Mapping[int, Sequence[int]]
    depth: Mapping[int, int]  # 0 for the root

    def top_down(self) -> list[int]:
        order, stack = [], [self.root_id]
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(reversed(self.children.get(node, ())))
        return order


def allocate_tree(
    *,
    tree: Tree,
    month_amounts: Sequence[int],
    seller_weights: Mapping[int, Sequence[int]],
    cushion_bp_by_level: Sequence[int],
    currency: str,
    bucket_label: str = "this bucket",
) -> dict[int, list[int]]:
    """Allocate one bucket's monthly plan from the root down to sellers.

    ``seller_weights[s][m]`` is seller s's weight in month m (already scaled by ramp and by
    whether a territory covers the bucket then); sellers absent from it get nothing. A person at
    depth d splits their amount plus ``cushion[d]`` among their reports in proportion to each
    report's subtree weight, so at every level and month ``sum(children) == uplift(parent)``
    exactly (see :func:`cushioned_months`). Returns amounts per person (root, managers and sellers with any weight).
    """
    horizon = len(month_amounts)
    order = tree.top_down()
    subtree_weight: dict[int, list[int]] = {}
    for node in reversed(order):
        own = seller_weights.get(node)
        reports = tree.children.get(node, ())
        if reports:
            totals = [0] * horizon
            for report in reports:
                weights = subtree_weight.get(report)
                if weights is not None:
                    totals = [a + b for a, b in zip(totals, weights, strict=True)]
            if any(totals):
                subtree_weight[node] = totals
        elif own is not None and any(own):
            subtree_weight[node] = list(own)
    root_weights = subtree_weight.get(tree.root_id, [0] * horizon)
    for index, amount in enumerate(month_amounts):
        if amount and not root_weights[index]:
            raise ApplicationError(
                f"No seller's territory covers {bucket_label} in plan month {index + 1}: assign a territory or remove the bucket.",
                field="territory",
            )
    result: dict[int, list[int]] = {tree.root_id: list(month_amounts)}
    for node in order:
        amounts = result.get(node)
        reports = [report for report in tree.children.get(node, ()) if report in subtree_weight]
        if amounts is None or not reports:
            continue
        level = tree.depth[node]
        cushion = cushion_bp_by_level[level] if level < len(cushion_bp_by_level) else 0
        for report in reports:
            result[report] = [0] * horizon
        for month_index, to_split in enumerate(cushioned_months(amounts, cushion, currency)):
            if not to_split:
                continue
            parts = allocate_minor(to_split, [subtree_weight[report][month_index] for report in reports])
            for report, part in zip(reports, parts, strict=True):
                result[report][month_index] = part
    return result


def reconciliation_errors(
    *, tree: Tree, amounts: Mapping[int, Sequence[int]], cushion_bp_by_level: Sequence[int], currency: str
) -> list[str]:
    """Every (person, month) where the reports' quotas do not sum to the person's quota plus cushion."""
    errors = []
    for node in tree.top_down():
        reports = [report for report in tree.children.get(node, ()) if report in amounts]
        if not reports or node not in amounts:
            continue
        level = tree.depth[node]
        cushion = cushion_bp_by_level[level] if level < len(cushion_bp_by_level) else 0
        for month_index, expected in enumerate(cushioned_months(amounts[node], cushion, currency)):
            actual = sum(amounts[report][month_index] for report in reports)
            if expected != actual:
                errors.append(f"person {node}, month {month_index + 1}: reports sum to {actual}, expected {expected}")
    return errors


def redistribute(*, amounts: Sequence[int], index: int, new_amount: int) -> list[int]:
    """Set ``amounts[index]`` to ``new_amount`` and take the difference from the others in proportion
    to their current amounts, so the sum is unchanged. Refuses to push any amount below zero."""
    if new_amount < 0:
        raise ApplicationError("A quota cannot be negative.", field="amount")
    total = sum(amounts)
    others = [i for i in range(len(amounts)) if i != index]
    remaining = total - new_amount
    if remaining < 0:
        raise ApplicationError(
            f"The new quota exceeds what the team holds in total ({total / 100:,.2f}); lower it or adjust the manager first.",
            field="amount",
        )
    if not others:
        if new_amount != total:
            raise ApplicationError("This person is the only one carrying this quota; adjust the manager's quota instead.", field="amount")
        return [new_amount]
    other_weights = [amounts[i] for i in others]
    parts = allocate_minor(remaining, other_weights)
    result = list(amounts)
    result[index] = new_amount
    for i, part in zip(others, parts, strict=True):
        result[i] = part
    return result

"""Write the demo's contracts: bulk inserts of plain rows, as a billing-system load would.

A renewal refers to the term it renews, so terms go in generation by generation (first terms,
then their renewals, …), each generation in one ``bulk_create`` whose returned ids the next one
links to. The constraints hold by construction: (source, external id) is unique, a term ends on
or after its start, amounts are not negative.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from equipoise.demo import catalog
from equipoise.demo.sales import ContractSpec
from equipoise.org.models import Customer, Person, ProductApplication
from equipoise.results.models import Contract

_BATCH = 2_000


def write_contracts(
    contracts: Sequence[ContractSpec],
    *,
    people: Mapping[str, Person],
    customers: Mapping[str, Customer],
    applications: Mapping[str, ProductApplication],
) -> int:
    generation: dict[str, int] = {}
    generations: dict[int, list[ContractSpec]] = defaultdict(list)
    for contract in contracts:  # a renewal always comes after the term it renews
        depth = generation[contract.renews] + 1 if contract.renews else 0
        generation[contract.external_id] = depth
        generations[depth].append(contract)
    ids: dict[str, int] = {}
    for depth in sorted(generations):
        created = Contract.objects.bulk_create(
            [
                Contract(
                    source=catalog.RESULTS_SOURCE,
                    external_id=contract.external_id,
                    customer=customers[contract.customer_code],
                    seller=people[contract.seller_key],
                    product_line_id=applications[contract.application_code].product_line_id,
                    starts_on=contract.starts_on,
                    ends_on=contract.ends_on,
                    billing_period=contract.billing_period,
                    currency=catalog.CURRENCY,
                    amount_minor=contract.amount_minor,
                    renews_id=ids[contract.renews] if contract.renews else None,
                )
                for contract in generations[depth]
            ],
            batch_size=_BATCH,
        )
        ids.update((row.external_id, row.pk) for row in created)
    return len(ids)

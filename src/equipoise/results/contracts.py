"""Contracts: recurring revenue per customer, written idempotently and read within the user's scope.

A contract is identified by (source, external id): the same contract again changes nothing, a
changed one is updated in place. Every row states the whole contract — a row without ``renews``
has no renewal link. Validation, per row:

- the dates exist and the end is not before the start; the billing period is monthly or annual;
  the currency is a code; the amount (per billing period, minor units) is ≥ 0;
- the customer, seller and product line exist (nothing is created; without a seller, the
  customer's owner is the seller, and a customer without owner gives a contract without seller);
- ``renews`` names an *earlier* contract (starting before this one) of the *same customer*, that
  no other contract renews; a contract renewed by another keeps that link valid when it changes.

Writes are executive / sales ops (``CONTRACT_ROLES``) or the command line (``actor=None``). A batch
is all-or-nothing by default; in ``valid_only`` mode the valid rows are saved and the others
reported (a row renewing a rejected row is rejected with it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from equipoise.core.access import Role
from equipoise.core.audit import bulk_create_audited, bulk_update_audited
from equipoise.core.errors import AccessDenied, ApplicationError, NotFound
from equipoise.core.money import validate_currency
from equipoise.org.models import Customer, Person, ProductLine
from equipoise.org.selectors import user_role, user_sees_company, visible_people
from equipoise.results.models import BillingPeriod, Contract

CONTRACT_ROLES = frozenset({Role.EXECUTIVE, Role.ADMIN})
MAX_CONTRACTS_PER_BATCH = 5_000
MAX_AMOUNT_MINOR = 10**15
MAX_SOURCE_CHARS = 64
MAX_EXTERNAL_ID_CHARS = 128
ALL_OR_NOTHING = "all_or_nothing"
VALID_ONLY = "valid_only"
MODES = (ALL_OR_NOTHING, VALID_ONLY)
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
# The fields a row sets, besides ``renews`` (linked after every row has its id).
_VALUE_FIELDS = ("customer_id", "seller_id", "product_line_id", "starts_on", "ends_on", "billing_period", "currency", "amount_minor")


def user_may_write_contracts(user: Any) -> bool:
    return user_role(user) in CONTRACT_ROLES


# --- reads ---------------------------------------------------------------------------------------


def contracts_visible(user: Any) -> QuerySet[Contract]:
    """Company-wide roles see every contract; a manager those sold in their subtree; a seller their own."""
    contracts = Contract.objects.select_related("customer", "seller", "product_line", "renews")
    if user_sees_company(user):
        return contracts
    return contracts.filter(seller__in=visible_people(user))


def contract_list(
    user: Any, *, customer_id: int | None = None, seller_id: int | None = None, in_force_on: date | None = None
) -> QuerySet[Contract]:
    """The user's contracts, newest start first, optionally one customer's, one seller's, or those
    running on a day (by their own dates; renewal linkage is retention's concern)."""
    contracts = contracts_visible(user)
    if customer_id is not None:
        contracts = contracts.filter(customer_id=customer_id)
    if seller_id is not None:
        contracts = contracts.filter(seller_id=seller_id)
    if in_force_on is not None:
        contracts = contracts.filter(starts_on__lte=in_force_on, ends_on__gte=in_force_on)
    return contracts.order_by("-starts_on", "-id")


def access_contract_by_id(user: Any, contract_id: int) -> Contract:
    contract = contracts_visible(user).filter(pk=contract_id).first()
    if contract is None:
        raise NotFound("That contract", field="contract")
    return contract


def contracts_exist() -> bool:
    return Contract.objects.exists()


# --- writes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    index: int
    field: str
    value: str
    reason: str


@dataclass
class BatchResult:
    status: str  # committed, or rejected (all_or_nothing with an invalid row: nothing saved)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    contract_ids: dict[int, int] = field(default_factory=dict)  # row index → contract id, saved rows


@dataclass
class _Row:
    index: int
    external_id: str
    values: dict[str, Any]
    renews_key: tuple[str, str] | None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _shown(value: Any) -> str:
    return _text(value)[:200]


def _date(raw: Any, name: str, problems: list[tuple[str, str, str]]) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(_text(raw))
    except ValueError:
        problems.append((name, _shown(raw), "Write the date as YYYY-MM-DD, a day that exists (for example 2027-01-31)."))
        return None


class _Directory:
    """Customers, product lines and people a batch names, each read in one query."""

    def __init__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        customer_codes = {_text(row.get("customer_code")) for row in rows} - {""}
        self.customers = {
            code: (pk, owner) for code, pk, owner in Customer.objects.filter(code__in=customer_codes).values_list("code", "id", "owner_id")
        }
        line_codes = {_text(row.get("product_line_code")) for row in rows} - {""}
        self.product_lines = dict(ProductLine.objects.filter(code__in=line_codes).values_list("code", "id"))
        usernames = {_text(row.get("seller_username")) for row in rows} - {""}
        users = get_user_model().objects.filter(username__in=usernames, person__isnull=False)
        self.usernames = dict(users.values_list("username", "person__id"))
        person_ids = {value for row in rows if isinstance(value := row.get("seller_person_id"), int) and 0 < value < 2**63}
        self.person_ids = set(Person.objects.filter(pk__in=person_ids).values_list("id", flat=True))


def _resolve(index: int, row: Mapping[str, Any], source: str, directory: _Directory) -> tuple[_Row | None, list[tuple[str, str, str]]]:
    problems: list[tuple[str, str, str]] = []
    external_id = _text(row.get("external_id"))
    if not external_id or len(external_id) > MAX_EXTERNAL_ID_CHARS:
        problems.append(
            ("external_id", _shown(external_id), f"Give the contract's id in your system (1 to {MAX_EXTERNAL_ID_CHARS} characters).")
        )
    customer = directory.customers.get(_text(row.get("customer_code")))
    if customer is None:
        problems.append(("customer_code", _shown(row.get("customer_code")), "No customer has this code: add the customer first."))
    seller_id: int | None = None
    username, person_id = _text(row.get("seller_username")), row.get("seller_person_id")
    if username and person_id is not None:
        problems.append(("seller", username, "Name the seller by seller_username or by seller_person_id, not both."))
    elif username:
        seller_id = directory.usernames.get(username)
        if seller_id is None:
            problems.append(("seller_username", _shown(username), "No person has this user name."))
    elif person_id is not None:
        if person_id not in directory.person_ids:
            problems.append(("seller_person_id", _shown(person_id), "No person has this id."))
        else:
            seller_id = int(person_id)
    elif customer is not None:
        seller_id = customer[1]
    product_line_id = None
    line_code = _text(row.get("product_line_code"))
    if line_code:
        product_line_id = directory.product_lines.get(line_code)
        if product_line_id is None:
            problems.append(("product_line_code", _shown(line_code), "No product line has this code."))
    starts_on = _date(row.get("starts_on"), "starts_on", problems)
    ends_on = _date(row.get("ends_on"), "ends_on", problems)
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(("ends_on", ends_on.isoformat(), f"The contract ends before it starts ({starts_on.isoformat()})."))
    billing_period = _text(row.get("billing_period")) or BillingPeriod.ANNUAL
    if billing_period not in BillingPeriod.values:
        problems.append(("billing_period", _shown(billing_period), "The billing period is monthly or annual."))
    currency = _text(row.get("currency"))
    try:
        validate_currency(currency)
    except ApplicationError as error:
        problems.append(("currency", _shown(currency), error.message))
    amount = row.get("amount_minor")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT_MINOR:
        problems.append(
            ("amount_minor", _shown(amount), f"The amount per billing period is whole minor units from 0 to {MAX_AMOUNT_MINOR}.")
        )
    renews_id = _text(row.get("renews_external_id"))
    renews_key = (_text(row.get("renews_source")) or source, renews_id) if renews_id else None
    if problems:
        return None, problems
    values = {
        "customer_id": customer[0] if customer else None,
        "seller_id": seller_id,
        "product_line_id": product_line_id,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "billing_period": billing_period,
        "currency": currency,
        "amount_minor": amount,
    }
    return _Row(index, external_id, values, renews_key), []


def _existing(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Stored contracts by (source, external id), with the contract that renews each (if any)."""
    by_source: dict[str, set[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, set()).add(external_id)
    if not by_source:
        return {}
    condition = Q()
    for source, external_ids in by_source.items():
        condition |= Q(source=source, external_id__in=external_ids)
    fields = ("id", "source", "external_id", "renews_id", *_VALUE_FIELDS)
    renewer = ("renewed_by__id", "renewed_by__source", "renewed_by__external_id", "renewed_by__customer_id", "renewed_by__starts_on")
    found = {}
    for values in Contract.objects.filter(condition).values(*fields, *renewer):
        found[(values["source"], values["external_id"])] = values
    return found


def _check_links(rows: list[_Row], source: str, stored: dict[tuple[str, str], dict[str, Any]]) -> dict[int, tuple[str, str, str]]:
    """Renewal-link problems by row index, repeated until rows that depend on rejected rows are rejected too."""
    problems: dict[int, tuple[str, str, str]] = {}
    while True:
        valid = {(source, row.external_id): row for row in rows if row.index not in problems}
        claimed: dict[tuple[str, str], int] = {}
        found_new = False
        for row in rows:
            if row.index in problems:
                continue
            problem = _link_problem(row, source, valid, stored, claimed)
            if problem is not None:
                problems[row.index] = problem
                found_new = True
        if not found_new:
            return problems


def _link_problem(
    row: _Row,
    source: str,
    batch: dict[tuple[str, str], _Row],
    stored: dict[tuple[str, str], dict[str, Any]],
    claimed: dict[tuple[str, str], int],
) -> tuple[str, str, str] | None:
    key = (source, row.external_id)
    values = row.values
    if row.renews_key is not None:
        shown = row.renews_key[1] if row.renews_key[0] == source else f"{row.renews_key[0]}:{row.renews_key[1]}"
        target = batch[row.renews_key].values if row.renews_key in batch else stored.get(row.renews_key)
        if row.renews_key == key:
            return ("renews_external_id", shown, "A contract cannot renew itself.")
        if target is None:
            return ("renews_external_id", shown, "There is no such contract (or it was rejected in this batch).")
        if target["customer_id"] != values["customer_id"]:
            return ("renews_external_id", shown, "A renewal continues a contract of the same customer; this one is another customer's.")
        if not target["starts_on"] < values["starts_on"]:
            return ("renews_external_id", shown, "A renewal renews an earlier contract: this one does not start before the renewal.")
        if row.renews_key in claimed:
            return ("renews_external_id", shown, f"Row {claimed[row.renews_key]} of this batch already renews that contract.")
        renewer = stored.get(row.renews_key, {}).get("renewed_by__id")
        if renewer is not None and renewer != stored.get(key, {}).get("id"):
            renewer_key = (stored[row.renews_key]["renewed_by__source"], stored[row.renews_key]["renewed_by__external_id"])
            # A renewer in this batch keeps its link only if its row says so: then ``claimed`` decides.
            if renewer_key not in batch:
                return ("renews_external_id", shown, f"Contract {renewer_key[1]} already renews that contract.")
        claimed[row.renews_key] = row.index
    current = stored.get(key)
    if current is not None and current["renewed_by__id"] is not None:
        renewer_key = (current["renewed_by__source"], current["renewed_by__external_id"])
        if renewer_key not in batch:  # a renewer in the batch is checked on its own row
            if current["renewed_by__customer_id"] != values["customer_id"]:
                return ("customer_code", "", f"Contract {renewer_key[1]} renews this one: it must stay with the same customer.")
            if not values["starts_on"] < current["renewed_by__starts_on"]:
                return (
                    "starts_on",
                    values["starts_on"].isoformat(),
                    f"Contract {renewer_key[1]} renews this one: it must start before it.",
                )
    return None


def contracts_upsert(*, actor: Any, source: str, rows: Sequence[Mapping[str, Any]], mode: str = ALL_OR_NOTHING) -> BatchResult:
    """Create or update contracts by (source, external id); idempotent (the same rows again change nothing).

    Rows name references by code: ``external_id``, ``customer_code``, ``seller_username`` or
    ``seller_person_id`` (optional), ``product_line_code`` (optional), ``starts_on``, ``ends_on``
    (``YYYY-MM-DD``), ``billing_period``, ``currency``, ``amount_minor`` (per billing period),
    ``renews_external_id`` and ``renews_source`` (optional; the batch's source by default).
    """
    if actor is not None and not user_may_write_contracts(actor):
        raise AccessDenied("Your role may not change contracts: ask an executive or sales ops.")
    source = _text(source)
    if not source or len(source) > MAX_SOURCE_CHARS:
        raise ApplicationError(
            f"Name the source the contracts come from (1 to {MAX_SOURCE_CHARS} characters), for example billing.", field="source"
        )
    if mode not in MODES:
        raise ApplicationError(f"Mode {mode!r} is not all_or_nothing or valid_only.", field="mode")
    if not rows:
        raise ApplicationError("Send at least one contract.", field="contracts")
    if len(rows) > MAX_CONTRACTS_PER_BATCH:
        raise ApplicationError(f"Send at most {MAX_CONTRACTS_PER_BATCH:,} contracts at a time.", field="contracts")
    directory = _Directory(rows)
    errors: list[RowError] = []
    resolved: list[_Row] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(rows):
        row, problems = _resolve(index, raw, source, directory)
        if row is not None and row.external_id in seen:
            problems = [("external_id", _shown(row.external_id), f"Row {seen[row.external_id]} of this batch has the same external id.")]
            row = None
        if row is None:
            errors += [RowError(index, name, value, reason) for name, value, reason in problems]
            continue
        seen[row.external_id] = index
        resolved.append(row)
    with transaction.atomic():
        keys = {(source, row.external_id) for row in resolved} | {row.renews_key for row in resolved if row.renews_key}
        stored = _existing(keys)
        link_problems = _check_links(resolved, source, stored)
        errors += [RowError(index, *problem) for index, problem in link_problems.items()]
        errors.sort(key=lambda error: error.index)
        rejected = len({error.index for error in errors})
        if errors and mode == ALL_OR_NOTHING:
            return BatchResult(status="rejected", rejected=rejected, errors=errors)
        try:
            with transaction.atomic():
                result = _write(source, [row for row in resolved if row.index not in link_problems], stored, actor=actor)
        except IntegrityError as error:  # another request wrote the same contracts between our read and write
            raise ApplicationError(
                "Another request changed these contracts at the same time; nothing was saved. Send the batch again: it is idempotent.",
                field="contracts",
            ) from error
    result.rejected, result.errors = rejected, errors
    return result


def _write(source: str, rows: list[_Row], stored: dict[tuple[str, str], dict[str, Any]], *, actor: Any) -> BatchResult:
    result = BatchResult(status="committed")
    status: dict[int, str] = {}
    reason = f"contracts from {source}"
    new = [Contract(source=source, external_id=row.external_id, **row.values) for row in rows if (source, row.external_id) not in stored]
    bulk_create_audited(Contract, new, actor=actor, reason=reason)
    ids = {(source, contract.external_id): contract.pk for contract in new}
    ids |= {key: values["id"] for key, values in stored.items()}
    changed_values: dict[int, dict[str, Any]] = {}
    for row in rows:
        key = (source, row.external_id)
        current = stored.get(key)
        if current is None:
            status[row.index] = CREATED
            continue
        if any(current[name] != row.values[name] for name in _VALUE_FIELDS):
            changed_values[current["id"]] = row.values
            status[row.index] = UPDATED
        else:
            status[row.index] = UNCHANGED
    # Whole instances, so that each history record holds the contract as it now is.
    changed = list(Contract.objects.filter(pk__in=list(changed_values)))
    for contract in changed:
        for name, value in changed_values[contract.pk].items():
            setattr(contract, name, value)
    bulk_update_audited(Contract, changed, list(_VALUE_FIELDS), actor=actor, reason=reason)
    # Renewal links last, when every contract has an id; cleared first, so moving a link from one
    # contract to another never holds the same predecessor twice (renews is one-to-one).
    relinked = []
    for row in rows:
        key = (source, row.external_id)
        renews_id = ids[row.renews_key] if row.renews_key else None
        current_renews = stored[key]["renews_id"] if key in stored else None
        if renews_id != current_renews:
            relinked.append((ids[key], renews_id))
            if status[row.index] == UNCHANGED:
                status[row.index] = UPDATED
    Contract.objects.filter(pk__in=[pk for pk, _ in relinked]).update(renews=None)
    Contract.objects.bulk_update(
        [Contract(pk=pk, renews_id=renews_id) for pk, renews_id in relinked if renews_id], ["renews"], batch_size=1000
    )
    for row in rows:
        result.contract_ids[row.index] = ids[(source, row.external_id)]
    result.created = sum(1 for value in status.values() if value == CREATED)
    result.updated = sum(1 for value in status.values() if value == UPDATED)
    result.unchanged = sum(1 for value in status.values() if value == UNCHANGED)
    return result


def contract_upsert(
    *,
    actor: Any,
    source: str,
    external_id: str,
    customer: Customer,
    starts_on: date,
    ends_on: date,
    currency: str,
    amount_minor: int,
    billing_period: str = BillingPeriod.ANNUAL,
    seller: Person | None = None,
    product_line: ProductLine | None = None,
    renews: Contract | None = None,
) -> tuple[Contract, str]:
    """One contract, created or updated by (source, external id); returns it and created / updated / unchanged.

    The same validation as a batch; the first problem is raised as an ApplicationError naming its field.
    """
    row: dict[str, Any] = {
        "external_id": external_id,
        "customer_code": customer.code,
        "product_line_code": product_line.code if product_line else "",
        "starts_on": starts_on,
        "ends_on": ends_on,
        "billing_period": billing_period,
        "currency": currency,
        "amount_minor": amount_minor,
    }
    if seller is not None:
        row["seller_person_id"] = seller.pk
    if renews is not None:
        row["renews_source"], row["renews_external_id"] = renews.source, renews.external_id
    result = contracts_upsert(actor=actor, source=source, rows=[row])
    if result.errors:
        first = result.errors[0]
        raise ApplicationError(first.reason, field=first.field)
    status = CREATED if result.created else UPDATED if result.updated else UNCHANGED
    return Contract.objects.get(pk=result.contract_ids[0]), status

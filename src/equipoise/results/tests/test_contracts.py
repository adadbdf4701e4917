"""Contracts: idempotent upsert by (source, external id), validation, renewal links, scoped reads, API."""

import json
from datetime import date

import pytest

from equipoise.core.errors import AccessDenied, ApplicationError
from equipoise.results.contracts import contract_list, contract_upsert, contracts_upsert
from equipoise.results.models import Contract

pytestmark = pytest.mark.django_db


def row(external_id="C1", **overrides):
    values = {
        "external_id": external_id,
        "customer_code": "ACME",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "billing_period": "annual",
        "currency": "EUR",
        "amount_minor": 1_200_000,
    }
    values.update(overrides)
    return values


def snapshot():
    return list(Contract.objects.order_by("id").values())


def test_a_contract_is_created_then_unchanged_then_updated(org, catalog):
    first = contracts_upsert(actor=org.executive, source="billing", rows=[row()])
    assert (first.status, first.created, first.updated, first.unchanged) == ("committed", 1, 0, 0)
    contract = Contract.objects.get()
    assert (contract.customer, contract.seller, contract.amount_minor) == (catalog.acme, org.sam, 1_200_000)  # seller: the owner
    again = contracts_upsert(actor=org.executive, source="billing", rows=[row()])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    changed = contracts_upsert(actor=org.executive, source="billing", rows=[row(amount_minor=1_300_000, seller_username="teammate")])
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 0)
    contract.refresh_from_db()
    assert (contract.amount_minor, contract.seller) == (1_300_000, org.sara)
    assert Contract.objects.count() == 1


def test_the_same_external_id_in_another_source_is_another_contract(org, catalog):
    contracts_upsert(actor=org.executive, source="billing", rows=[row()])
    contracts_upsert(actor=org.executive, source="crm", rows=[row()])
    assert Contract.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_on": "2026-02-30"}, "starts_on"),
        ({"ends_on": "31/12/2026"}, "ends_on"),
        ({"ends_on": "2025-12-31"}, "ends_on"),
        ({"amount_minor": -1}, "amount_minor"),
        ({"amount_minor": "100"}, "amount_minor"),
        ({"amount_minor": True}, "amount_minor"),
        ({"billing_period": "weekly"}, "billing_period"),
        ({"currency": "euro"}, "currency"),
        ({"customer_code": "NOPE"}, "customer_code"),
        ({"seller_username": "nobody"}, "seller_username"),
        ({"seller_person_id": 999_999}, "seller_person_id"),
        ({"product_line_code": "NOPE"}, "product_line_code"),
        ({"external_id": ""}, "external_id"),
        ({"external_id": "x" * 129}, "external_id"),
        ({"renews_external_id": "MISSING"}, "renews_external_id"),
        ({"renews_external_id": "C1"}, "renews_external_id"),
    ],
)
def test_an_invalid_row_is_reported_and_nothing_changes(org, catalog, overrides, field):
    contracts_upsert(actor=org.executive, source="billing", rows=[row("KEEP")])
    before = snapshot()
    result = contracts_upsert(actor=org.executive, source="billing", rows=[row("GOOD"), {**row("C1"), **overrides}])
    assert result.status == "rejected" and result.rejected == 1
    assert [(error.index, error.field) for error in result.errors] == [(1, field)]
    assert snapshot() == before


def test_valid_only_mode_saves_the_valid_rows(org, catalog):
    result = contracts_upsert(actor=org.executive, source="billing", mode="valid_only", rows=[row("A"), row("B", amount_minor=-5)])
    assert (result.status, result.created, result.rejected) == ("committed", 1, 1)
    assert list(Contract.objects.values_list("external_id", flat=True)) == ["A"]


def test_a_duplicate_external_id_in_one_batch_is_an_error(org, catalog):
    result = contracts_upsert(actor=org.executive, source="billing", rows=[row("A"), row("A", amount_minor=5)])
    assert [(error.index, error.field) for error in result.errors] == [(1, "external_id")]
    assert not Contract.objects.exists()


def test_a_renewal_links_to_an_earlier_contract_in_the_same_batch_or_stored(org, catalog):
    renewal = row("C2", starts_on="2027-01-01", ends_on="2027-12-31", renews_external_id="C1")
    result = contracts_upsert(actor=org.executive, source="billing", rows=[renewal, row("C1")])  # order does not matter
    assert (result.status, result.created) == ("committed", 2)
    first, second = Contract.objects.get(external_id="C1"), Contract.objects.get(external_id="C2")
    assert second.renews == first
    third = row("C3", starts_on="2028-01-01", ends_on="2028-12-31", renews_external_id="C2")
    assert contracts_upsert(actor=org.executive, source="billing", rows=[third]).created == 1
    assert Contract.objects.get(external_id="C3").renews == second
    again = contracts_upsert(actor=org.executive, source="billing", rows=[row("C1"), renewal, third])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


@pytest.mark.parametrize(
    ("renewal", "reason"),
    [
        (row("C2", customer_code="GLOBEX", starts_on="2027-01-01", ends_on="2027-12-31", renews_external_id="C1"), "same customer"),
        (row("C2", starts_on="2026-01-01", ends_on="2027-12-31", renews_external_id="C1"), "earlier contract"),
        (row("C2", starts_on="2025-06-01", ends_on="2025-12-31", renews_external_id="C1"), "earlier contract"),
    ],
)
def test_a_renewal_must_renew_an_earlier_contract_of_the_same_customer(org, catalog, renewal, reason):
    contracts_upsert(actor=org.executive, source="billing", rows=[row("C1")])
    before = snapshot()
    result = contracts_upsert(actor=org.executive, source="billing", rows=[renewal])
    assert result.status == "rejected"
    assert result.errors[0].field == "renews_external_id" and reason in result.errors[0].reason
    assert snapshot() == before


def test_a_contract_is_renewed_at_most_once(org, catalog):
    contracts_upsert(
        actor=org.executive,
        source="billing",
        rows=[row("C1"), row("C2", starts_on="2027-01-01", ends_on="2027-12-31", renews_external_id="C1")],
    )
    before = snapshot()
    other = row("C3", starts_on="2027-02-01", ends_on="2027-12-31", renews_external_id="C1")
    result = contracts_upsert(actor=org.executive, source="billing", rows=[other])
    assert result.status == "rejected" and "already renews" in result.errors[0].reason
    assert snapshot() == before
    # Moving the link from C2 to C3 in one batch is fine.
    moved = contracts_upsert(actor=org.executive, source="billing", rows=[row("C2", starts_on="2027-01-01", ends_on="2027-12-31"), other])
    assert (moved.status, moved.created, moved.updated) == ("committed", 1, 1)
    assert Contract.objects.get(external_id="C3").renews.external_id == "C1"
    assert Contract.objects.get(external_id="C2").renews is None


def test_changing_a_renewed_contract_keeps_its_renewal_valid(org, catalog):
    contracts_upsert(
        actor=org.executive,
        source="billing",
        rows=[row("C1"), row("C2", starts_on="2027-01-01", ends_on="2027-12-31", renews_external_id="C1")],
    )
    before = snapshot()
    moved_later = contracts_upsert(actor=org.executive, source="billing", rows=[row("C1", starts_on="2027-03-01", ends_on="2027-12-31")])
    assert moved_later.status == "rejected" and moved_later.errors[0].field == "starts_on"
    other_customer = contracts_upsert(actor=org.executive, source="billing", rows=[row("C1", customer_code="GLOBEX")])
    assert other_customer.status == "rejected" and other_customer.errors[0].field == "customer_code"
    assert snapshot() == before


def test_a_row_renewing_a_rejected_row_is_rejected_too(org, catalog):
    rows = [row("C1", amount_minor=-1), row("C2", starts_on="2027-01-01", ends_on="2027-12-31", renews_external_id="C1")]
    result = contracts_upsert(actor=org.executive, source="billing", mode="valid_only", rows=rows)
    assert [error.index for error in result.errors] == [0, 1]
    assert not Contract.objects.exists()


@pytest.mark.parametrize("persona", ["finance", "manager", "seller", "outsider"])
def test_only_executives_and_sales_ops_write_contracts(org, catalog, persona):
    with pytest.raises(AccessDenied):
        contracts_upsert(actor=getattr(org, persona), source="billing", rows=[row()])
    assert not Contract.objects.exists()
    assert contracts_upsert(actor=org.admin, source="billing", rows=[row()]).created == 1


def test_the_typed_service_raises_the_first_problem(org, catalog):
    contract, status = contract_upsert(
        actor=None,
        source="manual",
        external_id="M1",
        customer=catalog.acme,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
        currency="EUR",
        amount_minor=100,
    )
    assert status == "created" and contract.seller == org.sam
    assert contract_upsert(
        actor=None,
        source="manual",
        external_id="M1",
        customer=catalog.acme,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
        currency="EUR",
        amount_minor=100,
    ) == (contract, "unchanged")
    with pytest.raises(ApplicationError) as error:
        contract_upsert(
            actor=None,
            source="manual",
            external_id="M2",
            customer=catalog.acme,
            starts_on=date(2027, 1, 1),
            ends_on=date(2026, 12, 31),
            currency="EUR",
            amount_minor=100,
        )
    assert error.value.field == "ends_on"


def test_contract_lists_are_scoped(org, catalog):
    contracts_upsert(
        actor=None, source="billing", rows=[row("SAM"), row("OLGA", customer_code="GLOBEX"), row("SARA", seller_username="teammate")]
    )

    def ids(user):
        return sorted(contract_list(user).values_list("external_id", flat=True))

    assert ids(org.executive) == ["OLGA", "SAM", "SARA"]
    assert ids(org.manager) == ["SAM", "SARA"]
    assert ids(org.seller) == ["SAM"]
    assert ids(org.other_seller) == ["OLGA"]
    assert ids(org.outsider) == []


# --- API -----------------------------------------------------------------------------------------


def post(client, user, payload):
    client.force_login(user)
    return client.post("/api/v1/contracts", data=json.dumps(payload), content_type="application/json")


def test_the_api_upserts_a_batch_idempotently(client, org, catalog):
    payload = {
        "source": "billing",
        "contracts": [
            row("C1"),
            row(
                "C2", starts_on="2027-01-01", ends_on="2027-12-31", renews_external_id="C1", billing_period="monthly", amount_minor=100_000
            ),
        ],
    }
    response = post(client, org.executive, payload)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "committed", "created": 2, "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    again = post(client, org.executive, payload).json()
    assert (again["created"], again["unchanged"]) == (0, 2)
    listed = client.get("/api/v1/contracts").json()
    assert listed["count"] == 2
    assert {item["external_id"]: item["arr_minor"] for item in listed["items"]} == {"C1": 1_200_000, "C2": 1_200_000}


def test_the_api_reports_each_invalid_row_and_saves_nothing(client, org, catalog):
    payload = {"source": "billing", "contracts": [row("C1"), row("C2", ends_on="2025-01-01"), row("C3", customer_code="NOPE")]}
    body = post(client, org.executive, payload).json()
    assert body["status"] == "rejected" and body["rejected"] == 2
    assert [(error["index"], error["field"]) for error in body["errors"]] == [(1, "ends_on"), (2, "customer_code")]
    assert body["errors"][1]["value"] == "NOPE"
    assert not Contract.objects.exists()


def test_the_api_refuses_other_roles_and_malformed_batches(client, org, catalog):
    assert post(client, org.manager, {"source": "billing", "contracts": [row()]}).status_code == 403
    assert post(client, org.executive, {"source": "billing", "contracts": []}).status_code == 400
    assert post(client, org.executive, {"source": "billing", "contracts": [row(amount_minor=1.5)]}).status_code == 400
    client.logout()
    assert client.post("/api/v1/contracts", data="{}", content_type="application/json").status_code == 401
    assert not Contract.objects.exists()


def test_the_contract_list_api_is_scoped(client, org, catalog):
    contracts_upsert(actor=None, source="billing", rows=[row("SAM"), row("OLGA", customer_code="GLOBEX")])
    client.force_login(org.seller)
    assert [item["external_id"] for item in client.get("/api/v1/contracts").json()["items"]] == ["SAM"]
    assert client.get(f"/api/v1/contracts?seller={org.olga.pk}").json()["items"] == []


def test_a_concurrent_write_of_the_same_contract_is_a_clear_error(org, catalog, monkeypatch):
    from equipoise.results import contracts

    contracts_upsert(actor=org.executive, source="billing", rows=[row("C1")])
    before = snapshot()
    monkeypatch.setattr(contracts, "_existing", lambda keys: {})  # as if another request inserted C1 after our read
    with pytest.raises(ApplicationError) as error:
        contracts_upsert(actor=org.executive, source="billing", rows=[row("C1", amount_minor=5), row("C2")])
    assert "at the same time" in error.value.message
    assert snapshot() == before


def test_contract_changes_keep_who_when_and_the_values(org, catalog):
    contracts_upsert(actor=org.executive, source="billing", rows=[row()])
    contracts_upsert(actor=org.admin, source="billing", rows=[row(amount_minor=1_300_000)])
    records = list(Contract.history.order_by("history_date").values_list("history_type", "history_user", "amount_minor", "external_id"))
    assert records == [("+", org.executive.pk, row()["amount_minor"], "C1"), ("~", org.admin.pk, 1_300_000, "C1")]
    assert Contract.history.first().history_change_reason == "contracts from billing"

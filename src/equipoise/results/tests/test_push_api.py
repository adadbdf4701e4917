"""POST /api/v1/results: authentication, roles, limits, per-line errors, modes and idempotency."""

from __future__ import annotations

import pytest

from equipoise.api.tokens import token_create
from equipoise.results.models import ImportBatch, ResultLine
from equipoise.results.rollups import rollups_compare
from equipoise.results.tests.test_import_helpers import nothing_imported

URL = "/api/v1/results"


@pytest.fixture
def call(client):
    """``call(user, "post", URL, body)``: a JSON request with a fresh bearer token of ``user`` (None: no credentials)."""

    def request(user, method, path, body=None):
        headers = {}
        if user is not None:
            _, plain = token_create(username=user.username, name="test")
            headers["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
        return getattr(client, method)(path, body, content_type="application/json", **headers)

    return request


def api_line(external_id="P1", **values):
    line = {
        "external_id": external_id,
        "kind": "booking",
        "date": "2027-01-15",
        "amount_minor": 100_000,
        "currency": "EUR",
        "customer_code": "ACME",
        "product_line_code": "CONN",
        "product_application_code": "FIBRE",
        "motion": "new",
        "sellers": [{"username": "seller", "share_bp": 10_000}],
    }
    line.update(values)
    return line


def test_without_credentials_401(call, org, catalog):
    response = call(None, "post", URL, {"source": "billing", "lines": [api_line()]})
    assert response.status_code == 401
    assert nothing_imported() and not ImportBatch.objects.exists()


@pytest.mark.parametrize("persona", ["seller", "manager", "finance", "outsider"])
def test_other_roles_are_refused_403(call, org, catalog, persona):
    response = call(getattr(org, persona), "post", URL, {"source": "billing", "lines": [api_line()]})
    assert response.status_code == 403
    assert "may not push results" in response.json()["error"]
    assert nothing_imported() and not ImportBatch.objects.exists()


# A full push is ~4 MB of JSON: more than Django's default 2.5 MB request body. settings.py must
# raise DATA_UPLOAD_MAX_MEMORY_SIZE (to 16 MiB) for production; the tests set it here.
PUSH_BODY_LIMIT = 16 * 1024 * 1024


def test_more_than_ten_thousand_lines_400_naming_the_field(call, org, catalog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, PUSH_BODY_LIMIT)
    lines = [api_line(f"P{index}") for index in range(10_001)]
    response = call(org.admin, "post", URL, {"source": "billing", "lines": lines})
    assert response.status_code == 400
    assert response.json()["field"] == "lines"
    assert nothing_imported() and not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [api_line()]}, "source"),
        ({"source": "billing", "lines": []}, "lines"),
        ({"source": "billing", "mode": "sometimes", "lines": [api_line()]}, "mode"),
        ({"source": "billing", "lines": [api_line(amount_minor="12.50")]}, "lines.0.amount_minor"),
        ({"source": "billing", "lines": [api_line(amount_minor=1.5)]}, "lines.0.amount_minor"),
    ],
)
def test_malformed_payloads_400(call, org, catalog, body, field):
    response = call(org.admin, "post", URL, body)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert nothing_imported()


def test_ten_thousand_lines_are_accepted(call, org, catalog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, PUSH_BODY_LIMIT)
    lines = [api_line(f"P{index}", amount_minor=index + 1) for index in range(10_000)]
    response = call(org.admin, "post", URL, {"source": "billing", "lines": lines})
    assert response.status_code == 200
    assert response.json()["created"] == 10_000
    assert rollups_compare() == []


def test_a_valid_push_imports_and_the_same_push_changes_nothing(call, org, catalog):
    lines = [
        api_line("P1"),
        api_line(
            "P2", sellers=[{"username": "seller", "share_bp": 6_000}, {"person_id": org.olga.pk, "share_bp": 4_000}], amount_minor=50_001
        ),
        api_line("P3", kind="credit_note", amount_minor=2_500, customer_code="GLOBEX", region_code="north", product_application_code=None),
    ]
    response = call(org.executive, "post", URL, {"source": "billing", "lines": lines})
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("status", "created", "corrected", "unchanged", "skipped", "rejected", "errors")} == {
        "status": "committed",
        "created": 3,
        "corrected": 0,
        "unchanged": 0,
        "skipped": 0,
        "rejected": 0,
        "errors": [],
    }
    batch = ImportBatch.objects.get(pk=body["batch_id"])
    assert (batch.channel, batch.source, batch.created_by) == ("api", "billing", org.executive)
    credit = ResultLine.objects.get(external_id="P3")
    assert (credit.line_amount_minor, credit.region_id, credit.customer_id) == (-2_500, org.north.pk, catalog.globex.pk)
    again = call(org.admin, "post", URL, {"source": "billing", "lines": lines}).json()
    assert (again["created"], again["unchanged"]) == (0, 3)
    changed = call(org.admin, "post", URL, {"source": "billing", "lines": [api_line("P1", amount_minor=90_000)]}).json()
    assert changed["corrected"] == 1
    assert ResultLine.objects.get(external_id="P1").version == 2
    assert rollups_compare() == []


BAD_LINES = [
    api_line("OK1"),
    api_line("BAD1", date="2027-02-30", customer_code="GONE"),  # both problems reported at once
    api_line("BAD2", sellers=[{"username": "seller", "share_bp": 5_000}, {"username": "teammate", "share_bp": 4_000}]),
    api_line("BAD3", customer_code="NOPE", kind="quote"),
    api_line("OK2", amount_minor=0, kind="churn"),
    api_line("DUP"),
    api_line("DUP"),
    api_line("BAD4", sellers=[{"username": "nobody", "share_bp": 10_000}]),
]
EXPECTED_ERRORS = [
    {"index": 1, "field": "date", "value": "2027-02-30", "reason": "'2027-02-30' is not a date that exists."},
    {"index": 1, "field": "customer_code", "value": "GONE", "reason": "Unknown customer (the mapping rejects unknown customers)."},
    {"index": 2, "field": "sellers", "value": "50+40", "reason": "The sellers' shares sum to 90%, not 100%."},
    {
        "index": 3,
        "field": "kind",
        "value": "quote",
        "reason": "Unknown kind: use booking, churn, credit_note, invoice, renewal (or map the value in the mapping).",
    },
    {"index": 3, "field": "customer_code", "value": "NOPE", "reason": "Unknown customer (the mapping rejects unknown customers)."},
    {"index": 7, "field": "sellers", "value": "nobody", "reason": "No person has this user name (the mapping rejects unknown sellers)."},
]


def test_all_or_nothing_push_with_errors_imports_nothing_and_lists_every_error(call, org, catalog):
    body = call(org.admin, "post", URL, {"source": "billing", "lines": BAD_LINES}).json()
    assert (body["status"], body["created"], body["rejected"], body["skipped"]) == ("rejected", 0, 4, 1)
    assert body["errors"] == EXPECTED_ERRORS
    assert nothing_imported()


def test_quarantine_push_imports_the_valid_lines(call, org, catalog):
    body = call(org.admin, "post", URL, {"source": "billing", "mode": "quarantine", "lines": BAD_LINES}).json()
    assert (body["status"], body["created"], body["rejected"], body["skipped"]) == ("committed", 3, 4, 1)
    assert body["errors"] == EXPECTED_ERRORS
    assert sorted(ResultLine.objects.values_list("external_id", flat=True)) == ["DUP", "OK1", "OK2"]
    first = ImportBatch.objects.get(pk=body["batch_id"]).issues.filter(row_number=1).order_by("id").first()
    assert first.quarantined_row["external_id"] == "BAD1"  # kept once, with the line's first problem
    assert rollups_compare() == []

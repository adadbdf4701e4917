"""What screen-reader and keyboard users rely on in the results pages (imports, mappings,
retention), through the Django test client."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from equipoise.results.contracts import contracts_upsert
from equipoise.results.models import ImportBatch
from equipoise.results.tests.test_pages_imports import mapping_post


def test_an_upload_with_errors_leads_with_a_focused_summary_linking_each_field(client, org, catalog):
    client.force_login(org.admin)

    response = client.post(reverse("results:batch-new"), {"mapping": "equipoise", "mode": "sometimes"})

    html = response.content.decode()
    assert response.status_code == 200
    summary = html.split('<div class="alert alert-danger form-problems" role="alert" id="form-problems" tabindex="-1" autofocus>')[1]
    summary = summary.split("</div>")[0]
    assert '<a class="alert-link" href="#id_file">File</a>: Choose the file to import.' in summary
    # The choice buttons have no element of the field's own id: the link goes to the first of them.
    assert '<a class="alert-link" href="#id_mode_0">If some rows are invalid</a>:' in summary
    assert '<fieldset class="mb-3" aria-describedby="id_mode_error">' in html
    assert '<div class="invalid-feedback d-block" id="id_mode_error">' in html
    assert 'id="id_mode_0"' in html
    assert not ImportBatch.objects.exists()


def test_a_form_without_errors_has_no_summary(client, org, catalog):
    client.force_login(org.admin)

    html = client.get(reverse("results:batch-new")).content.decode()

    assert "form-problems" not in html


def test_a_mapping_with_errors_links_to_the_field_to_fix(client, org, catalog):
    client.force_login(org.admin)

    response = client.post(reverse("results:mapping-new"), mapping_post(column_amount=""))

    html = response.content.decode()
    assert 'role="alert" id="form-problems" tabindex="-1" autofocus>' in html
    summary = html.split('id="form-problems"')[1].split("</div>")[0]
    assert "The mapping needs an amount column" in summary


def test_the_batch_counts_are_one_term_and_description_per_list(client, org, catalog):
    batch = ImportBatch.objects.create(channel="file", source="file", file_name="f.csv", status="committed", duration_ms=1_200)
    client.force_login(org.admin)

    html = client.get(reverse("results:batch", args=[batch.pk])).content.decode()

    counts = html.split('<div class="row row-cols-2 row-cols-md-4 g-2 mb-3 batch-counts">')[1].split("\n</div>")[0]
    # A <dl> may hold <dt>/<dd> or one <div> level around them, not the two a grid card needs.
    card = (
        r'<div class="col"><dl class="card kpi mb-0">'
        r'<dt class="small text-body-secondary">[^<]+</dt><dd class="h4 mb-0[^"]*">[^<]*</dd></dl></div>'
    )
    assert len(re.findall(card, counts)) == 7


@pytest.fixture
def contracts(org, catalog):
    def contract(external_id, customer):
        return {
            "external_id": external_id,
            "customer_code": customer,
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "currency": "EUR",
            "amount_minor": 12_000,
        }

    result = contracts_upsert(actor=None, source="billing", rows=[contract("A1", "ACME"), contract("G1", "GLOBEX")])
    assert result.status == "committed"


def test_the_retention_tables_scroll_by_keyboard_and_the_chart_is_a_figure(client, org, contracts, time_machine):
    time_machine.move_to("2027-03-01 09:00")
    client.force_login(org.executive)

    html = client.get("/results/retention/", {"grain": "year", "period": "2026-01"}).content.decode()

    # Scrolling boxes without links of their own take focus, so arrow keys scroll them; named, so
    # a screen reader says what they hold.
    assert '<div class="table-grid-wrap" tabindex="0" role="region" aria-label="Retention per period">' in html
    assert '<div class="table-grid-wrap" tabindex="0" role="region" aria-label="Table of customers">' in html
    assert '<div id="retention-chart" class="chart" role="figure" aria-label="' in html
    assert 'role="img"' not in html
    assert "showSendToCloud: false" in html

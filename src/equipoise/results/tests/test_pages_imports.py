"""Import pages: who may see them, upload, batch detail and error report, column mappings."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from equipoise.results.models import ColumnMapping, ImportBatch, ResultLine
from equipoise.results.services import results_import_file
from equipoise.results.tests.test_import_helpers import csv_bytes, equipoise_row, nothing_imported, write
from equipoise.web.templatetags.equipoise import duration_ms

PAGES = [
    ("results:batches", []),
    ("results:batch-new", []),
    ("results:mappings", []),
    ("results:mapping-new", []),
]


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("persona", ["seller", "manager", "finance", "outsider"])
def test_other_roles_get_404_everywhere(client, org, catalog, tmp_path, persona):
    batch = results_import_file(actor=None, path_or_file=write(tmp_path, "r.csv", csv_bytes([equipoise_row()])), mapping_name="equipoise")
    mapping = ColumnMapping.objects.get(name="equipoise")
    login(client, getattr(org, persona))
    urls = [reverse(name, args=args) for name, args in PAGES]
    urls += [
        reverse("results:batch", args=[batch.pk]),
        reverse("results:batch-errors", args=[batch.pk]),
        reverse("results:mapping", args=[mapping.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    upload = SimpleUploadedFile("r.csv", csv_bytes([equipoise_row("L2")]), content_type="text/csv")
    assert client.post(reverse("results:batch-new"), {"file": upload, "mapping": "equipoise", "mode": "all_or_nothing"}).status_code == 404
    assert ResultLine.objects.count() == 1 and ImportBatch.objects.count() == 1


def test_anonymous_users_are_sent_to_login(client, db):
    response = client.get(reverse("results:batches"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_upload_a_broken_file_shows_the_error_table(client, org, catalog):
    login(client, org.admin)
    content = csv_bytes([equipoise_row("L1"), equipoise_row("L2", amount="=1+2"), equipoise_row("L3", date="2027-02-30")])
    upload = SimpleUploadedFile("broken.csv", content, content_type="text/csv")
    response = client.post(reverse("results:batch-new"), {"file": upload, "mapping": "equipoise", "mode": "all_or_nothing"}, follow=True)
    assert response.status_code == 200
    batch = ImportBatch.objects.get()
    assert response.redirect_chain == [(reverse("results:batch", args=[batch.pk]), 302)]
    html = response.content.decode()
    assert html.count("was rejected: nothing was imported") == 1  # the page's alert, not a flash beside it too
    assert "Download the error report (CSV)" in html
    assert "&#x27;=1+2&#x27; is not an amount" in html
    assert "&#x27;2027-02-30&#x27; is not a date that exists." in html
    assert (batch.file_name, batch.created_by, batch.status) == ("broken.csv", org.admin, "rejected")
    assert nothing_imported()
    report = client.get(reverse("results:batch-errors", args=[batch.pk]))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert report["Content-Disposition"] == f'attachment; filename="import-{batch.pk}-errors.csv"'
    text = b"".join(report.streaming_content).decode("utf-8")
    assert text.splitlines() == [
        "\ufeffrow,column,value,reason",
        "3,amount,'=1+2,'=1+2' is not an amount: write digits such as 1234.50 ('.' as decimal separator and no thousands separator).",
        "4,date,2027-02-30,'2027-02-30' is not a date that exists.",
    ]


def test_upload_in_quarantine_mode_then_the_same_file_again(client, org, catalog):
    login(client, org.executive)
    content = csv_bytes([equipoise_row("L1"), equipoise_row("L2", amount="x")])
    data = {"mapping": "equipoise", "mode": "quarantine", "source": "weekly"}
    response = client.post(reverse("results:batch-new"), {**data, "file": SimpleUploadedFile("w.csv", content)}, follow=True)
    assert "1 line created, 0 corrected, 0 unchanged, 0 rows skipped, 1 row quarantined." in response.content.decode()
    assert list(ResultLine.objects.values_list("source", "external_id")) == [("weekly", "L1")]
    again = client.post(reverse("results:batch-new"), {**data, "file": SimpleUploadedFile("w.csv", content)}, follow=True)
    assert again.content.decode().count("imported before with this mapping; nothing was imported") == 1
    assert list(ImportBatch.objects.values_list("status", flat=True)) == ["duplicate", "committed"]


def test_upload_form_errors_stay_on_the_page(client, org, catalog):
    login(client, org.admin)
    response = client.post(reverse("results:batch-new"), {"mapping": "equipoise", "mode": "all_or_nothing"})
    assert response.status_code == 200
    assert "Choose the file to import." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_batch_list_is_paginated_with_a_fixed_number_of_queries(client, org, catalog, django_assert_max_num_queries):
    for index in range(30):
        ImportBatch.objects.create(channel="file", source="file", file_name=f"f{index}.csv", status="committed", created_by=org.admin)
    login(client, org.admin)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("results:batches"))
    html = response.content.decode()
    assert "Page 1 of 2" in html and "f29.csv" in html and "f4.csv" not in html
    assert "f4.csv" in client.get(reverse("results:batches"), {"page": 2}).content.decode()


def test_batch_detail_paginates_issues(client, org, catalog, tmp_path):
    rows = [equipoise_row(f"L{index}", amount="x") for index in range(60)]
    batch = results_import_file(actor=None, path_or_file=write(tmp_path, "r.csv", csv_bytes(rows)), mapping_name="equipoise")
    login(client, org.admin)
    first = client.get(reverse("results:batch", args=[batch.pk])).content.decode()
    assert "Page 1 of 2" in first and "60 listed" in first
    assert "Problems 51–60 of 60" in client.get(reverse("results:batch", args=[batch.pk]), {"page": 2}).content.decode()


def mapping_post(**changes):
    data = {
        "name": "billing",
        "description": "Billing export",
        "column_external_id": "Invoice + Line",
        "column_date": "Date",
        "column_amount": "Net",
        "column_customer_code": "Customer",
        "column_product_line": "Family",
        "column_seller": "Rep",
        "defaults_kind": "",
        "default_kind": "invoice",
        "date_format": "%d.%m.%Y",
        "decimal_separator": ",",
        "thousands_separator": ".",
        "delimiter": "auto",
        "seller_separator": ";",
        "seller_match": "name",
        "seller_fallback_to_owner": "on",
        "unknown_customers": "reject",
        "unknown_products": "reject",
        "unknown_sellers": "reject",
        "filters": "Status = Booked | Paid",
        "non_product_codes": "FREIGHT\nFEE",
        "motion_map": "Neu = new",
    }
    data.update(changes)
    return data


def test_create_and_edit_a_mapping_then_import_with_it(client, org, catalog, tmp_path):
    login(client, org.admin)
    response = client.post(reverse("results:mapping-new"), mapping_post())
    assert response.status_code == 302
    mapping = ColumnMapping.objects.get(name="billing")
    assert mapping.config["columns"]["external_id"] == ["Invoice", "Line"]
    assert mapping.config["filters"] == [{"column": "Status", "in": ["Booked", "Paid"]}]
    assert mapping.config["value_maps"] == {"motion": {"Neu": "new"}}
    assert (mapping.created_by, mapping.is_preset) == (org.admin, False)
    edit = client.get(reverse("results:mapping", args=[mapping.pk])).content.decode()
    assert 'value="Invoice + Line"' in edit
    client.post(reverse("results:mapping", args=[mapping.pk]), mapping_post(description="Changed"))
    mapping.refresh_from_db()
    assert mapping.description == "Changed"
    content = (
        "Invoice;Line;Date;Net;Customer;Family;Rep;Status\n"
        "R1;1;31.01.2027;1.000,50;ACME;CONN;Sam Seller;Paid\n"
        "R1;2;31.01.2027;9,99;ACME;FEE;Sam Seller;Paid\n"
    )
    batch = results_import_file(actor=org.admin, path_or_file=write(tmp_path, "billing.csv", content.encode()), mapping_name="billing")
    assert (batch.status, batch.lines_created, batch.skipped_reasons) == ("committed", 1, {"non-product line": 1})
    line = ResultLine.objects.get()
    assert (line.external_id, line.kind, line.line_amount_minor) == ("R1:1", "invoice", 100_050)


def test_a_mapping_form_with_a_bad_config_shows_the_error_on_its_field(client, org, catalog):
    login(client, org.admin)
    response = client.post(reverse("results:mapping-new"), mapping_post(column_amount="", motion_map="just text"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Line 1 of the motion values is “just text”" in html
    assert not ColumnMapping.objects.filter(name="billing").exists()
    response = client.post(reverse("results:mapping-new"), mapping_post(column_amount=""))
    assert "The mapping needs an amount column" in response.content.decode()
    response = client.post(reverse("results:mapping-new"), mapping_post(name="equipoise"))
    assert "is the name of a built-in mapping" in response.content.decode()


def test_presets_are_shown_read_only_and_can_be_copied(client, org, db):
    login(client, org.admin)
    client.get(reverse("results:mappings"))
    preset = ColumnMapping.objects.get(name="crm-opportunities")
    page = client.get(reverse("results:mapping", args=[preset.pk])).content.decode()
    assert "read-only" in page and "GTXPro" in page
    before = preset.config
    response = client.post(reverse("results:mapping", args=[preset.pk]), mapping_post(name="crm-opportunities"))
    assert response.status_code == 200
    preset.refresh_from_db()
    assert preset.config == before
    copy = client.get(reverse("results:mapping-new"), {"from": preset.pk}).content.decode()
    assert 'value="crm-opportunities-copy"' in copy and "GTXPro = GTX Pro" in copy


def test_a_salesforce_export_through_the_upload_page(client, org, catalog):
    from pathlib import Path

    data = (Path(__file__).parent / "data" / "salesforce_opportunities.csv").read_bytes()
    login(client, org.executive)
    upload = SimpleUploadedFile("Opportunities Report.csv", data, content_type="text/csv")
    response = client.post(
        reverse("results:batch-new"), {"file": upload, "mapping": "salesforce-opportunities", "mode": "quarantine"}, follow=True
    )
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.lines_created, batch.rows_rejected) == ("committed", 2, 1)
    html = response.content.decode()
    assert "The row names no product" in html  # the quarantined row, shown with its reason
    assert ResultLine.objects.count() == 2


@given(milliseconds=st.integers(min_value=0, max_value=10**9))
def test_an_import_time_reads_as_people_say_it(milliseconds):
    shown = duration_ms(milliseconds)
    if milliseconds < 1000:
        assert shown == f"{milliseconds} ms"
    elif milliseconds < 59_950:
        assert shown.endswith(" s") and abs(float(shown[:-2]) * 1000 - milliseconds) <= 50
    else:
        minutes, _, seconds = shown.removesuffix(" s").partition(" min ")
        assert 0 <= int(seconds) < 60 and abs((int(minutes) * 60 + int(seconds)) * 1000 - milliseconds) <= 500


def test_the_batch_page_shows_how_long_the_import_took(client, org, catalog):
    batch = ImportBatch.objects.create(channel="file", source="file", file_name="f.csv", status="committed", duration_ms=299_575)
    login(client, org.admin)
    assert '<dd class="h4 mb-0">5 min 0 s</dd>' in client.get(reverse("results:batch", args=[batch.pk])).content.decode()
    assert [duration_ms(value) for value in (840, 9_881, 59_949, 59_950, 61_499)] == ["840 ms", "9.9 s", "59.9 s", "1 min 0 s", "1 min 1 s"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a CSV file but an image"),
        ("columns.csv", b"order,when,total\nA1,2027-03-01,10\n", "The file lacks the columns 'external_id', 'date', 'amount'"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_file_problem_not_a_rejected_row(client, org, catalog, name, content, reason):
    """A binary file or one without the mapping's columns: the page says the file could not be
    read and why, counts no rejected row, and gives no advice about fixing rows."""
    login(client, org.admin)
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    response = client.post(reverse("results:batch-new"), {"file": upload, "mapping": "equipoise", "mode": "all_or_nothing"}, follow=True)
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_rejected) == ("rejected", 0)
    assert reason in batch.failure
    html = response.content.decode()
    assert html.count("could not be read as a whole") == 1
    assert "fix the rows below" not in html
    assert nothing_imported()
    listing = client.get(reverse("results:batches")).content.decode()
    assert "the file</span>" in listing


def test_a_rejected_row_still_gets_the_advice_about_rows(client, org, catalog):
    login(client, org.admin)
    upload = SimpleUploadedFile("r.csv", csv_bytes([equipoise_row("L1", amount="x")]), content_type="text/csv")
    response = client.post(reverse("results:batch-new"), {"file": upload, "mapping": "equipoise", "mode": "all_or_nothing"}, follow=True)
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rows_rejected, batch.failure) == ("rejected", 1, "")
    assert "fix the rows below" in response.content.decode()


def test_the_upload_form_offers_the_mapping_last_used_else_the_equipoise_format(client, org, catalog, tmp_path):
    login(client, org.admin)
    form = client.get(reverse("results:batch-new")).context["form"]
    assert form.initial["mapping"] == "equipoise"
    results_import_file(
        actor=org.admin, path_or_file=write(tmp_path, "s.csv", b"Opportunity ID\n"), mapping_name="salesforce-opportunities"
    )
    assert client.get(reverse("results:batch-new")).context["form"].initial["mapping"] == "salesforce-opportunities"
    assert client.get(reverse("results:batch-new") + "?mapping=hubspot-deals").context["form"].initial["mapping"] == "hubspot-deals"


def test_an_api_push_page_offers_no_file_import(client, org, catalog):
    batch = ImportBatch.objects.create(channel="api", source="crm", status="committed", created_by=org.admin)
    login(client, org.admin)
    html = client.get(reverse("results:batch", args=[batch.pk])).content.decode()
    assert "API push" in html
    assert "Import another file" not in html


def test_a_config_error_found_after_validation_marks_its_input_invalid(client, org, catalog):
    # Given a mapping whose date format the service refuses, and one with a filter line the form cannot read
    login(client, org.admin)
    for changes, name, message in (
        ({"date_format": "dd/mm/yyyy"}, "date_format", "Date format &#x27;dd/mm/yyyy&#x27; is neither"),
        ({"filters": "Stage Closed"}, "filters", "Line 1 is “Stage Closed”"),
    ):
        # When it is saved
        response = client.post(reverse("results:mapping-new"), mapping_post(**changes))

        # Then the page keeps the input, names the problem under the field, and marks the field invalid
        assert response.status_code == 200
        html = response.content.decode()
        assert message in html
        widget = response.context["form"].fields[name].widget
        assert "is-invalid" in widget.attrs["class"].split()
        assert widget.attrs["aria-describedby"].split()[0] == f"id_{name}_error"
        assert f'id="id_{name}_error"' in html
        assert response.context["form"]["column_amount"].value() == "Net"
    assert not ColumnMapping.objects.filter(name="billing").exists()


def test_an_upload_without_a_file_says_to_choose_one(client, org, catalog):
    login(client, org.admin)
    response = client.post(reverse("results:batch-new"), {"mapping": "hubspot-deals", "mode": "quarantine", "source": "hs"})
    html = response.content.decode()
    assert "File</a>: Choose the file to import." in html
    form = response.context["form"]
    assert (form["mapping"].value(), form["mode"].value(), form["source"].value()) == ("hubspot-deals", "quarantine", "hs")
    assert not ImportBatch.objects.exists()


def test_copying_a_mapping_twice_offers_a_name_no_mapping_has(client, org, db):
    # Given a first copy of a built-in mapping saved under the name the page offered
    login(client, org.admin)
    client.get(reverse("results:mappings"))
    preset = ColumnMapping.objects.get(name="hubspot-deals")
    first = client.get(reverse("results:mapping-new"), {"from": preset.pk}).context["form"].initial
    assert first["name"] == "hubspot-deals-copy"
    data = {key: ("on" if value is True else value) for key, value in first.items() if value not in (False, None)}
    assert client.post(reverse("results:mapping-new"), data).status_code == 302

    # When it is copied again
    second = client.get(reverse("results:mapping-new"), {"from": preset.pk}).context["form"].initial

    # Then the name offered is free, so saving it as it stands works
    assert second["name"] == "hubspot-deals-copy-2"
    data["name"] = second["name"]
    assert client.post(reverse("results:mapping-new"), data).status_code == 302
    assert ColumnMapping.objects.filter(name__startswith="hubspot-deals-copy").count() == 2


def test_the_error_report_of_a_duplicate_file_says_file_not_row_0(client, org, catalog, tmp_path):
    # Given a file imported twice: the second batch's only problem is about the whole file
    path = write(tmp_path, "r.csv", csv_bytes([equipoise_row("L1")]))
    results_import_file(actor=None, path_or_file=path, mapping_name="equipoise")
    duplicate = results_import_file(actor=None, path_or_file=path, mapping_name="equipoise")
    login(client, org.admin)

    # When its error report is downloaded
    report = client.get(reverse("results:batch-errors", args=[duplicate.pk]))
    lines = b"".join(report.streaming_content).decode("utf-8").splitlines()

    # Then the row column says "file", as the page does, and the advice names the page's checkbox
    assert lines[1].startswith("file,,,\"This file was already imported with the mapping 'equipoise' as batch #")
    assert lines[1].endswith('tick “Import even if this file was imported before” (from the command line: --force)."')
    assert ">file</span>" in client.get(reverse("results:batch", args=[duplicate.pk])).content.decode()


def test_the_error_report_of_an_api_push_keeps_line_index_0(client, org, catalog):
    batch = ImportBatch.objects.create(channel="api", source="crm", status="rejected", created_by=org.admin)
    batch.issues.create(row_number=0, column="amount_minor", value="x", reason="Not a number.")
    login(client, org.admin)
    lines = b"".join(client.get(reverse("results:batch-errors", args=[batch.pk])).streaming_content).decode().splitlines()
    assert lines[1] == "0,amount_minor,x,Not a number."


def test_a_capped_report_counts_the_problems_found_not_the_note(client, org, catalog, tmp_path, monkeypatch):
    # Given a report capped at 3 problems for a file with 4 bad rows (8 problems: amount and date each)
    monkeypatch.setattr("equipoise.results.importing.report.ISSUE_CAP", 3)
    rows = [equipoise_row(f"L{index}", amount="x", date="never") for index in range(4)]
    batch = results_import_file(actor=None, path_or_file=write(tmp_path, "r.csv", csv_bytes(rows)), mapping_name="equipoise")
    assert batch.issues.count() == 4  # 3 problems and the note
    assert batch.problems_found == 8  # recorded, not read back out of the note's words

    # When its page is shown
    login(client, org.admin)
    html = client.get(reverse("results:batch", args=[batch.pk])).content.decode()

    # Then the count is of problems: the first 3 of the 8 found, the note not counted as one
    assert "the first 3 of 8 found" in html
    assert "4 listed" not in html

    # And the pages of problems count the problems, not the note (which the CSV report keeps)
    monkeypatch.setattr("equipoise.results.views.ISSUES_PER_PAGE", 2)
    last = client.get(reverse("results:batch", args=[batch.pk]), {"page": 2}).content.decode()
    assert "Problems 3–3 of 3" in last
    assert "The report lists the first" not in last
    report = b"".join(client.get(reverse("results:batch-errors", args=[batch.pk])).streaming_content).decode()
    assert "The report lists the first 3 problems; 5 more were found." in report


def test_a_custom_mapping_is_deleted_after_confirming_and_its_imports_keep_its_name(client, org, catalog, tmp_path):
    login(client, org.admin)
    client.post(reverse("results:mapping-new"), mapping_post(name="weekly-billing"))
    mapping = ColumnMapping.objects.get(name="weekly-billing")
    content = csv_bytes([equipoise_row("W1")])
    batch = results_import_file(actor=org.admin, path_or_file=write(tmp_path, "w.csv", content), mapping_name="equipoise")
    ImportBatch.objects.filter(pk=batch.pk).update(mapping_name="weekly-billing")  # as if read with it

    assert f'href="/results/mappings/{mapping.pk}/delete/"' in client.get(reverse("results:mapping", args=[mapping.pk])).content.decode()
    confirm = client.get(reverse("results:mapping-delete", args=[mapping.pk])).content.decode()
    assert "1 import was read with it and keeps its name" in confirm
    assert ColumnMapping.objects.filter(pk=mapping.pk).exists()  # asking deletes nothing

    response = client.post(reverse("results:mapping-delete", args=[mapping.pk]), follow=True)
    assert "Mapping “weekly-billing” deleted." in response.content.decode()
    assert not ColumnMapping.objects.filter(pk=mapping.pk).exists()
    assert ImportBatch.objects.get(pk=batch.pk).mapping_name == "weekly-billing"
    assert ResultLine.objects.count() == 1


def test_a_built_in_mapping_or_one_in_use_by_a_background_import_is_not_deleted(client, org, catalog):
    from equipoise.results.models import ImportJob
    from equipoise.results.services import mappings_all

    login(client, org.admin)
    preset = next(mapping for mapping in mappings_all() if mapping.name == "equipoise")  # presets are made on demand
    refused = client.post(reverse("results:mapping-delete", args=[preset.pk]))
    assert refused.status_code == 400 and "built-in mapping and cannot be deleted" in refused.content.decode()
    assert ColumnMapping.objects.filter(pk=preset.pk).exists()

    client.post(reverse("results:mapping-new"), mapping_post(name="nightly"))
    nightly = ColumnMapping.objects.get(name="nightly")
    ImportJob.objects.create(file_name="n.csv", stored_name="x", size_bytes=1, mapping_name="nightly", state="running")
    busy = client.post(reverse("results:mapping-delete", args=[nightly.pk]))
    assert busy.status_code == 400 and "delete the mapping once it has finished" in busy.content.decode()
    assert ColumnMapping.objects.filter(pk=nightly.pk).exists()


@pytest.mark.parametrize("persona", ["seller", "manager", "finance"])
def test_only_importers_may_delete_a_mapping(client, org, catalog, persona):
    login(client, org.admin)
    client.post(reverse("results:mapping-new"), mapping_post(name="kept"))
    mapping = ColumnMapping.objects.get(name="kept")
    login(client, getattr(org, persona))
    assert client.get(reverse("results:mapping-delete", args=[mapping.pk])).status_code == 404
    assert client.post(reverse("results:mapping-delete", args=[mapping.pk])).status_code == 404
    assert ColumnMapping.objects.filter(pk=mapping.pk).exists()


def test_the_delete_service_refuses_a_role_that_may_not_import(org, catalog):
    from equipoise.core.errors import AccessDenied
    from equipoise.results.services import mapping_delete, mapping_get

    mapping = ColumnMapping.objects.create(name="custom", config=mapping_get("equipoise").config)
    with pytest.raises(AccessDenied):
        mapping_delete(actor=org.seller, mapping=mapping)
    with pytest.raises(AccessDenied):
        mapping_delete(actor=None, mapping=mapping)
    assert ColumnMapping.objects.filter(pk=mapping.pk).exists()

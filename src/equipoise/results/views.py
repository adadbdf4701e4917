"""Import pages: the batch list, the upload form, a batch with its error report, and column mappings.

Only executives and sales ops / admins see these pages; for anyone else they do not exist (404).
Views parse input, call ``results.services`` and ``results.importing.selectors``, and render; a
fixable error (``ApplicationError``) becomes a form error under the field it names.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from equipoise.core.errors import ApplicationError
from equipoise.core.http import HtmxHttpRequest
from equipoise.results.forms import MappingForm, UploadForm
from equipoise.results.import_jobs import access_job_by_id, is_background, job_progress, job_start, job_waits_for_another, jobs_current
from equipoise.results.importing.config import FIELDS
from equipoise.results.importing.report import problem_count, report_rows, without_cap_note
from equipoise.results.importing.selectors import (
    access_batch_by_id,
    access_mapping_by_id,
    batch_issues,
    batches_read_with,
    batches_visible,
    default_mapping_name,
)
from equipoise.results.models import BatchChannel, BatchStatus, ColumnMapping, ImportBatch, JobState
from equipoise.results.services import mapping_delete, mapping_save, mappings_all, results_import_file, user_may_import

BATCHES_PER_PAGE = 25
ISSUES_PER_PAGE = 50


def _require_importer(request: HttpRequest) -> None:
    if not user_may_import(request.user):
        raise Http404


def _show_error(form: forms.Form, error: ApplicationError, aliases: dict[str, str] | None = None) -> None:
    field = error.field or ""
    field = (aliases or {}).get(field, field)
    if field in form.fields:
        form.add_error(field, error.message)
    else:
        form.add_error(None, error.message)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _summary_message(batch: ImportBatch) -> tuple[int, str] | None:
    """What to flash on the way to a batch's page; nothing for a rejected or duplicate batch,
    whose page opens with an alert saying so (a flash would say it twice)."""
    if batch.status in (BatchStatus.DUPLICATE, BatchStatus.REJECTED):
        return None
    text = (
        f"Import #{batch.pk}: {_count(batch.lines_created, 'line')} created, {batch.lines_corrected:,} corrected, "
        f"{batch.lines_unchanged:,} unchanged, {_count(batch.rows_skipped, 'row')} skipped"
    )
    if batch.rows_rejected:
        return messages.WARNING, f"{text}, {_count(batch.rows_rejected, 'row')} quarantined."
    return messages.SUCCESS, f"{text}."


@login_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    page = Paginator(batches_visible(request.user), BATCHES_PER_PAGE).get_page(request.GET.get("page"))
    jobs = [(job, job_progress(job)) for job in jobs_current(request.user)]
    context = {"page": page, "batches": page.object_list, "jobs": jobs, "section": "imports"}
    return render(request, "results/batch_list.html", context)


@login_required
@require_GET
def job_detail(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    """A background import: its progress while it runs (the page polls this view through HTMX
    every second for the progress card alone), then the batch it made."""
    job = access_job_by_id(request.user, job_id)
    if job.state == JobState.DONE and job.batch is not None:
        if summary := _summary_message(job.batch):
            messages.add_message(request, *summary)
        target = reverse("results:batch", args=[job.batch.pk])
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)
    context = {"job": job, "progress": job_progress(job), "waits": job_waits_for_another(job), "section": "imports"}
    response = render(request, "results/_job_progress.html" if request.htmx else "results/job_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])  # one URL, two answers
    return response


@login_required
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    mappings = mappings_all()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, mappings=mappings)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            arguments: dict[str, Any] = {
                "actor": request.user,
                "file_name": upload.name,
                "mapping_name": form.cleaned_data["mapping"],
                "mode": form.cleaned_data["mode"],
                "source": form.cleaned_data["source"] or None,
                "force": form.cleaned_data["force"],
            }
            try:
                if is_background(upload.size):  # a large file: its page follows the job
                    job = job_start(upload=upload, **arguments)
                    return HttpResponseRedirect(reverse("results:job", args=[job.pk]))
                batch = results_import_file(path_or_file=upload, **arguments)
            except ApplicationError as error:
                _show_error(form, error)
            else:
                if summary := _summary_message(batch):
                    messages.add_message(request, *summary)
                return HttpResponseRedirect(reverse("results:batch", args=[batch.pk]))
    else:
        initial = {"mapping": request.GET.get("mapping", "") or default_mapping_name()}
        form = UploadForm(initial=initial, mappings=mappings)
    return _upload_page(request, form, mappings)


def _upload_page(request: HttpRequest, form: UploadForm, mappings: list[ColumnMapping]) -> HttpResponse:
    context = {"form": form, "mappings": mappings, "background_bytes": settings.EQUIPOISE_BACKGROUND_IMPORT_BYTES, "section": "imports"}
    return render(request, "results/batch_new.html", context)


@login_required
@require_GET
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = access_batch_by_id(request.user, batch_id)
    # The note of a capped report is left out: the table's header says how many were found, and
    # counted as a problem the note would make the pages say "of 10,001".
    issues = without_cap_note(batch).order_by("row_number", "id")
    page = Paginator(issues, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "batch": batch,
        "page": page,
        "issues": page.object_list,
        "issue_count": page.paginator.count,
        "problems": problem_count(batch),
        "is_api": batch.channel == BatchChannel.API,
        "section": "imports",
    }
    return render(request, "results/batch_detail.html", context)


@login_required
@require_GET
def batch_errors_csv(request: HttpRequest, batch_id: int) -> StreamingHttpResponse:
    batch = access_batch_by_id(request.user, batch_id)
    rows = report_rows(batch_issues(batch), rows_are_indexes=batch.channel == BatchChannel.API)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return response


@login_required
@require_GET
def mapping_list(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    return render(request, "results/mapping_list.html", {"mappings": mappings_all(), "section": "mappings"})


# Config keys a service error may name → the form field that shows it.
_MAPPING_ERROR_FIELDS = {
    **{name: f"column_{name}" for name in FIELDS},
    **{f"columns.{name}": f"column_{name}" for name in FIELDS},
    **{f"defaults.{name}": f"default_{name}" for name in ("currency", "kind", "motion", "region", "product_line")},
    "value_maps.kind": "kind_map",
    "value_maps.motion": "motion_map",
    "columns": "column_external_id",
}


def _mapping_form_page(request: HttpRequest, *, mapping: ColumnMapping | None, copy_of: ColumnMapping | None) -> HttpResponse:
    if request.method == "POST":
        form = MappingForm(request.POST)
        if form.is_valid():
            config = form.to_config()
            if form.is_valid():  # to_config may add errors for lines it could not read
                try:
                    saved = mapping_save(
                        actor=request.user,
                        mapping=mapping,
                        name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"],
                        config=config,
                    )
                except ApplicationError as error:
                    _show_error(form, error, _MAPPING_ERROR_FIELDS)
                else:
                    messages.success(request, f"Mapping “{saved.name}” saved.")
                    return HttpResponseRedirect(reverse("results:mappings"))
    else:
        copy = mapping is None and copy_of is not None
        initial = MappingForm.initial_from(mapping or copy_of, copy=copy)
        if copy:  # a second copy of the same mapping would clash with the first: offer a free name
            initial["name"] = _free_name(initial["name"], {existing.name for existing in mappings_all()})
        form = MappingForm(initial=initial)
    context = {"form": form, "mapping": mapping, "copy_of": copy_of, "section": "mappings"}
    return render(request, "results/mapping_form.html", context)


def _free_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``… — the first that no mapping has."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    return candidate


@login_required
@require_http_methods(["GET", "POST"])
def mapping_new(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    copy_of = None
    raw = request.GET.get("from", "").strip()
    if raw:
        if not raw.isdigit():
            raise Http404
        copy_of = access_mapping_by_id(request.user, int(raw))
    return _mapping_form_page(request, mapping=None, copy_of=copy_of)


@login_required
@require_http_methods(["GET", "POST"])
def mapping_edit(request: HttpRequest, mapping_id: int) -> HttpResponse:
    mapping = access_mapping_by_id(request.user, mapping_id)
    if mapping.is_preset:
        return render(request, "results/mapping_preset.html", {"mapping": mapping, "config": _config_rows(mapping), "section": "mappings"})
    return _mapping_form_page(request, mapping=mapping, copy_of=None)


@login_required
@require_http_methods(["GET", "POST"])
def mapping_delete_view(request: HttpRequest, mapping_id: int) -> HttpResponse:
    """GET asks to confirm (saying what stays); POST deletes and returns to the list."""
    mapping = access_mapping_by_id(request.user, mapping_id)
    error = ""
    if request.method == "POST":
        try:
            mapping_delete(actor=request.user, mapping=mapping)
        except ApplicationError as problem:
            error = problem.message
        else:
            messages.success(request, f"Mapping “{mapping.name}” deleted. Imports read with it keep its name.")
            return HttpResponseRedirect(reverse("results:mappings"))
    context = {"mapping": mapping, "batches": batches_read_with(mapping), "error": error, "section": "mappings"}
    return render(request, "results/mapping_delete.html", context, status=400 if error else 200)


def _config_rows(mapping: ColumnMapping) -> list[tuple[str, Any]]:
    return [
        (key, json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value)
        for key, value in (mapping.config or {}).items()
    ]

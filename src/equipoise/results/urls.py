from django.urls import path

from equipoise.results import retention_views, views

app_name = "results"
urlpatterns = [
    path("imports/", views.batch_list, name="batches"),
    path("imports/new/", views.batch_new, name="batch-new"),
    path("imports/<int:batch_id>/", views.batch_detail, name="batch"),
    path("imports/<int:batch_id>/errors.csv", views.batch_errors_csv, name="batch-errors"),
    path("imports/jobs/<int:job_id>/", views.job_detail, name="job"),
    path("mappings/", views.mapping_list, name="mappings"),
    path("mappings/new/", views.mapping_new, name="mapping-new"),
    path("mappings/<int:mapping_id>/", views.mapping_edit, name="mapping"),
    path("mappings/<int:mapping_id>/delete/", views.mapping_delete_view, name="mapping-delete"),
    path("retention/", retention_views.retention_page, name="retention"),
]

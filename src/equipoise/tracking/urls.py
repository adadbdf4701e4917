from django.urls import path

from equipoise.tracking import views

app_name = "tracking"
urlpatterns = [
    path("", views.dissect, name="dissect"),
    path("table/", views.table_partial, name="table"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
]

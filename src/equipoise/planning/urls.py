from django.urls import path

from equipoise.planning import views

app_name = "planning"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("<int:plan_id>/", views.plan_grid_page, name="grid"),
    path("<int:plan_id>/edit/", views.plan_edit, name="edit"),
    path("<int:plan_id>/approve/", views.plan_approve, name="approve"),
    path("<int:plan_id>/archive/", views.plan_archive, name="archive"),
    path("<int:plan_id>/revise/", views.plan_revise, name="revise"),
    path("<int:plan_id>/rephase/", views.plan_rephase, name="rephase"),
    path("<int:plan_id>/cells/<int:bucket_id>/<str:month_text>/", views.plan_cell, name="cell"),
    path("<int:plan_id>/buckets/new/", views.bucket_add, name="bucket_add"),
    path("<int:plan_id>/buckets/<int:bucket_id>/", views.bucket_edit, name="bucket_edit"),
    path("<int:plan_id>/buckets/<int:bucket_id>/delete/", views.bucket_delete, name="bucket_delete"),
    path("<int:plan_id>/gap/", views.plan_gap, name="gap"),
]

from django.urls import path

from equipoise.quotas import views

app_name = "quotas"
urlpatterns = [
    path("", views.quota_table, name="table"),
    path("allocate/", views.allocate, name="allocate"),
    path("allocations/<int:allocation_id>/lock/", views.allocation_lock, name="lock"),
    path("allocations/<int:allocation_id>/people/<int:person_id>/", views.person_breakdown, name="breakdown"),
    path("allocations/<int:allocation_id>/people/<int:person_id>/adjust/", views.quota_adjust, name="adjust"),
    path("commits/", views.commits, name="commits"),
    path("gap/", views.commit_gap, name="gap"),
]

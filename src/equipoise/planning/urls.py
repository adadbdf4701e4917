from django.urls import path

from equipoise.planning import views

app_name = "planning"
urlpatterns = [
    path("", views.plan_list, name="list"),
    path("<int:plan_id>/", views.plan_grid, name="grid"),
    path("<int:plan_id>/gap/", views.plan_gap, name="gap"),
]

from django.urls import path

from equipoise.quotas import views

app_name = "quotas"
urlpatterns = [
    path("", views.quota_table, name="table"),
]

from django.urls import path

from equipoise.results import views

app_name = "results"
urlpatterns = [
    path("imports/", views.batch_list, name="batches"),
]

from django.urls import path

from equipoise.tracking import views

app_name = "tracking"
urlpatterns = [
    path("", views.dissect, name="dissect"),
]

from django.urls import path

from equipoise.web import views

urlpatterns = [
    path("", views.home, name="home"),
]

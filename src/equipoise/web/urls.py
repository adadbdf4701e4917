from django.urls import path

from equipoise.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("home/retention/", views.home_retention, name="home-retention"),
]

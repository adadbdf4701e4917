from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from equipoise.api.api import api

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("plans/", include("equipoise.planning.urls")),
    path("quotas/", include("equipoise.quotas.urls")),
    path("results/", include("equipoise.results.urls")),
    path("tracking/", include("equipoise.tracking.urls")),
    path("", include("equipoise.web.urls")),
]

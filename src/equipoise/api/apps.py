from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "equipoise.api"
    label = "api"
    verbose_name = "API tokens"

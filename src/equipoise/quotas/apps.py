from django.apps import AppConfig


class QuotasConfig(AppConfig):
    name = "equipoise.quotas"
    label = "quotas"

from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "equipoise.org"
    label = "org"
    verbose_name = "Organisation"

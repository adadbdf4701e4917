from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "equipoise.core"
    label = "core"

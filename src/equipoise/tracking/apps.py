from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "equipoise.tracking"
    label = "tracking"

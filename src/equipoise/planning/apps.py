from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "equipoise.planning"
    label = "planning"

from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "equipoise.results"
    label = "results"

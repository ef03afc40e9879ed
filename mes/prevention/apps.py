from django.apps import AppConfig


class PreventionConfig(AppConfig):
    name = "mes.prevention"
    label = "prevention"

from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "mes.measures"
    label = "measures"

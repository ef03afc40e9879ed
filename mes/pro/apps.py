from django.apps import AppConfig


class ProConfig(AppConfig):
    name = "mes.pro"
    label = "pro"

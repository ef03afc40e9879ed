from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "mes.ops"
    label = "ops"

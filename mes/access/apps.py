from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "mes.access"
    label = "access"

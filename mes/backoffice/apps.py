from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "mes.backoffice"
    label = "backoffice"

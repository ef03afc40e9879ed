from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "mes.records"
    label = "records"

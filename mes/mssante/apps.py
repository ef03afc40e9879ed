from django.apps import AppConfig


class MssanteConfig(AppConfig):
    name = "mes.mssante"
    label = "mssante"

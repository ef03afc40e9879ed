from django.apps import AppConfig


class AgendaConfig(AppConfig):
    name = "mes.agenda"
    label = "agenda"

from django.apps import AppConfig


class CarersConfig(AppConfig):
    name = "mes.carers"
    label = "carers"

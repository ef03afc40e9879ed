from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "mes.demo"
    label = "demo"

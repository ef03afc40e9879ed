from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "mes.portal"
    label = "portal"

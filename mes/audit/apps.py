from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mes.audit"
    label = "audit"

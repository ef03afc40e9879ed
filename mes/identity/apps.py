from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "mes.identity"
    label = "identity"
    verbose_name = "Identités"

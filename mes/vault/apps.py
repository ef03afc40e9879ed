from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "mes.vault"
    label = "vault"

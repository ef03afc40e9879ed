from django.apps import AppConfig


class PreferencesConfig(AppConfig):
    name = "mes.preferences"
    label = "preferences"
    verbose_name = "Préférences d'affichage"

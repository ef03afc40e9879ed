from django.apps import AppConfig


class TakeoutConfig(AppConfig):
    """Data leaving the espace at the citizen's request: « Télécharger mes données » and share
    links (issue 15)."""

    name = "mes.takeout"
    label = "takeout"

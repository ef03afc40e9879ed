from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "mes.messaging"
    label = "messaging"

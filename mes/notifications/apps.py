from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "mes.notifications"
    label = "notifications"

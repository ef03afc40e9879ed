from django.apps import AppConfig


class EnrolmentConfig(AppConfig):
    name = "mes.enrolment"
    label = "enrolment"

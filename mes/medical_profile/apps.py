from django.apps import AppConfig


class MedicalProfileConfig(AppConfig):
    name = "mes.medical_profile"
    label = "medical_profile"

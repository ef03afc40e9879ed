from django.apps import AppConfig


class VaccinationsConfig(AppConfig):
    name = "mes.vaccinations"
    label = "vaccinations"

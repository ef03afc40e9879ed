from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "mes.fhir"
    label = "fhir"

from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "mes.fhir"
    label = "fhir"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from .auth import token_cache
        from .core.cors import registered_origin

        check_request_enabled.connect(registered_origin, dispatch_uid="mes-fhir-cors")
        token_cache.connect()

from django.urls import include, path

from mes.fhir.views_mhd import base_without_slash

urlpatterns = [
    # OAuth2 / OpenID Connect provider and discovery documents (/o/..., /.well-known/...).
    path("", include("mes.fhir.urls_auth")),
    # The FHIR base as advertised, without its slash: POST is the ITI-65 transaction.
    path("fhir", base_without_slash, name="fhir-base"),
    path("fhir/", include("mes.fhir.urls")),
    path("pro/", include("mes.pro.urls")),
    path("", include("mes.portal.urls")),
]

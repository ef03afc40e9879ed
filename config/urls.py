from django.urls import include, path

urlpatterns = [
    # Probes and metrics for the operators (/healthz, /readyz, /metrics).
    path("", include("mes.ops.urls")),
    # OAuth2 / OpenID Connect provider and discovery documents (/o/..., /.well-known/...).
    path("", include("mes.fhir.urls_auth")),
    path("fhir/", include("mes.fhir.urls")),
    path("pro/", include("mes.pro.urls")),
    path("", include("mes.portal.urls")),
]

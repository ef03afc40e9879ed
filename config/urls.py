from django.urls import include, path

from mes.fhir.mhd.views import base_without_slash

urlpatterns = [
    # Probes and metrics for the operators (/healthz, /readyz, /metrics).
    path("", include("mes.ops.urls")),
    # OAuth2 / OpenID Connect provider and discovery documents (/o/..., /.well-known/...).
    path("", include("mes.fhir.auth.urls")),
    # The FHIR base as advertised, without its slash: POST is the ITI-65 transaction.
    path("fhir", base_without_slash, name="fhir-base"),
    path("fhir/", include("mes.fhir.urls")),
    path("pro/", include("mes.pro.urls")),
    # The catalogue operators' back office (issue 11), before the desk's own /guichet/.
    path("guichet/catalogue/", include("mes.backoffice.catalogue.urls")),
    path("guichet/", include("mes.backoffice.urls")),  # the 3422 support desk (issue 14)
    path("", include("mes.portal.urls")),
]

# Every error in French, in the look of the portal it happens in (mes/web/errors.py).
handler400 = "mes.web.errors.bad_request"
handler403 = "mes.web.errors.permission_denied"
handler404 = "mes.web.errors.page_not_found"
handler500 = "mes.web.errors.server_error"

from django.urls import include, path

urlpatterns = [
    # OAuth2 / OpenID Connect provider and discovery documents (/o/..., /.well-known/...).
    path("", include("mes.fhir.urls_auth")),
    path("fhir/", include("mes.fhir.urls")),
    path("pro/", include("mes.pro.urls")),
    path("", include("mes.portal.urls")),
]

from django.urls import include, path

urlpatterns = [
    # OAuth2 / OpenID Connect provider and discovery documents (/o/..., /.well-known/...).
    path("", include("mes.fhir.urls_auth")),
    path("fhir/", include("mes.fhir.urls")),
    path("pro/", include("mes.pro.urls")),
    path("guichet/", include("mes.backoffice.urls")),  # the 3422 support desk (issue 14)
    path("", include("mes.portal.urls")),
]

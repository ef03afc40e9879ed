"""The Web PS, by area: each sub-package holds its views, forms and URLs (like mes/portal/)."""

from django.urls import URLPattern, URLResolver, include, path

app_name = "pro"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("mes.pro.account.urls")),
    path("", include("mes.pro.patients.urls")),
    path("", include("mes.pro.documents.urls")),
    path("", include("mes.pro.profile.urls")),
    path("", include("mes.pro.care_history.urls")),
    path("messagerie/", include("mes.pro.messaging.urls")),
]

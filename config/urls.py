from django.urls import include, path

urlpatterns = [
    path("", include("mes.portal.urls")),
]

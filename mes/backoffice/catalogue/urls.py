"""The catalogue operators' back office, under /guichet/catalogue/."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "backoffice_catalogue"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.services, name="services"),
    path("services/nouveau/", views.service_new, name="service_new"),
    path("services/<uuid:service_id>/", views.service, name="service"),
    path("services/<uuid:service_id>/statut/", views.service_status, name="service_status"),
    path("services/<uuid:service_id>/logo/", views.service_logo, name="service_logo"),
    path("services/<uuid:service_id>/finalites/", views.purpose_save, name="purpose_save"),
    path(
        "services/<uuid:service_id>/finalites/<str:code>/retrait/",
        views.purpose_delete,
        name="purpose_delete",
    ),
    path("services/<uuid:service_id>/droits/", views.publish_rights, name="publish_rights"),
    path("signalements/", views.reports, name="reports"),
    path("signalements/<int:report_id>/cloture/", views.report_close, name="report_close"),
    path("deconnexion/", views.operator_logout, name="logout"),
]

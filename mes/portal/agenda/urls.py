"""Agenda santé and the prevention calendar (portal.md §8)."""

from django.urls import URLPattern, URLResolver, path

from . import views

# Included from mes/portal/urls.py under agenda/: these names live in the "portal" namespace.
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.agenda, name="agenda"),
    path("rendez-vous/ajouter/", views.appointment_add, name="appointment_add"),
    path("rendez-vous/<uuid:appointment_id>/", views.appointment_detail, name="appointment"),
    path(
        "rendez-vous/<uuid:appointment_id>/modifier/",
        views.appointment_edit,
        name="appointment_edit",
    ),
    path(
        "rendez-vous/<uuid:appointment_id>/annuler/",
        views.appointment_cancel,
        name="appointment_cancel",
    ),
    path("rappels/ajouter/", views.user_reminder_add, name="user_reminder_add"),
    path(
        "rappels/<uuid:reminder_id>/",
        views.user_reminder_edit,
        name="user_reminder_edit",
    ),
    path(
        "rappels/<uuid:reminder_id>/supprimer/",
        views.user_reminder_delete,
        name="user_reminder_delete",
    ),
    path("examens/<str:key>/", views.item_detail, name="agenda_item"),
    path("prevention-personnalisee/", views.personalised, name="agenda_personalised"),
    path("situation/", views.situations, name="agenda_situations"),
    path("abonnement/", views.subscription, name="agenda_subscription"),
    path("abonnement/<str:secret>.ics", views.ical_feed, name="agenda_ical"),
    path(
        "preferences-notifications/",
        views.notification_preferences,
        name="notification_preferences",
    ),
]

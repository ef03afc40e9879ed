"""Messagerie sécurisée (MSSanté): the professional's mailbox, over SMTP to the gateway."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.mailbox, name="messaging"),
    path("<uuid:conversation_id>/", views.conversation, name="messaging_conversation"),
    path("<uuid:conversation_id>/fin/", views.close, name="messaging_close"),
    path(
        "pieces-jointes/<uuid:attachment_id>/",
        views.attachment,
        name="messaging_attachment",
    ),
]

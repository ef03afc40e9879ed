"""Messagerie (portal.md §9): inbox, conversations, replies, new message to a pharmacy."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.inbox, name="messaging"),
    path("nouveau/", views.new_message, name="messaging_new"),
    path("<uuid:conversation_id>/", views.conversation, name="messaging_conversation"),
    path("<uuid:conversation_id>/repondre/", views.reply, name="messaging_reply"),
    path("<uuid:conversation_id>/supprimer/", views.delete, name="messaging_delete"),
    path("pieces-jointes/<uuid:attachment_id>/", views.attachment, name="messaging_attachment"),
    path(
        "pieces-jointes/<uuid:attachment_id>/enregistrer/",
        views.attachment_save,
        name="messaging_attachment_save",
    ),
]

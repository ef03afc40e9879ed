"""Proches aidants (portal.md §5.8)."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.carers, name="carers"),
    path("inviter/", views.invite, name="carers_invite"),
    path("invitations/<int:invitation_id>/annuler/", views.invitation_cancel, name="carers_cancel"),
    path("demandes/<int:invitation_id>/", views.invitation, name="carers_invitation"),
    path("personnes-aidees/", views.mine, name="carers_mine"),
    path("acces/<int:delegation_id>/fin/", views.revoke, name="carers_revoke"),
]

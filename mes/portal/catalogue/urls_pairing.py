"""The pairing's portal pages besides the consent (which is the OAuth authorization endpoint,
/o/authorize/, mes.fhir.auth.oauth.authorize): sending the synthèse du profil médical to a paired
service (issue 11 item 5)."""

from django.urls import URLPattern, URLResolver, path

from . import pairing_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("envoyer-ma-synthese/", pairing_views.profile_send, name="synthesis_send"),
]

"""The pairing consent has no URL of its own: it is the OAuth authorization endpoint
(/o/authorize/, mes.fhir.oauth.authorize) for a catalogue service's client. This module holds
the pairing's other portal pages (sending the synthesis to a paired service, issue 11 item 5)."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

"""The authorisation server (OAuth2 / OpenID Connect, SMART App Launch) on top of
django-oauth-toolkit: who may get which token, and what a token carries."""

"""The professionals' login (RPPS + mot de passe + code à usage unique, « code d'abord », passkey)
and their « appareils associés »; the OAuth authorize endpoint sends professionals to pro:login
with ?next=."""

from django.urls import URLPattern, URLResolver, path

from mes.web.passkey_pages import passkey_urls

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("connexion/", views.login_view, name="login"),
    path("connexion/code/", views.login_code, name="login_code"),
    path("connexion/code-d-abord/", views.login_code_first, name="login_code_first"),
    path(
        "connexion/code-d-abord/saisie/",
        views.login_code_first_check,
        name="login_code_first_check",
    ),
    path(
        "connexion/cle-d-acces/options/",
        views.passkey_login_options,
        name="passkey_login_options",
    ),
    path("connexion/cle-d-acces/", views.passkey_login, name="passkey_login"),
    *passkey_urls(views.PASSKEY_PAGES, "appareils-associes/"),
    path("deconnexion/", views.logout_view, name="logout"),
]

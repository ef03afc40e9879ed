"""Settings for every environment, driven by environment variables.

Secure by default: a deployment must provide MES_SECRET_KEY and MES_MASTER_KEY (or a key file);
only the demo and the tests set MES_DEBUG or use generated keys under var/.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MES_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("MES_DEBUG")
# The demo mode shows one-time codes on a demo outbox page; never on in production.
MES_DEMO = env_bool("MES_DEMO")
SECRET_KEY = os.environ.get("MES_SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or MES_DEMO):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("MES_SECRET_KEY doit être défini (variable d'environnement).")
    SECRET_KEY = "insecure-demo-only-" + "x" * 40

ALLOWED_HOSTS = env_list("MES_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("MES_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "mes.identity",
    "mes.enrolment",
    "mes.access",
    "mes.audit",
    "mes.vault",
    "mes.records",
    "mes.notifications",
    "mes.medical_profile",
    "mes.measures",
    "mes.vaccinations",
    "mes.prevention",
    "oauth2_provider",
    "corsheaders",
    "mes.fhir",
    "mes.portal",
    "mes.pro",
    "mes.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # CORS for the browser apps registered as FHIR clients (their allowed origins), on the API
    # and the token endpoints only: mes/fhir/cors.py.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mes.portal.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mes.portal.context_processors.portal",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'mes.sqlite3'}",
        conn_max_age=int(os.environ.get("MES_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer commits; IMMEDIATE avoids lock upgrades deadlocking.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identity.User"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "mes.identity.passwords.MesPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    # Encrypted blobs only: everything written here is AES-256-GCM ciphertext (mes.vault).
    "vault": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ.get("MES_VAULT_DIR", str(VAR_DIR / "vault"))},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}

EMAIL_BACKEND = os.environ.get("MES_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("MES_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("MES_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get(
    "MES_FROM_EMAIL", "Mon espace santé <ne-pas-repondre@localhost>"
)
# SMS go through a pluggable backend: a dotted path to a callable (phone, text) -> None.
MES_SMS_BACKEND = os.environ.get("MES_SMS_BACKEND", "mes.notifications.sms.console_backend")

# --- Keys -----------------------------------------------------------------------------------
# The master key wraps every patient data key (mes.vault). Base64 of 32 random bytes, or a file.
MES_MASTER_KEY = os.environ.get("MES_MASTER_KEY", "")
MES_MASTER_KEY_FILE = os.environ.get("MES_MASTER_KEY_FILE", "")

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("MES_SESSION_SECONDS", str(30 * 60)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not (DEBUG or MES_DEMO):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("MES_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("MES_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Domain timers and limits (each with its spec reference) --------------------------------
# One-time login code: 6 digits, valid 15 minutes, single use (mes-spec §3.3 [SEED]).
MES_OTP_DIGITS = 6
MES_OTP_VALIDITY = timedelta(minutes=15)
# A new code cannot be asked for within a minute of the previous one ([GAP]: decided here).
MES_OTP_RESEND_INTERVAL = timedelta(minutes=1)
# Wrong passwords or codes before the account is locked, and for how long ([GAP]: decided here).
MES_LOGIN_MAX_FAILURES = 5
MES_LOGIN_LOCK_DURATION = timedelta(minutes=15)
# INVISIBLE_PATIENT: patient alerted at 2 weeks, released automatically at 1 month (R1111-53,
# mes-spec §4.6). "1 month" is taken as 30 days ([GAP] on calendar months).
MES_HIDDEN_FROM_PATIENT_ALERT_AFTER = timedelta(weeks=2)
MES_HIDDEN_FROM_PATIENT_RELEASE_AFTER = timedelta(days=30)
# Patient uploads: 5 Mo, the real service's limit (portal.md §3.2).
MES_UPLOAD_MAX_BYTES = 5 * 1024 * 1024
# Bris de glace lasts one encounter, bounded at 24 hours per patient ([GAP], mes-spec §5.4).
MES_BREAK_GLASS_DURATION = timedelta(hours=24)
# Multi-select delete limit (portal.md §3.1).
MES_BULK_DELETE_MAX = 10

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MES_LOG_LEVEL", "INFO")},
}


def _demo_key_file(name: str, make: Callable[[], str]) -> Path:
    """A key generated once under VAR_DIR for a demo or debug run, readable by its owner only
    (chmod 600). O_EXCL makes concurrent first starts agree on one key: the loser reads the
    winner's."""
    path = VAR_DIR / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as f:
        f.write(make() + "\n")
    return path


if MES_DEMO:
    # Demo: messages go to the demo outbox (and the console), never to a real mailbox.
    EMAIL_BACKEND = "mes.demo.mail.OutboxBackend"
    MES_SMS_BACKEND = "mes.demo.mail.sms_backend"

    # Keys of this demo installation only: generated on first start, never the same twice, so
    # no key is shared between demo installations (and none is written in the code).
    if not os.environ.get("MES_SECRET_KEY"):
        SECRET_KEY = (
            _demo_key_file("demo-secret.key", lambda: secrets.token_urlsafe(50)).read_text().strip()
        )
    if not (MES_MASTER_KEY or MES_MASTER_KEY_FILE):
        MES_MASTER_KEY_FILE = str(
            _demo_key_file(
                "demo-master.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
            )
        )

# --- OAuth2 / OpenID Connect provider for the FHIR API (django-oauth-toolkit) ----------------
# Owned by the FHIR API (mes/fhir); documented in docs/fhir-api.md. Practice software signs a
# professional in through the Web PS login (authorization code + PKCE); a structure's server
# uses client credentials and names the acting professional on each request.
# The ID tokens are signed with an RSA key: MES_OIDC_RSA_PRIVATE_KEY (PEM) or
# MES_OIDC_RSA_PRIVATE_KEY_FILE; the demo and a debug run generate one under VAR_DIR once.
MES_OIDC_RSA_PRIVATE_KEY = os.environ.get("MES_OIDC_RSA_PRIVATE_KEY", "")
_oidc_key_file = os.environ.get("MES_OIDC_RSA_PRIVATE_KEY_FILE", "")
if not MES_OIDC_RSA_PRIVATE_KEY and not _oidc_key_file and (DEBUG or MES_DEMO):

    def _generate_rsa_pem() -> str:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    _oidc_key_file = str(_demo_key_file("demo-oidc-rsa.key", _generate_rsa_pem))
if not MES_OIDC_RSA_PRIVATE_KEY and _oidc_key_file:
    MES_OIDC_RSA_PRIVATE_KEY = Path(_oidc_key_file).read_text()
if not MES_OIDC_RSA_PRIVATE_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "MES_OIDC_RSA_PRIVATE_KEY (ou MES_OIDC_RSA_PRIVATE_KEY_FILE) doit être défini : clé RSA "
        "PEM qui signe les jetons d'identité OpenID Connect."
    )

# django-cors-headers: no origin is allowed by settings; mes/fhir/cors.py allows, per request,
# the origins registered for an OAuth client (Application.allowed_origins). No cookies cross.
CORS_URLS_REGEX = r"^/(fhir(/.*)?|o/(token|revoke_token|userinfo)/|\.well-known/.*)$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "prefer",
    "x-mes-mode-acces",
    "x-mes-justification",
    "x-mes-professionnel",
)
CORS_EXPOSE_HEADERS = ("location", "www-authenticate", "content-location", "etag")
CORS_PREFLIGHT_MAX_AGE = 600

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": MES_OIDC_RSA_PRIVATE_KEY,
    # Fixed issuer behind a proxy (e.g. https://dmp.example.org/o); else derived from the request.
    "OIDC_ISS_ENDPOINT": os.environ.get("MES_OIDC_ISSUER", ""),
    "OAUTH2_VALIDATOR_CLASS": "mes.fhir.oauth.MesOAuth2Validator",
    # Scopes, SMART App Launch v1 syntax (user/<Resource>.<read|write>): each endpoint declares
    # the ones it needs with @fhir_endpoint(scopes=...). Descriptions are shown to people.
    "SCOPES": {
        "openid": "Identifier le professionnel connecté (OpenID Connect)",
        "profile": "Connaître le nom, la profession et la structure du professionnel",
        "user/Patient.read": "Rechercher un patient par son INS et connaître l'état de son DMP",
        "user/Consent.write": "Déclarer ou retirer son autorisation d'accès au DMP d'un patient",
        "user/DocumentReference.read": "Rechercher les documents du DMP d'un patient",
        "user/DocumentReference.write": "Déposer, remplacer et gérer des documents dans le DMP",
        "user/Binary.read": "Lire le contenu des documents du DMP",
        "user/Immunization.read": "Consulter les vaccinations d'un patient",
        "user/Immunization.write": "Enregistrer ou confirmer une vaccination dans le carnet",
        "user/RelatedPerson.read": "Consulter l'entourage d'un patient (personne de confiance…)",
    },
    # A client that asks for no scope gets only `openid`: every data scope is asked explicitly.
    "DEFAULT_SCOPES": ["openid"],
    # SMART v1 and v2 syntaxes (user/…, system/…, wildcards), a subset granted: mes/fhir/scopes.py.
    "SCOPES_BACKEND_CLASS": "mes.fhir.scopes.SmartScopes",
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # never in the query string
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # only a SHA-256 of each token is stored
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    # One hour of access per token; a refresh token lasts a working day (12 h, [GAP] decided:
    # the professional signs in again each day), rotated on use, a replay revokes the family.
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 12 * 3600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # https only, by default (RFC 9700 §2.1). A deployment whose desktop practice software uses
    # loopback redirects (RFC 8252 §7.3) opts in with MES_OAUTH_REDIRECT_SCHEMES=https,http;
    # the demo and a debug run allow them.
    "ALLOWED_REDIRECT_URI_SCHEMES": env_list(
        "MES_OAUTH_REDIRECT_SCHEMES", "https,http" if (DEBUG or MES_DEMO) else "https"
    ),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    # "none": public clients (desktop software without a secret), PKCE then proves the client.
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "client_credentials", "refresh_token"],
}
# Named explicitly: mes.fhir.FhirClient points at the (swappable) Application model.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

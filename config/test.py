"""Test settings: SQLite in a temporary folder unless DATABASE_URL is set (CI runs both)."""

import base64
import os
import secrets
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

os.environ.setdefault("MES_DEBUG", "false")
# A fresh random key for each run: config/safety.py refuses weak or example keys.
os.environ.setdefault("MES_SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("MES_VAR_DIR", tempfile.mkdtemp(prefix="mes-test-"))
# A fresh trace key for each test run (tests of rotation set their own).
os.environ.setdefault("MES_AUDIT_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
# The test clients use loopback redirect URIs, as desktop practice software does (RFC 8252).
os.environ.setdefault("MES_OAUTH_REDIRECT_SCHEMES", "https,http")

# A fresh RSA key signs the OpenID Connect ID tokens of each test run (never a fixed one).
os.environ.setdefault(
    "MES_OIDC_RSA_PRIVATE_KEY",
    rsa.generate_private_key(public_exponent=65537, key_size=2048)
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode(),
)

from config.base import *  # noqa: F403
from config.base import STORAGES, VAR_DIR

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Speed: MD5 for people's passwords (prod uses argon2); the client secrets' hasher as in prod.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "mes.fhir.auth.client_secrets.ClientSecretHasher",
]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MES_SMS_BACKEND = "mes.notifications.sms.memory_backend"
MES_MASTER_KEY = "dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmchISE="  # 32 bytes, tests only
MES_MSSANTE_SELF_SIGNED_OK = True
MES_WEBPS_SMTP_TLS_VERIFY = False  # the test gateway has a generated certificate
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    **STORAGES,
    "vault": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "vault")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Static files straight from the apps (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

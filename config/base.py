"""Settings for every environment, driven by environment variables.

Secure by default: a deployment must provide MES_SECRET_KEY and MES_MASTER_KEY (or a key file);
only the demo and the tests set MES_DEBUG or use generated keys under var/.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from datetime import time, timedelta
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
    "mes.messaging",
    "mes.agenda",
    "mes.carers",
    "mes.reimbursements",
    "mes.takeout",
    "oauth2_provider",
    "corsheaders",
    "mes.fhir",
    "mes.mssante",
    "mes.backoffice",
    "mes.ops",
    "mes.portal",
    "mes.pro",
    "mes.demo",
    "mes.preferences",
    "mes.catalogue",
    "mes.web",  # the error pages' templates (mes/web/templates)
]

MIDDLEWARE = [
    # First: the request id, the access log line and the metrics cover everything below.
    "mes.ops.middleware.RequestObservabilityMiddleware",
    # Each request a unit of work for the database router (read-your-writes on the primary).
    "mes.ops.db_router.ReadYourWritesMiddleware",
    # First: whether the request came over HTTPS is settled before anything reads it.
    "mes.web.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Body size and control characters, before any view, session or form reads the request.
    "mes.web.limits.RequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # CORS for the browser apps registered as FHIR clients (their allowed origins), on the API
    # and the token endpoints only: mes/fhir/core/cors.py.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "mes.web.errors.MethodNotAllowedPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mes.web.middleware.SecurityHeadersMiddleware",
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
        conn_health_checks=True,  # a kept connection is checked before use (failover, restart)
    )
}
# Behind PgBouncer in transaction pooling, server-side cursors cannot live across statements.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("MES_DB_DISABLE_SERVER_SIDE_CURSORS")
# A streaming standby for the reads marked as tolerating lag (mes/ops/db_router.py). In tests it
# mirrors `default`: same test database, reached through the standby's own server.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.config(
        env="DATABASE_REPLICA_URL",
        conn_max_age=int(os.environ.get("MES_DB_CONN_MAX_AGE", "0")),
        disable_server_side_cursors=env_bool("MES_DB_DISABLE_SERVER_SIDE_CURSORS"),
        test_options={"MIRROR": "default"},
    )
DATABASE_ROUTERS = ["mes.ops.db_router.PrimaryReplicaRouter"]
# Only these models may be read on the replica, and only by the work that asked for it: access
# rules, consents, sessions, tokens and users are always read on the primary (fail closed).
MES_DB_REPLICA_MODELS = frozenset(
    {
        "audit.Trace",
        "records.Document",
        "records.Folder",
        "messaging.Conversation",
        "messaging.Message",
        "notifications.Notification",
    }
)
# Bookkeeping writes that come with every request and do not send its later reads to the
# primary: the trace of the consultation itself (a change always writes a domain row too, which
# does), the session and its login record (never read on the replica).
MES_DB_ROUTER_UNREAD_WRITES = frozenset(
    {"audit.Trace", "audit.ChainHead", "sessions.Session", "enrolment.AccountSession"}
)
# After a request that wrote, the same browser reads the primary for this long (the page after
# a form's redirect). Covers a lagging asynchronous replica; the synchronous one lags by ms.
MES_DB_REPLICA_STICKY_SECONDS = int(os.environ.get("MES_DB_REPLICA_STICKY_SECONDS", "10"))
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
# A stale form (CSRF failure) gets a French page, and a stale login form a fresh login.
CSRF_FAILURE_VIEW = "mes.web.errors.csrf_failure"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"

# People's passwords: Argon2id (first: the one new passwords get). OAuth client secrets, long
# generated values: a salted SHA-256, named by OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"] below and
# listed here so that Django recognises its hashes (mes/fhir/auth/client_secrets.py).
PASSWORD_HASHERS = [
    "mes.identity.passwords.Argon2RFC9106Hasher",
    "mes.fhir.auth.client_secrets.ClientSecretHasher",
]
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

# Blobs on any S3-compatible object store instead of a folder (MES_BLOB_STORAGE=s3): the vault
# encrypts before it writes, so the store only ever holds ciphertext, whichever it is.
MES_BLOB_STORAGE = os.environ.get("MES_BLOB_STORAGE", "filesystem")
if MES_BLOB_STORAGE == "s3":
    _s3_secret = os.environ.get("MES_S3_SECRET_ACCESS_KEY", "")
    if not _s3_secret and os.environ.get("MES_S3_SECRET_ACCESS_KEY_FILE"):
        _s3_secret = Path(os.environ["MES_S3_SECRET_ACCESS_KEY_FILE"]).read_text().strip()
    _s3_missing = [
        name
        for name in ("MES_S3_BUCKET", "MES_S3_ENDPOINT_URL", "MES_S3_ACCESS_KEY_ID")
        if not os.environ.get(name)
    ] + ([] if _s3_secret else ["MES_S3_SECRET_ACCESS_KEY (ou _FILE)"])
    if _s3_missing:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "MES_BLOB_STORAGE=s3 demande aussi : " + ", ".join(_s3_missing) + "."
        )
    STORAGES["vault"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["MES_S3_BUCKET"],
            "endpoint_url": os.environ["MES_S3_ENDPOINT_URL"],
            "access_key": os.environ["MES_S3_ACCESS_KEY_ID"],
            "secret_key": _s3_secret,
            "region_name": os.environ.get("MES_S3_REGION", "us-east-1"),
            "addressing_style": "path",
            "signature_version": "s3v4",
            # Blob names are unique ids written once; the vault itself replaces a blob.
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": False,  # the store is never handed to a browser
        },
    }
elif MES_BLOB_STORAGE != "filesystem":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("MES_BLOB_STORAGE vaut « filesystem » ou « s3 ».")
# A blob no committed row refers to (a crash between the blob write and the commit) is removed
# by `mes vault_sweep` once older than this: younger ones may belong to a transaction in flight.
MES_VAULT_SWEEP_GRACE = timedelta(hours=int(os.environ.get("MES_VAULT_SWEEP_GRACE_HOURS", "24")))

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
# X-Forwarded-Proto is believed only from the reverse proxy declared here (addresses or CIDR
# networks, comma-separated); from anyone else mes.web.proxy drops it. Without a declared proxy
# the header is never believed, and config/safety.py refuses a setting that would believe it.
MES_TRUSTED_PROXIES = env_list("MES_TRUSTED_PROXIES")
if MES_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Domain timers and limits (each with its spec reference) --------------------------------
# One-time login code: 6 digits, valid 15 minutes, single use (mes-spec §3.3 [SEED]).
MES_OTP_DIGITS = 6
MES_OTP_VALIDITY = timedelta(minutes=15)
# A new code cannot be asked for within a minute of the previous one ([GAP]: decided here).
MES_OTP_RESEND_INTERVAL = timedelta(minutes=1)
# Wrong guesses one code accepts before it stops working ([GAP]: decided here; issue 13 item 5).
MES_OTP_MAX_ATTEMPTS = 5
# Sign-in abuse (issue 13 item 5, [GAP] decided in docs/decisions.md): no account is ever locked.
# Per client address: past MES_SIGNIN_ADDRESS_FREE_FAILURES failures within the window, each
# further attempt waits BASE_DELAY doubled per failure, at most MAX_DELAY.
MES_SIGNIN_WINDOW = timedelta(minutes=15)
MES_SIGNIN_ADDRESS_FREE_FAILURES = 10
MES_SIGNIN_BASE_DELAY = timedelta(seconds=2)
MES_SIGNIN_MAX_DELAY = timedelta(minutes=5)
# Per identifier (known or not): past this many wrong passwords within the window, the password
# is only checked together with a one-time code asked for first (or a passkey is used).
MES_SIGNIN_ACCOUNT_FREE_FAILURES = 5
# « Recevoir un code d'abord » answers in at least this time, whether the account exists or not.
MES_SIGNIN_CODE_FIRST_MIN_DURATION = timedelta(seconds=1)
# OAuth token endpoint: failed client authentications per address and per client id.
MES_TOKEN_ADDRESS_FREE_FAILURES = 10
MES_TOKEN_CLIENT_FREE_FAILURES = 20
# Passkeys (WebAuthn, portal.md §11.3): the relying party is this site; the challenge of a
# ceremony lives this long in the session and serves once.
MES_WEBAUTHN_RP_ID = os.environ.get("MES_WEBAUTHN_RP_ID", "")  # empty: the request's host
MES_WEBAUTHN_RP_NAME = "Mon espace santé"
MES_WEBAUTHN_ORIGINS = env_list("MES_WEBAUTHN_ORIGINS")  # empty: the request's own origin
MES_WEBAUTHN_TIMEOUT = timedelta(minutes=2)
MES_PASSKEYS_MAX_PER_ACCOUNT = 10
# INVISIBLE_PATIENT: patient alerted at 2 weeks, released automatically at 1 month (R1111-53,
# mes-spec §4.6). "1 month" is taken as 30 days ([GAP] on calendar months).
MES_HIDDEN_FROM_PATIENT_ALERT_AFTER = timedelta(weeks=2)
MES_HIDDEN_FROM_PATIENT_RELEASE_AFTER = timedelta(days=30)
# Patient uploads: 5 Mo, the real service's limit (portal.md §3.2).
MES_UPLOAD_MAX_BYTES = 5 * 1024 * 1024
# Bris de glace lasts one encounter, bounded at 24 hours per patient ([GAP], mes-spec §5.4).
MES_BREAK_GLASS_DURATION = timedelta(hours=24)
# The largest request body the portal and the Web PS read (mes.web.limits), refused on its
# declared length before it is read ([GAP] decided: twice the largest upload, so a file a little
# too large still gets the form's own message, and anything larger a 413 unread). The API paths
# set their own.
MES_REQUEST_MAX_BYTES = 2 * MES_UPLOAD_MAX_BYTES
MES_WEB_LIMITS_EXEMPT = ("/fhir/", "/o/", "/.well-known/")
# Multi-select delete limit (portal.md §3.1).
MES_BULK_DELETE_MAX = 10
# The espace's life (mes.enrolment). Opposition window: 6 weeks from the notice (mes-spec §3.2).
MES_ENROLMENT_OPPOSITION_WINDOW = timedelta(weeks=6)
# Provisional code (code provisoire): single use, valid 6 weeks (mes-spec §3.3, wave2 §1.6).
MES_ENROLMENT_CODE_VALIDITY = timedelta(weeks=6)
# Wrong provisional codes before the espace's code is locked, and for how long ([GAP]: decided).
MES_ENROLMENT_CODE_MAX_FAILURES = 5
MES_ENROLMENT_CODE_LOCK = timedelta(hours=1)
# Suspension without objection becomes closure after 6 weeks (R1111-36, mes-spec §3.4).
MES_ENROLMENT_SUSPENSION_TO_CLOSURE = timedelta(weeks=6)
# Closed espaces are archived 10 years, then purged (R1111-36, mes-spec §3.4). 10 × 365.25 d.
MES_ENROLMENT_ARCHIVE_DURATION = timedelta(days=3653)
# Express deletion runs within 3 months at most (R1111-36); we leave 7 days to change one's
# mind, then purge at the next sweep (docs/decisions.md, « Enrolment »).
MES_ENROLMENT_DELETION_GRACE = timedelta(days=7)
MES_ENROLMENT_DELETION_MAX_DELAY = timedelta(days=90)
# The worker runs the timers of the espace's life (mes.enrolment.tasks.sweep_timers) once a
# day at this local time: the windows of mes-spec §3 are counted in days, a night run suffices.
MES_ENROLMENT_SWEEP_AT = time(2, 30)
# At 18 a child's espace leaves the parents' hands (mes-spec §3.5 [INF]).
MES_MAJORITY_AGE = 18
# Import of the affiliation files: rows per committed batch (memory stays flat).
MES_ENROLMENT_IMPORT_BATCH = int(os.environ.get("MES_ENROLMENT_IMPORT_BATCH", "5000"))
# On PostgreSQL (set-based import): lines of the staged file checked and written per committed
# chunk, the checkpoint with it; the database's memory per chunk, Python's stays flat.
MES_ENROLMENT_IMPORT_CHUNK = int(os.environ.get("MES_ENROLMENT_IMPORT_CHUNK", "100000"))
# The checks of the next chunk on a second connection while this one is written (two cores).
MES_ENROLMENT_IMPORT_PIPELINE = env_bool("MES_ENROLMENT_IMPORT_PIPELINE", True)
# Agenda (issue 10). An appointment without an end lasts 30 minutes in the iCalendar feed
# ([GAP]: decided here); the feed's event UIDs use this domain (RFC 5545 §3.8.4.7).
MES_APPOINTMENT_DEFAULT_LENGTH = timedelta(minutes=30)
MES_ICAL_UID_DOMAIN = os.environ.get("MES_ICAL_UID_DOMAIN", "monespacesante.localhost")
# « Bientôt dû » prevention reminders: on the day before the window opens (portal.md §7.1:
# « on the due date or the day before »), and for a window opened in the last 7 days, in case
# a daily sweep was missed ([GAP]: decided here).
MES_PREVENTION_REMIND_BEFORE = timedelta(days=1)
MES_PREVENTION_REMIND_OPENED_WITHIN = timedelta(days=7)
# The citizen's own « Rappel » (portal.md §8): at most 10 on the same date ([S:23]); notified at
# its time by a task, and by the hourly sweep if that task was lost, up to this late ([GAP]).
MES_USER_REMINDERS_PER_DAY = 10
MES_USER_REMINDER_LATE = timedelta(days=1)
# The portal's address, in the generic e-mails and SMS of the notification channels.
MES_PORTAL_URL = os.environ.get("MES_PORTAL_URL", "http://127.0.0.1:8000/")
# The reminder sweep and campaigns work in batches of this many people (DESIGN.md §2).
MES_REMINDER_BATCH = int(os.environ.get("MES_REMINDER_BATCH", "2000"))
# E-mails and SMS sent per dispatch task (one SMTP connection each); a full batch plans the
# next one, so the outbox drains whatever its size (issue 16 §4).
MES_DISPATCH_BATCH = int(os.environ.get("MES_DISPATCH_BATCH", "500"))
# A task claimed by a worker and still not finished after this long is taken for abandoned
# (its worker died) and handed out again (mes.ops.queue): at-least-once delivery, safe because
# the background work is idempotent. Far above the longest task (a campaign slice: ~1 s).
MES_TASK_STALE_AFTER = timedelta(
    seconds=int(os.environ.get("MES_TASK_STALE_AFTER_SECONDS", str(15 * 60)))
)

# --- Messagerie and the MSSanté gateway (mes-spec §7, wave2.md §1.1–1.2, §3.4) --------------
# The patients' domain: every espace has <INS>@<domain> (mes-spec §2.3).
MES_MSSANTE_PATIENT_DOMAIN = os.environ.get("MES_MSSANTE_PATIENT_DOMAIN", "patient.mssante.fr")
# The liste blanche of operator domains (mes-spec §7.1), kept as data: one domain per row.
MES_MSSANTE_OPERATOR_DOMAINS_FILE = os.environ.get(
    "MES_MSSANTE_OPERATOR_DOMAINS_FILE", str(BASE_DIR / "mes/mssante/data/operator_domains.csv")
)
MES_MSSANTE_GATEWAY_HOST = os.environ.get("MES_MSSANTE_GATEWAY_HOST", "127.0.0.1")
MES_MSSANTE_GATEWAY_PORT = int(os.environ.get("MES_MSSANTE_GATEWAY_PORT", "2525"))
MES_MSSANTE_LMTP_PORT = int(os.environ.get("MES_MSSANTE_LMTP_PORT", "0"))  # 0: no LMTP
# Référentiel #1 v1.6: STARTTLS between operators; a production gateway refuses mail without it.
MES_MSSANTE_REQUIRE_STARTTLS = env_bool("MES_MSSANTE_REQUIRE_STARTTLS", not (DEBUG or MES_DEMO))
MES_MSSANTE_TLS_CERT_FILE = os.environ.get("MES_MSSANTE_TLS_CERT_FILE", "")
MES_MSSANTE_TLS_KEY_FILE = os.environ.get("MES_MSSANTE_TLS_KEY_FILE", "")
MES_MSSANTE_SELF_SIGNED_OK = False  # the tests may use a generated certificate
# A whole message (MIME, base64 included) above this is refused with 552 (mes-spec §7.4 [GAP]).
MES_MSSANTE_MAX_MESSAGE_BYTES = int(
    os.environ.get("MES_MSSANTE_MAX_MESSAGE_BYTES", str(20 * 1024 * 1024))
)
# Outbound: citizens' messages leave through this relay (an operator's submission port).
MES_MSSANTE_RELAY_BACKEND = os.environ.get(
    "MES_MSSANTE_RELAY_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
MES_MSSANTE_RELAY_HOST = os.environ.get("MES_MSSANTE_RELAY_HOST", "localhost")
MES_MSSANTE_RELAY_PORT = int(os.environ.get("MES_MSSANTE_RELAY_PORT", "587"))
MES_MSSANTE_RELAY_STARTTLS = env_bool("MES_MSSANTE_RELAY_STARTTLS", not (DEBUG or MES_DEMO))
# X-MSS-NIL: the product reference of this software on every outbound mail (Ref #2 v1.0.1).
MES_MSSANTE_NIL = os.environ.get("MES_MSSANTE_NIL", "MES-OPEN-SOURCE")
# Retries of an outbound message: up to N attempts, the wait doubling from the first one.
MES_MESSAGE_DELIVERY_ATTEMPTS = int(os.environ.get("MES_MESSAGE_DELIVERY_ATTEMPTS", "6"))
MES_MESSAGE_DELIVERY_FIRST_BACKOFF = timedelta(minutes=1)
# Total size of the files a citizen attaches to one message (mes-spec §7.4 [INF]: 10 MB).
MES_MESSAGE_ATTACHMENTS_MAX_BYTES = 10 * 1024 * 1024
# Where the Web PS sends its professionals' messages: our own gateway, over SMTP.
MES_WEBPS_SMTP_HOST = os.environ.get("MES_WEBPS_SMTP_HOST", MES_MSSANTE_GATEWAY_HOST)
MES_WEBPS_SMTP_TLS_VERIFY = env_bool("MES_WEBPS_SMTP_TLS_VERIFY", not (DEBUG or MES_DEMO))
MES_WEBPS_SMTP_PORT = int(os.environ.get("MES_WEBPS_SMTP_PORT", str(MES_MSSANTE_GATEWAY_PORT)))

# Logs: one JSON object per line with the request id (MES_LOG_FORMAT=json, the default outside
# the demo and debug runs) or readable text; every line goes through the identifier redaction
# of mes/ops/logging.py (no INS, no e-mail address in any log line).
MES_LOG_FORMAT = os.environ.get("MES_LOG_FORMAT", "text" if (DEBUG or MES_DEMO) else "json")
# Proches aidants (portal.md §5.8, wave2.md §1.5): 3 aidants per aidé, 5 aidés per aidant [S:22].
# The durations are not published [GAP]: the app's demo fixture shows a delegation of one year
# and invitations valid two to four months; we take one year and two months (docs/decisions.md).
MES_CARERS_PER_AIDED = 3
MES_AIDED_PER_CARER = 5
MES_CARER_INVITATION_VALIDITY = timedelta(days=60)
MES_CARER_DELEGATION_VALIDITY = timedelta(days=365)
# Mon histoire de santé (portal.md §2.2): reimbursement lines loaded per transaction.
MES_CARE_HISTORY_BATCH_SIZE = 1000
# A patient may write to a pharmacy where a dispensation was reimbursed in the past year
# (mes-spec §7.2): the « pharmacies déjà fréquentées » of the messaging.
MES_VISITED_PHARMACY_WINDOW = timedelta(days=365)
# Catalogue de services (wave2.md §1.4, portal.md §5.5). When a service asks for new rights, each
# holder has this long to approve them before the synchronisation stops (`reapprovalLimitDate`:
# the real period is not published [GAP]; 30 days, docs/decisions.md « Catalogue de services »).
MES_CATALOGUE_REAPPROVAL_PERIOD = timedelta(
    days=int(os.environ.get("MES_CATALOGUE_REAPPROVAL_DAYS", "30"))
)
# An app paired by a citizen (docs/fhir-api.md « API des services synchronisés ») keeps its refresh
# token this long after its last access token expired (sliding: each refresh, rotated, starts it
# again), within the pairing's own life (unpairing, re-approval, suspension end it at once). The
# spec is silent [GAP]: 90 days, so that a phone app used every season does not ask its user to
# pair again (docs/decisions.md « Catalogue de services »). The professionals' 12 h are apart.
MES_CATALOGUE_REFRESH_TOKEN_LIFETIME = timedelta(
    days=int(os.environ.get("MES_CATALOGUE_REFRESH_TOKEN_DAYS", "90"))
)
# « Signaler ce service »: one report per account and service in this window (the last report's
# date is shown meanwhile).
MES_CATALOGUE_REPORT_INTERVAL = timedelta(days=1)
# Logos uploaded by the operators: PNG, JPEG or WebP, checked by Pillow, at most this size.
MES_CATALOGUE_LOGO_MAX_BYTES = 512 * 1024
# « Télécharger mes données » (portal.md §5.4): how long the ready zip may be downloaded [GAP].
MES_EXPORT_AVAILABILITY = timedelta(days=7)
# Share links (SMART Health Links): the longest life a citizen may give one, and the wrong
# passcodes after which the link locks itself [INF].
MES_SHARE_LINK_MAX_VALIDITY = timedelta(days=90)
MES_SHARE_LINK_MAX_PASSCODE_FAILURES = 5

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "mes.ops.logging.RequestIdFilter"},
        "redact": {"()": "mes.ops.logging.RedactIdentifiers"},
    },
    "formatters": {
        "json": {"()": "mes.ops.logging.json_formatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact"],
            "formatter": "json" if MES_LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("MES_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own request logger repeats our access line with the path: keep errors only.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
# Prometheus scrapes /metrics from loopback, or anywhere with this bearer token.
MES_METRICS_TOKEN = os.environ.get("MES_METRICS_TOKEN", "")


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
    # Citizens' messages to professionals land in the demo outbox instead of a real relay.
    MES_MSSANTE_RELAY_BACKEND = "mes.demo.mail.OutboxBackend"

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

# --- The trace's key (mes.audit.keys) ----------------------------------------------------------
# Seals every trace row (HMAC-SHA256) and signs the checkpoints of the chain heads (an Ed25519
# key derived from it): base64 of 32 random bytes or more, or a file holding it. Kept out of the
# database and its backups, like the master key: whoever holds the database without it cannot
# forge a row. Rotation: put a new key first, keep the old ones after it (comma or new line).
MES_AUDIT_KEY = os.environ.get("MES_AUDIT_KEY", "")
MES_AUDIT_KEY_FILE = os.environ.get("MES_AUDIT_KEY_FILE", "")
if not (MES_AUDIT_KEY or MES_AUDIT_KEY_FILE):
    if not (DEBUG or MES_DEMO):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "MES_AUDIT_KEY (ou MES_AUDIT_KEY_FILE) doit être défini : base64 d'au moins 32 "
            "octets aléatoires, la clé qui scelle la trace d'accès."
        )
    MES_AUDIT_KEY_FILE = str(
        _demo_key_file("demo-audit.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode())
    )
# Signed checkpoints of the chain heads, outside the database (an append-only directory: on a
# separate, write-once volume in production), written every hour by the worker
# ([GAP] decided: an hour bounds what an insider could cut unseen) and by `mes audit checkpoint`.
MES_AUDIT_CHECKPOINT_DIR = os.environ.get(
    "MES_AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")
)
MES_AUDIT_CHECKPOINT_INTERVAL = timedelta(hours=1)

# --- OAuth2 / OpenID Connect provider for the FHIR API (django-oauth-toolkit) ----------------
# What an access token points to (its client and structure, the professional it was issued to or
# a structure's server named) is kept per process this long (issue 12 §6, docs/decisions.md
# « API : vitesse »); the token's own row (revocation, expiry, a deactivated user) is read on
# every request.
MES_FHIR_TOKEN_CACHE_SECONDS = int(os.environ.get("MES_FHIR_TOKEN_CACHE_SECONDS", "60"))

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

# django-cors-headers: no origin is allowed by settings; mes/fhir/core/cors.py allows, per request,
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
    "x-mes-assertion",
)
CORS_EXPOSE_HEADERS = ("location", "www-authenticate", "content-location", "etag")
CORS_PREFLIGHT_MAX_AGE = 600

# A professional's practice software keeps its refresh token a working day (12 h after its last
# access token expired, [GAP] decided: the professional signs in again each day).
MES_FHIR_REFRESH_TOKEN_LIFETIME = timedelta(hours=12)

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": MES_OIDC_RSA_PRIVATE_KEY,
    # Fixed issuer behind a proxy (e.g. https://dmp.example.org/o); else derived from the request.
    "OIDC_ISS_ENDPOINT": os.environ.get("MES_OIDC_ISSUER", ""),
    "OAUTH2_VALIDATOR_CLASS": "mes.fhir.auth.oauth.MesOAuth2Validator",
    # Client secrets are long random values: a fast salted SHA-256, not the users' Argon2 and its
    # 64 MiB per token request (mes/fhir/auth/client_secrets.py, docs/decisions.md).
    "CLIENT_SECRET_HASHER": "mes_client_secret_sha256",
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
        "user/Appointment.read": "Consulter les rendez-vous de l'agenda de santé d'un patient",
        "user/Appointment.write": "Ajouter ou modifier un rendez-vous dans l'agenda de santé",
        "user/ExplanationOfBenefit.read": "Consulter l'histoire de santé (soins remboursés)",
    },
    # A client that asks for no scope gets only `openid`: every data scope is asked explicitly.
    "DEFAULT_SCOPES": ["openid"],
    # SMART v1 and v2 syntaxes (user/…, system/…, wildcards), a subset granted:
    # mes/fhir/auth/scopes.py.
    "SCOPES_BACKEND_CLASS": "mes.fhir.auth.scopes.SmartScopes",
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # never in the query string
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # only a SHA-256 of each token is stored
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    # One hour of access per token; a refresh token, rotated on use (a replay revokes the
    # family), lasts MES_FHIR_REFRESH_TOKEN_LIFETIME (12 h) for practice software and
    # MES_CATALOGUE_REFRESH_TOKEN_LIFETIME (90 days) for a citizen's app, each checked by
    # mes.fhir.auth.oauth's validator; django-oauth-toolkit's own check and sweep use the longest.
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "ID_TOKEN_EXPIRE_SECONDS": 3600,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(
        max(MES_FHIR_REFRESH_TOKEN_LIFETIME, MES_CATALOGUE_REFRESH_TOKEN_LIFETIME).total_seconds()
    ),
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
    "OAUTH2_GRANT_TYPES_SUPPORTED": [
        "authorization_code",
        "client_credentials",
        "refresh_token",
        # RFC 7523: a structure's server exchanges its signed assertion of the acting
        # professional for a token bound to them (mes/fhir/auth/jwt_bearer.py).
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ],
    # oauthlib's OpenID Connect server with the jwt-bearer grant added.
    "OIDC_SERVER_CLASS": "mes.fhir.auth.jwt_bearer.MesServer",
}
# The acting professional as a signed assertion of a structure's server (RFC 7523 style,
# mes/fhir/auth/assertion.py, docs/fhir-api.md « Assertion signée »): an assertion lives at most
# 5 minutes (RFC 7523 §3 lets the server bound `exp`; its `jti` is remembered that long to
# refuse replays) and the clocks of the two servers may differ by 60 seconds ([GAP] decided).
MES_FHIR_ASSERTION_MAX_LIFETIME = timedelta(minutes=5)
MES_FHIR_ASSERTION_CLOCK_SKEW = timedelta(seconds=60)
# Named explicitly: mes.fhir.FhirClient points at the (swappable) Application model.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# Named (to their defaults) so that other apps can point at them: mes.catalogue binds tokens to
# pairings.
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 (a model name)
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"  # noqa: S105
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"  # noqa: S105

# --- Help, support and legal pages (portal.md §10, §11.1) -----------------------------------
# The deployer fills these in: who publishes the service, who hosts it, how to reach them.
MES_PUBLISHER_NAME = os.environ.get("MES_PUBLISHER_NAME", "L'exploitant de ce service")
MES_PUBLISHER_ADDRESS = os.environ.get("MES_PUBLISHER_ADDRESS", "Adresse à renseigner")
MES_PUBLICATION_DIRECTOR = os.environ.get("MES_PUBLICATION_DIRECTOR", "À renseigner")
MES_HOST_NAME = os.environ.get("MES_HOST_NAME", "Hébergeur à renseigner (certifié HDS)")
MES_DPO_CONTACT = os.environ.get("MES_DPO_CONTACT", "dpo@exemple.invalid")
MES_SUPPORT_PHONE = os.environ.get("MES_SUPPORT_PHONE", "3422")
# RGAA: without an audit a site is declared « non conforme »; a deployer who audited sets
# « partiellement conforme » or « totalement conforme » (portal.md §11.1).
MES_ACCESSIBILITY_STATUS = os.environ.get("MES_ACCESSIBILITY_STATUS", "non conforme")
# « Nous contacter »: at most this many requests per account and rolling day (portal.md §10,
# « Vous avez dépassé le nombre de demandes autorisées »; the real limit is not published).
MES_SUPPORT_REQUESTS_PER_DAY = int(os.environ.get("MES_SUPPORT_REQUESTS_PER_DAY", "5"))
# The support desk's address: told (reference and reason only) of each new request.
MES_SUPPORT_EMAIL = os.environ.get("MES_SUPPORT_EMAIL", "")
MES_SUPPORT_MESSAGE_MAX_LENGTH = 3000  # portal.md §1.7: comments and free texts, 3000 chars
# « Cette conversation sera conservée pendant un an. » (portal.md §10)
MES_SUPPORT_RETENTION_DAYS = 365
# « Mes raccourcis »: at most 5 on the home page (portal.md §1.4).
MES_HOME_SHORTCUTS_MAX = 5
# --- Start-up refuses unsafe settings (config/safety.py): a weak secret key, a proxy header
# believed from anyone. The demo and a debug run make their own keys and are exempt.
if not (DEBUG or MES_DEMO):
    from config.safety import refuse_unsafe

    refuse_unsafe(globals())

"""Benchmark settings (bench/run.py): the production settings, plus the baseline views.

Everything that matters for speed is config.base as deployed: DEBUG off, the same middleware,
the database given by DATABASE_URL (SQLite under MES_VAR_DIR otherwise), the encrypted vault,
the database task queue, argon2. Only two things differ:

- ROOT_URLCONF adds the bare baseline views of bench/baseline_urls.py in front of config.urls
  (they exist in this settings module only, never in production URLs);
- the static files are served from the apps (no collectstatic in a throwaway directory).

bench/run.py provides the keys and the data directory of each run through the environment; this
module refuses to start without them rather than invent keys the server and the dataset loader
would not share.
"""

import os

from django.core.exceptions import ImproperlyConfigured

for _name in (
    "MES_SECRET_KEY",
    "MES_MASTER_KEY",
    "MES_AUDIT_KEY",
    "MES_VAR_DIR",
    "MES_OIDC_RSA_PRIVATE_KEY",
):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(
            f"{_name} doit être fourni par bench/run.py (réglages du banc d'essai uniquement)."
        )

from config.base import *  # noqa: E402, F403
from config.base import STORAGES, VAR_DIR  # noqa: E402

ROOT_URLCONF = "bench.baseline_urls"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

# The statements per request, counted only on the requests that ask (bench/queries.py).
MIDDLEWARE = ["bench.queries.QueryCountMiddleware", *MIDDLEWARE]  # noqa: F405

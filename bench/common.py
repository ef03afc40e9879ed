"""What the benchmarks that start the service's processes share: their environment."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def service_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of `mes serve`, `mes worker` and `mes smtp-gateway` in a benchmark: this
    machine's environment without any MES_, DJANGO_ or DATABASE setting, fresh secrets, one
    OIDC key for every process, the gateway's self-signed certificate (STARTTLS offered, not
    required), quiet logs and a mail backend that sends nothing; then `extra`. Every key is
    given (config.bench refuses to start without them, config.base outside the demo)."""
    from bench.run import _rsa_pem
    from mes.mssante.tls import _self_signed

    cert, key = _self_signed(var_dir / "tls")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MES_", "DJANGO_", "DATABASE"))}
    env.update(
        {
            "MES_VAR_DIR": str(var_dir),
            "MES_SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
            "MES_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "MES_AUDIT_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "MES_OIDC_RSA_PRIVATE_KEY": _rsa_pem(),
            "MES_LOG_LEVEL": "WARNING",
            "MES_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "MES_MSSANTE_TLS_CERT_FILE": str(cert),
            "MES_MSSANTE_TLS_KEY_FILE": str(key),
            "MES_MSSANTE_REQUIRE_STARTTLS": "false",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env

"""Start-up refuses unsafe settings (issue 13 item 7): a weak or example secret key, a proxy
header believed without a declared proxy; `mes serve` binds loopback unless told, with a
gunicorn control socket per instance."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config import safety
from mes import cli

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("court-" + secrets.token_urlsafe(10), "trop courte"),
        ("a" * 64, "pas assez aléatoire"),
        ("ab" * 40, "pas assez aléatoire"),
        ("django-insecure-" + secrets.token_urlsafe(40), "clé d'exemple connue"),
        ("test-secret-key-not-for-production-" + "x" * 20, "clé d'exemple connue"),
        ("changeme-" + secrets.token_urlsafe(50), "clé d'exemple connue"),
    ],
    ids=["courte", "repetee", "motif", "django-insecure", "cle-des-tests", "changeme"],
)
def test_weak_secret_keys_are_refused(key, why):
    problem = safety.secret_key_problem(key)
    assert problem is not None and why in problem and "token_urlsafe(50)" in problem


@pytest.mark.parametrize(
    "key",
    [
        secrets.token_urlsafe(50),
        secrets.token_hex(32),
        # .ci/run's deploy check
        "ci-"
        + base64.b64encode(secrets.token_bytes(32)).decode().strip("=+/")
        + "-production-like-key",
    ],
    ids=["token_urlsafe", "token_hex", "ci"],
)
def test_random_keys_pass(key):
    assert safety.secret_key_problem(key) is None


def test_a_proxy_header_without_a_declared_proxy_is_refused():
    good = {"SECRET_KEY": secrets.token_urlsafe(50)}
    assert safety.problems(good) == []
    assert safety.problems(
        {**good, "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https")}
    ) == [
        "X-Forwarded-Proto serait cru sans proxy déclaré : n'importe quel client pourrait se "
        "dire en HTTPS. Déclarez l'adresse du proxy inverse dans MES_TRUSTED_PROXIES."
    ]
    declared = {
        **good,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "MES_TRUSTED_PROXIES": ["10.0.0.2"],
    }
    assert safety.problems(declared) == []
    assert (
        "n'est ni une adresse IP" in safety.problems({**good, "MES_TRUSTED_PROXIES": ["proxy"]})[0]
    )


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Load the production settings in a fresh interpreter, as gunicorn's workers do."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("MES_", "DJANGO_", "DATABASE"))
    }
    base.update(
        DJANGO_SETTINGS_MODULE="config.base",
        MES_MASTER_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        MES_AUDIT_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        MES_OIDC_RSA_PRIVATE_KEY=os.environ["MES_OIDC_RSA_PRIVATE_KEY"],
        MES_VAR_DIR=os.environ["MES_VAR_DIR"],
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_server_refuses_to_start_with_a_weak_key_and_names_it():
    weak = _start({"MES_SECRET_KEY": "motdepasse-du-serveur"})
    assert weak.returncode != 0
    assert "Réglages dangereux, démarrage refusé" in weak.stderr
    assert "MES_SECRET_KEY est trop courte" in weak.stderr
    missing_audit_key = _start({"MES_SECRET_KEY": secrets.token_urlsafe(50), "MES_AUDIT_KEY": ""})
    assert "MES_AUDIT_KEY (ou MES_AUDIT_KEY_FILE) doit être défini" in missing_audit_key.stderr
    strong = _start({"MES_SECRET_KEY": secrets.token_urlsafe(50)})
    assert strong.returncode == 0, strong.stderr


def test_mes_serve_binds_loopback_by_default_with_its_own_control_socket(monkeypatch, settings):
    monkeypatch.delenv("MES_BIND", raising=False)
    argv = cli.serve_argv([])
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8000"
    socket = Path(argv[argv.index("--control-socket") + 1])
    assert socket.parent == Path(settings.VAR_DIR)
    monkeypatch.setenv("MES_BIND", "0.0.0.0:9000")  # exposing it is said explicitly
    other = cli.serve_argv(["--timeout", "30"])
    assert other[other.index("--bind") + 1] == "0.0.0.0:9000"
    assert other[other.index("--control-socket") + 1] != str(socket)
    assert other[-2:] == ["--timeout", "30"]


def test_control_sockets_never_collide(tmp_path):
    a = cli.control_socket(tmp_path / "a", "127.0.0.1:8000")
    b = cli.control_socket(tmp_path / "b", "127.0.0.1:8000")
    c = cli.control_socket(tmp_path / "a", "127.0.0.1:8001")
    assert len({a, b, c}) == 3
    deep = tmp_path / ("d" * 120)
    long_a = cli.control_socket(deep, "127.0.0.1:8000")
    long_b = cli.control_socket(deep, "127.0.0.1:8001")
    assert long_a != long_b and len(str(long_a)) <= 100

"""The gateway's TLS context for STARTTLS: the operator's certificate (IGC Santé in production,
MES_MSSANTE_TLS_CERT_FILE / _KEY_FILE), or a self-signed one made once under VAR_DIR for the demo
and the tests."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert_path, key_path = directory / "gateway.crt", directory / "gateway.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_context() -> ssl.SSLContext:
    cert, key = settings.MES_MSSANTE_TLS_CERT_FILE, settings.MES_MSSANTE_TLS_KEY_FILE
    if not (cert and key):
        if not (settings.DEBUG or settings.MES_DEMO or settings.MES_MSSANTE_SELF_SIGNED_OK):
            raise ImproperlyConfigured(
                "MES_MSSANTE_TLS_CERT_FILE et MES_MSSANTE_TLS_KEY_FILE doivent être définis "
                "(certificat serveur de la passerelle MSSanté)."
            )
        cert_path, key_path = _self_signed(Path(settings.VAR_DIR) / "mssante-tls")
        cert, key = str(cert_path), str(key_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # Référentiel #1 v1.6: TLS ≥ 1.2
    context.load_cert_chain(cert, key)
    return context

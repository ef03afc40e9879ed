"""The password rule of the real service (portal.md §5.7): at least 9 characters with one
lowercase letter, one uppercase letter, one digit and one special character.

Plugged in through settings.AUTH_PASSWORD_VALIDATORS, so every password change and every
`validate_password()` call applies it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError

MIN_LENGTH = 9  # portal.md §5.7


class MesPasswordValidator:
    """Refuses a password that misses any part of the rule, and names every missing part."""

    def __init__(self, min_length: int = MIN_LENGTH) -> None:
        self.min_length = min_length

    def missing(self, password: str) -> list[str]:
        """What the password lacks, in the order the rule states it (empty when it complies)."""
        missing: list[str] = []
        if len(password) < self.min_length:
            missing.append(f"au moins {self.min_length} caractères (il en a {len(password)})")
        if not any(ch.islower() for ch in password):
            missing.append("une lettre minuscule")
        if not any(ch.isupper() for ch in password):
            missing.append("une lettre majuscule")
        if not any(ch.isdecimal() for ch in password):
            missing.append("un chiffre")
        if all(ch.isalnum() for ch in password):
            missing.append("un caractère spécial (par exemple ! ? @ # - _)")
        return missing

    def validate(self, password: str, user: Any = None) -> None:
        missing = self.missing(password)
        if missing:
            listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1])
            if len(missing) > 1:
                listed += f" et {missing[-1]}"
            raise ValidationError(
                "Ce mot de passe n'est pas assez sûr. Il lui manque : %(missing)s.",
                code="password_not_strong_enough",
                params={"missing": listed},
            )

    def get_help_text(self) -> str:
        return (
            f"Choisissez un mot de passe d'au moins {self.min_length} caractères, avec au moins "
            "une lettre minuscule, une lettre majuscule, un chiffre et un caractère spécial."
        )


class Argon2RFC9106Hasher(Argon2PasswordHasher):
    """Argon2id with the second recommended parameters of RFC 9106 §4 (64 MiB, 3 passes,
    4 lanes) instead of Django's 100 MiB: each password check allocates `memory_cost` for its
    duration, and a web worker (about 120 MB) must stay under 200 MB while it checks one (issue 16
    §8, measured by `python -m bench load`). OAuth client secrets, long generated values, have
    their own fast hasher (mes/fhir/auth/client_secrets.py). Hashes made with other parameters
    still verify and are re-hashed at the next successful sign-in."""

    time_cost = 3
    memory_cost = 65536  # KiB
    parallelism = 4

"""The production password hasher: Argon2id with RFC 9106's 64 MiB parameters, so that a web
worker checking a password or a client secret stays under 200 MB; hashes made with Django's
default parameters still verify and are upgraded."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password
from django.test import override_settings

from mes.identity.passwords import Argon2RFC9106Hasher

PROD = ["mes.identity.passwords.Argon2RFC9106Hasher"]


@override_settings(PASSWORD_HASHERS=PROD)
def test_new_hashes_use_the_rfc_9106_parameters_and_old_ones_still_verify():
    encoded = make_password("un mot de passe assez long")
    assert encoded.startswith("argon2$argon2id$v=19$m=65536,t=3,p=4$")
    assert check_password("un mot de passe assez long", encoded)
    old = Argon2PasswordHasher().encode("un mot de passe assez long", "selselselsel")
    assert "m=102400" in old
    assert check_password("un mot de passe assez long", old)
    assert Argon2RFC9106Hasher().must_update(old)  # re-hashed at the next sign-in
    assert not check_password("un autre", encoded)

"""The password rule of portal.md §5.7, with French messages naming what is missing."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from mes.conftest import PASSWORD
from mes.identity.passwords import MesPasswordValidator


@pytest.mark.parametrize("password", [PASSWORD, "Abcdefg1!", "Été-2026-sûr", "Mot de passe 9"])
def test_strong_passwords_are_accepted(password):
    MesPasswordValidator().validate(password)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (
            "Ab1!",
            "Ce mot de passe n'est pas assez sûr. Il lui manque : "
            "au moins 9 caractères (il en a 4).",
        ),
        (
            "abcdefgh1!",
            "Ce mot de passe n'est pas assez sûr. Il lui manque : une lettre majuscule.",
        ),
        (
            "ABCDEFGH1!",
            "Ce mot de passe n'est pas assez sûr. Il lui manque : une lettre minuscule.",
        ),
        (
            "Abcdefghi!",
            "Ce mot de passe n'est pas assez sûr. Il lui manque : un chiffre.",
        ),
        (
            "Abcdefgh12",
            "Ce mot de passe n'est pas assez sûr. Il lui manque : "
            "un caractère spécial (par exemple ! ? @ # - _).",
        ),
        (
            "motdepasse",
            "Ce mot de passe n'est pas assez sûr. Il lui manque : une lettre majuscule, "
            "un chiffre et un caractère spécial (par exemple ! ? @ # - _).",
        ),
    ],
)
def test_weak_passwords_are_refused_with_what_is_missing(password, message):
    with pytest.raises(ValidationError) as refused:
        MesPasswordValidator().validate(password)
    assert refused.value.messages == [message]


def test_help_text_states_the_whole_rule():
    text = MesPasswordValidator().get_help_text()
    assert "9 caractères" in text
    for part in ("minuscule", "majuscule", "chiffre", "caractère spécial"):
        assert part in text


def test_the_rule_is_plugged_into_django_settings():
    with pytest.raises(ValidationError) as refused:
        validate_password("court")
    assert any("Il lui manque" in m for m in refused.value.messages)
    validate_password(PASSWORD)

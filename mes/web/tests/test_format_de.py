"""« de » before a name, elided as French writes it: the portal said « profil de Inès Garnier »
(found walking Inès's activation in the demo)."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from mes.web.templatetags.mes_format import de


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Inès Garnier", "d'Inès Garnier"),
        ("Isabelle Moreau", "d'Isabelle Moreau"),
        ("Émile", "d'Émile"),
        ("Hélène", "d'Hélène"),
        ("Yasmine", "d'Yasmine"),
        ("Œdipe", "d'Œdipe"),
        ("Léo Lambert", "de Léo Lambert"),
        ("Jacqueline Moreau", "de Jacqueline Moreau"),
        ("Dr Bernard Léon", "de Dr Bernard Léon"),
        ("", "de "),
    ],
)
def test_de_elides_before_a_vowel_or_an_h(name: str, expected: str) -> None:
    assert de(name) == expected


def test_the_filter_in_a_template_escapes_the_name() -> None:
    rendered = Template("{% load mes_format %}Profil {{ name|de }}").render(
        Context({"name": "Inès <b>"})
    )
    assert rendered == "Profil d&#x27;Inès &lt;b&gt;"

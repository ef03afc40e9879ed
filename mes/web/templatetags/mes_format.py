"""Display helpers shared by both portals' templates: `{% load mes_format %}`."""

from __future__ import annotations

from django import template

from mes.lib.phone import grouped

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """A French phone number by pairs (« 06 12 34 56 78 »)."""
    return grouped(str(value or ""))


# French elides « de » before a vowel or a mute h: « le profil d'Inès », « de Léo ».
_ELIDING = frozenset("aàâäeéèêëiîïoôöuùûüyÿhæœ")


@register.filter
def de(value: object) -> str:
    """« de <name> », elided before a vowel or an h (« d'Inès Garnier », « de Léo »)."""
    text = str(value or "").strip()
    if text[:1].lower() in _ELIDING:
        return f"d'{text}"
    return f"de {text}"

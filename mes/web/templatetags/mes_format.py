"""Display helpers shared by both portals' templates: `{% load mes_format %}`."""

from __future__ import annotations

from django import template

from mes.lib.phone import grouped

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """A French phone number by pairs (« 06 12 34 56 78 »)."""
    return grouped(str(value or ""))

"""Characters refused in what people type (issue 13 item 4), one rule for every input path.

- Control characters (C0, DEL, C1) are refused everywhere: a NUL breaks PostgreSQL (500) and is
  stored as is by SQLite; the others have no meaning in a title, a name or a note. Free texts
  (several lines) keep the tab and the line breaks.
- Bidirectional overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069) are refused in
  names, titles and every one-line field: « facture‮fdp.exe » would read « facture.pdf » in a
  list ("Trojan Source"). The marks LRM/RLM/ALM, which only nudge neutral characters, are left
  to the free texts of people who write in Arabic or Hebrew.
"""

from __future__ import annotations

import unicodedata

from mes.lib.errors import InvalidInput

_MULTILINE_ALLOWED = frozenset("\t\n\r")
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"  # C0, DEL and C1


def _describe(char: str) -> str:
    if char == "\x00":
        return "caractère nul (U+0000)"
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name.lower()}" if name else "")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why this text is refused, in French (without the field's label), or None."""
    for char in value:
        if _is_control(char) and not (multiline and char in _MULTILINE_ALLOWED):
            return f"contient un caractère de contrôle interdit ({_describe(char)})"
        if char in BIDI_CONTROLS and not multiline:
            return (
                "contient un caractère qui inverse le sens d'écriture "
                f"({_describe(char)}), interdit dans les noms et les titres"
            )
    return None


def check_text(value: str, *, label: str, field: str | None = None, multiline: bool = False) -> str:
    """Refuse control characters (and, on one line, bidirectional overrides); return the text."""
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise InvalidInput(f"Le champ « {label} » {problem}.", field=field)
    return value


def has_control(value: str) -> bool:
    """A control character other than tab and line breaks (the transport-level check)."""
    return any(_is_control(c) and c not in _MULTILINE_ALLOWED for c in value)

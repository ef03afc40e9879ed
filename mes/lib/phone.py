"""Phone numbers as the French read them: by pairs (« 06 12 34 56 78 »)."""

from __future__ import annotations

import re


def grouped(number: str) -> str:
    """« 0612345678 » → « 06 12 34 56 78 », « +33612345678 » → « +33 6 12 34 56 78 ».
    Anything else (a foreign number, a short number like 3422) is returned as typed."""
    raw = (number or "").strip()
    digits = re.sub(r"[\s.\-]", "", raw)
    if re.fullmatch(r"0\d{9}", digits):
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    if re.fullmatch(r"\+33\d{9}", digits):
        rest = digits[4:]
        return f"+33 {digits[3]} " + " ".join(rest[i : i + 2] for i in range(0, 8, 2))
    return raw

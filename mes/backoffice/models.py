"""Back office models. The support desk's own live in models_desk.py (issue 14)."""

from .models_desk import SupportAgent

__all__ = ["SupportAgent"]

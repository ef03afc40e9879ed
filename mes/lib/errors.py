"""Errors shared by the domain apps."""

from __future__ import annotations

from django.http import Http404


class NotFound(Http404):
    """Absent, or not yours: one error for both, so a refusal reveals nothing (DESIGN.md §4)."""

    def __init__(self) -> None:
        super().__init__("Introuvable.")


class InvalidInput(ValueError):
    """Bad input refused before anything changed; str(error) is a French message."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

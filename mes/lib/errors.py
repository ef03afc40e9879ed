"""Errors shared by the domain apps."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
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


class Forbidden(PermissionDenied):
    """An action this actor may never do, whatever the dossier (FHIR 403). Used only where the
    refusal reveals nothing about a patient: e.g. an insurer asking to read, a professional
    declaring consent on a dossier whose holder blocked them (they already know their status)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

"""Reads for « Mes professionnels de santé »: the public directory search, and the médecin
traitant declared to the Assurance Maladie (portal.md §2.13).

The directory holds no patient data; `treating_physician` is called after the caller passed
the profile policy (access_profile).
"""

from __future__ import annotations

from django.db.models import Q

from mes.access.models import ProfessionalAccess
from mes.identity.models import Citizen, Organisation, Professional
from mes.lib import codes
from mes.lib.errors import InvalidInput

# One page of results; the citizen narrows the search rather than paging.
SEARCH_LIMIT = 30


def _words(value: str) -> list[str]:
    return [w for w in (value or "").split() if w]


def search_professionals(
    *, name: str = "", city: str = "", profession: str = ""
) -> list[Professional]:
    """Professionals by name (every word, first or last name), commune of their structure, and
    profession code. « Saisissez au moins un champ »."""
    if not (_words(name) or city.strip() or profession):
        raise InvalidInput("Saisissez au moins un champ.", field="name")
    condition = Q()
    for word in _words(name):
        condition &= Q(last_name__icontains=word) | Q(first_name__icontains=word)
    if city.strip():
        condition &= Q(organisation__city__icontains=city.strip())
    if profession:
        if profession not in codes.professions():
            raise InvalidInput("Choisissez une profession proposée.", field="profession")
        condition &= Q(profession=profession)
    qs = Professional.objects.select_related("organisation").filter(condition)
    return list(qs.order_by("last_name", "first_name")[:SEARCH_LIMIT])


def search_organisations(*, name: str = "", city: str = "", kind: str = "") -> list[Organisation]:
    """Structures (pharmacie, EHPAD, clinique…) by name, commune and type."""
    if not (_words(name) or city.strip() or kind):
        raise InvalidInput("Saisissez au moins un champ.", field="name")
    condition = Q()
    for word in _words(name):
        condition &= Q(name__icontains=word)
    if city.strip():
        condition &= Q(city__icontains=city.strip())
    if kind:
        if kind not in Organisation.Kind.values:
            raise InvalidInput("Choisissez un type d'établissement proposé.", field="kind")
        condition &= Q(kind=kind)
    qs = Organisation.objects.filter(condition).exclude(kind=Organisation.Kind.INSURER)
    return list(qs.order_by("name")[:SEARCH_LIMIT])


def treating_physician(patient: Citizen) -> Professional | None:
    """The médecin traitant « Déclaré à l'assurance maladie »: not editable in the portal."""
    access = (
        ProfessionalAccess.objects.select_related("professional__organisation")
        .filter(patient=patient, is_treating_physician=True)
        .first()
    )
    return access.professional if access else None

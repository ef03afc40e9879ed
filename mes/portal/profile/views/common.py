"""What every page of the profil médical says of whose profile it is."""

from __future__ import annotations

from mes.identity.models import Citizen
from mes.medical_profile.models import ProfileEntry

from ...access import PROFILE_SESSION_KEY, PortalRequest


def first_name(profile: Citizen) -> str:
    return profile.used_first_name or profile.first_name


def third_person_name(request: PortalRequest) -> str | None:
    """The first name to speak of in the third person, None on one's own profile."""
    return None if request.is_own_profile else first_name(request.profile)


def show_entry_profile(request: PortalRequest, entry: ProfileEntry) -> None:
    """An entry reached by a link from another of the citizen's profiles shows its own profile.

    The policy already allowed it, so its patient is the citizen or someone they represent.
    """
    if entry.patient_id != request.profile.pk:
        request.profile = entry.patient
        request.is_own_profile = entry.patient_id == request.citizen.pk
        request.session[PROFILE_SESSION_KEY] = str(entry.patient_id)

"""The shell's demo story (issue 8): the home shortcuts the cast chose (portal.md §1.4).

- Louise, who follows her diabetes, pinned her measures, her treatments, her pinned documents
  and who accessed her profile.
- Claire pinned Léo's vaccinations and measures on his profile.

Idempotent: a profile that already has shortcuts is left as it is (the citizen may have changed
them since). Call it after dataset.load().
"""

from __future__ import annotations

from mes.access.actors import citizen_actor
from mes.identity.models import Citizen
from mes.preferences.actions import shortcuts_of, shortcuts_set
from mes.preferences.models import Shortcut

from .dataset import PEOPLE

# (who chooses, whose home, shortcuts in order)
CHOICES: tuple[tuple[str, str, tuple[Shortcut, ...]], ...] = (
    (
        "louise",
        "louise",
        (Shortcut.MEASURES, Shortcut.TREATMENTS, Shortcut.PINNED, Shortcut.HISTORY),
    ),
    ("claire", "leo", (Shortcut.VACCINATIONS, Shortcut.MEASURES)),
)


def _citizen(key: str) -> Citizen | None:
    person = next((p for p in PEOPLE if p.key == key), None)
    return Citizen.objects.filter(ins=person.ins).first() if person else None


def load_shell_stories() -> dict[str, int]:
    """Give the cast their home shortcuts; returns what was created, by kind."""
    created = 0
    for chooser_key, profile_key, codes in CHOICES:
        chooser, profile = _citizen(chooser_key), _citizen(profile_key)
        if chooser is None or profile is None or shortcuts_of(profile):
            continue
        shortcuts_set(
            actor=citizen_actor(chooser), patient_id=profile.pk, codes=[c.value for c in codes]
        )
        created += len(codes)
    return {"raccourcis de l'accueil": created} if created else {}

"""Changes of a profile's display preferences (portal.md §1.4)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.conf import settings

from mes.access.actors import Actor
from mes.audit.guard import traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput

from .models import HomeShortcut, Shortcut
from .policies import access_preferences

TOO_MANY = "Vous ne pouvez pas ajouter plus de {max} raccourcis."
UNKNOWN = "Choisissez des raccourcis dans la liste proposée."


def shortcuts_of(profile: Citizen) -> list[Shortcut]:
    """The profile's shortcuts, in their order. Selector: preferences are not health data, the
    caller already resolved the profile it shows."""
    codes = HomeShortcut.objects.filter(profile=profile).values_list("code", flat=True)
    return [Shortcut(code) for code in codes if code in Shortcut.values]


@traced_action
def shortcuts_set(*, actor: Actor, patient_id: uuid.UUID, codes: Sequence[str]) -> list[Shortcut]:
    """« Gérer mes raccourcis »: replace the profile's shortcuts by `codes`, in that order.

    Precondition: the actor manages the dossier (the holder or a legal representative).
    At most settings.MES_HOME_SHORTCUTS_MAX (5); a code given twice counts once. Bad input
    raises InvalidInput and changes nothing. A refusal is traced (MODIF_RACCOURCIS refused);
    a change is not: it is the account's display, not an access to health data.
    """
    patient = access_preferences(actor, patient_id, action=TraceAction.SHORTCUTS)
    wanted = list(dict.fromkeys(codes))
    if any(code not in Shortcut.values for code in wanted):
        raise InvalidInput(UNKNOWN, field="codes")
    limit = settings.MES_HOME_SHORTCUTS_MAX
    if len(wanted) > limit:
        raise InvalidInput(TOO_MANY.format(max=limit), field="codes")
    HomeShortcut.objects.filter(profile=patient).delete()
    HomeShortcut.objects.bulk_create(
        HomeShortcut(profile=patient, code=code, position=i) for i, code in enumerate(wanted)
    )
    return [Shortcut(code) for code in wanted]

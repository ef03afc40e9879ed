"""The DMP's document operations asked through a PATCH or a DELETE (mes-spec §4.7, TD3.3).

Each operation is the records domain's own action, which checks who may do it (the author; for
MASQUE_PS also the médecin traitant; for the release after a consultation d'annonce, a
professional who may read it, in normal mode) and writes its trace. Several operations asked in
one PATCH succeed or fail together.
"""

from __future__ import annotations

import uuid

from mes.access.actors import Actor
from mes.audit.guard import traced_action
from mes.records import actions, timers

from .patch import PatchIntent


@traced_action
def apply(*, actor: Actor, document_id: uuid.UUID, intent: PatchIntent) -> None:
    """Run the operations of a PATCH, all or nothing.

    Precondition: `intent` comes from patch.intent on what the actor may read. Effects: those of
    document_set_masked, document_release_to_patient, document_set_archived, document_delete
    (traces MASQUAGE_DOC / DEMASQUAGE_DOC, MODIF_DOC, ARCHIVAGE_DOC / DESARCHIVAGE_DOC,
    SUPPRESSION_DOC; notifications to the patient). A refusal (NotFound) is traced after the
    rollback of the others.
    """
    if intent.masked is not None:
        actions.document_set_masked(actor=actor, document_id=document_id, masked=intent.masked)
    if intent.release_to_patient:
        timers.document_release_to_patient(actor=actor, document_id=document_id)
    if intent.archived is not None:
        actions.document_set_archived(
            actor=actor, document_id=document_id, archived=intent.archived
        )
    if intent.deleted:
        actions.document_delete(actor=actor, document_id=document_id)

"""Pairing a catalogue service with an espace (mes-spec §8; wave2.md §1.4; portal.md §5.5).

The citizen reaches the consent page through the OAuth authorization request of the service's
client (mes.portal.catalogue.pairing_views); `pairing_create` records their choice — the espace
and the purposes they consented to, one by one — and the OAuth validator then binds the
authorization code and every token issued from it to the pairing (mes.catalogue.oauth).

Changing the consents, unpairing and re-approval live in mes.catalogue.actions.citizen.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.urls import reverse
from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Role, standing
from mes.audit import trace
from mes.audit.guard import Refused, RefusedForbidden, traced_action
from mes.audit.models import TraceAction
from mes.enrolment.models import LegalRepresentation
from mes.enrolment.policies import citizen_side_q
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput
from mes.medical_profile import synthesis
from mes.medical_profile.directives import managed_dossier
from mes.medical_profile.synthesis import Section
from mes.notifications.channels.person import notify_through_channels
from mes.notifications.models import Notification
from mes.vault import store

from .models import (
    Consent,
    DataCategory,
    ExchangeAction,
    Pairing,
    ProfileShare,
    Purpose,
    Service,
)
from .policies import pairing_refusal, service_exchanges


def pairing_espaces(citizen: Citizen) -> list[Citizen]:
    """The espaces this citizen may pair a service with: their own, then those of the persons
    they legally represent (a child's), once activated. A proche aidant does not pair services
    for the person they help (portal.md §5.8 keeps the espace's settings to the holder)."""
    represented = (
        Citizen.objects.filter(
            pk__in=LegalRepresentation.objects.current()
            .filter(representative=citizen)
            .values("represented_id")
        )
        .filter(citizen_side_q())
        .order_by("birth_date")
    )
    return [citizen, *represented]


@traced_action
def pairing_create(
    *, actor: Actor, service: Service, patient_id: uuid.UUID, purpose_ids: Iterable[int]
) -> Pairing:
    """Pair `service` with the espace `patient_id`, with consent to these purposes (at least
    one, all of this service).

    Precondition: the actor is the holder of the espace or their legal representative; the
    service exchanges data (en ligne or pré-série). An active pairing of the same service with
    the same espace is renewed: its consents become these ones, its rights approved again.
    Side effects: the Pairing and its Consents; a SYNCHRO_SERVICE trace on the espace's chain;
    a « Services synchronisés » notification. Refusals are traced (RefusedForbidden).
    """
    patient = Citizen.objects.filter(pk=patient_id).first()
    if actor.kind is not ActorKind.CITIZEN or patient is None:
        raise RefusedForbidden.because(
            "Seul le titulaire du profil peut le synchroniser.",
            actor,
            TraceAction.SERVICE_PAIR,
            patient.pk if patient else None,
            "réservé au titulaire",
            document_title=service.name,
        )
    st = standing(actor, patient)
    if st.role not in (Role.HOLDER, Role.REPRESENTATIVE):
        raise RefusedForbidden.because(
            "Seul le titulaire du profil ou son représentant légal peut synchroniser un service.",
            actor,
            TraceAction.SERVICE_PAIR,
            patient.pk,
            st.reason or "ni titulaire ni représentant légal",
            document_title=service.name,
        )
    if not service_exchanges(service):
        raise RefusedForbidden.because(
            f"Le service « {service.name} » ne peut pas être synchronisé pour le moment.",
            actor,
            TraceAction.SERVICE_PAIR,
            patient.pk,
            f"service {service.get_status_display().lower()}",
            document_title=service.name,
        )
    account = actor.user_id
    assert account is not None  # a citizen actor always has their account
    chosen = list(Purpose.objects.filter(service=service, pk__in=list(purpose_ids)))
    if not chosen:
        raise InvalidInput(
            "Choisissez au moins une finalité pour synchroniser ce service.", field="purposes"
        )
    now = timezone.now()
    pairing = (
        Pairing.objects.select_for_update()
        .filter(service=service, patient=patient, status=Pairing.Status.ACTIVE)
        .first()
    )
    if pairing is None:
        pairing = Pairing.objects.create(
            service=service,
            patient=patient,
            granted_by_id=account,
            approved_version=service.rights_version,
            created_at=now,
        )
    else:
        pairing.granted_by_id = account
        pairing.approved_version = service.rights_version
        pairing.reapproval_deadline = None
        pairing.save(update_fields=["granted_by", "approved_version", "reapproval_deadline"])
        pairing.consents.exclude(purpose__in=chosen).delete()
    kept = set(pairing.consents.values_list("purpose_id", flat=True))
    Consent.objects.bulk_create(
        Consent(pairing=pairing, purpose=p, given_at=now) for p in chosen if p.pk not in kept
    )
    labels = ", ".join(p.label for p in chosen)
    trace.record(
        actor=actor,
        action=TraceAction.SERVICE_PAIR,
        patient_id=patient.pk,
        document_title=service.name[:255],
        reason=f"finalités : {labels}"[:200],
    )
    notify_through_channels(
        profile=patient,
        code=Notification.Code.SYNCED_SERVICES,
        label=f"Le service « {service.name} » est synchronisé avec votre profil.",
        url=reverse("portal:catalogue_synced"),
        link_label="Voir mes services synchronisés",
    )
    return pairing


# --- the synthèse du profil médical, sent to a paired service (issue 11 item 5) -----------------


def profile_pairings(patient: Citizen) -> list[Pairing]:
    """The active pairings of this espace that may receive its synthesis now (a consented
    purpose reads the profil médical, the service exchanging). Selector: the caller decided the
    actor manages the espace."""
    pairings = (
        Pairing.objects.filter(patient=patient, status=Pairing.Status.ACTIVE)
        .filter(
            consents__purpose__exchanges__category=DataCategory.PROFILE,
            consents__purpose__exchanges__action=ExchangeAction.READ,
        )
        .select_related("service")
        .distinct()
    )
    return [p for p in pairings if not pairing_refusal(p, patient) and service_exchanges(p.service)]


@traced_action
def profile_send(
    *, actor: Actor, pairing_id: uuid.UUID, patient_id: uuid.UUID, sections: list[Section]
) -> ProfileShare:
    """« Envoyer ma synthèse » to a paired service: a snapshot of the chosen sections.

    Precondition: the actor manages the espace (holder or legal representative), the pairing
    is this espace's and one of its consented purposes reads the profil médical. Side effects:
    the PDF sealed in the vault, a ProfileShare, an ENVOI_PROFIL_SERVICE trace naming the
    service. Refusals are traced NotFound.
    """
    patient = managed_dossier(actor, patient_id, refused_as=TraceAction.SERVICE_PROFILE_SEND)
    pairing = next((p for p in profile_pairings(patient) if p.pk == pairing_id), None)
    if pairing is None:
        raise Refused.because(
            actor,
            TraceAction.SERVICE_PROFILE_SEND,
            patient.pk,
            "service non synchronisé ou sans finalité « profil médical »",
        )
    chosen = synthesis.ordered(sections)
    content = synthesis.render(
        actor=actor, patient=patient, sections=chosen, day=timezone.localdate()
    )
    assert actor.user_id is not None
    share = ProfileShare.objects.create(
        pairing=pairing,
        sent_by_id=actor.user_id,
        sections=", ".join(synthesis.SECTION_LABELS[s] for s in chosen)[:300],
        size=len(content),
    )
    store.put(patient.pk, share.pk, content)
    trace.record(
        actor=actor,
        action=TraceAction.SERVICE_PROFILE_SEND,
        patient_id=patient.pk,
        document_title=pairing.service.name[:255],
    )
    return share

"""The purge (mes-spec §3.4, R1111-36) deletes every row of the person's own data, including
those of the models that keep no reverse accessor on the citizen (related_name="+"): the
profil médical rubrics, the agenda's prevention records and iCalendar links. What the law
keeps stays: the identity row, the espace's history and the trace chain."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import timezone

from mes.access.actors import citizen_actor, system_actor
from mes.agenda import actions as agenda
from mes.agenda.models import CalendarFeed, PreventionRecord
from mes.audit import trace
from mes.enrolment import lifecycle
from mes.enrolment.models import Espace, EspaceState
from mes.identity.models import Citizen
from mes.medical_profile.models import Allergy

pytestmark = pytest.mark.django_db


def _rows_naming(citizen: Citizen) -> dict[str, int]:
    """Every row that names the person through a `patient` or `profile` field."""
    found = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.related_model is Citizen and field.name in {"patient", "profile"}:
                n = model._default_manager.filter(**{field.name: citizen}).count()
                if n:
                    found[f"{model._meta.label}.{field.name}"] = n
    return found


def test_the_purge_leaves_none_of_the_person_s_own_rows(camille):
    holder = citizen_actor(camille)
    Allergy.objects.create(patient=camille, name="Pénicilline", added_by="Camille Lefèvre")
    PreventionRecord.objects.create(
        patient=camille, key="DEPISTAGE_COL_HPV@40", status=PreventionRecord.Status.DONE
    )
    agenda.calendar_feed_create(actor=holder, patient_id=camille.pk)
    lifecycle.espace_close(actor=holder, citizen=camille, channel=lifecycle.ONLINE)

    lifecycle.espace_purge(actor=system_actor("enrolement"), citizen=camille)

    # Only the purge's own notice is left (the transition writes one, without content).
    assert _rows_naming(camille) == {"notifications.Notification.profile": 1}
    assert camille.notifications.get().label == lifecycle.LABELS[EspaceState.PURGED]
    assert not Allergy.objects.filter(patient=camille).exists()
    assert not PreventionRecord.objects.filter(patient=camille).exists()
    assert not CalendarFeed.objects.filter(patient=camille).exists()
    assert Citizen.objects.filter(pk=camille.pk).exists()
    assert Espace.objects.get(pk=camille.pk).state == EspaceState.PURGED
    assert trace.verify_chain(str(camille.pk)) is None


def test_the_purge_leaves_no_way_to_reach_or_log_in(camille):
    """The login is no data the law keeps: its contact details, password and passkeys go, the
    identity row stays (the trace chain names it)."""
    from mes.identity.models import Passkey, User

    holder = citizen_actor(camille)
    User.objects.filter(pk=camille.user_id).update(phone="0611111111")
    Passkey.objects.create(
        user=camille.user,
        credential_id=b"cle",
        public_key=b"pk",
        name="Téléphone",
        created_at=timezone.now(),
    )
    lifecycle.espace_close(actor=holder, citizen=camille, channel=lifecycle.ONLINE)
    lifecycle.espace_purge(actor=system_actor("enrolement"), citizen=camille)
    user = User.objects.get(pk=camille.user_id)
    assert (user.is_active, user.email, user.phone) == (False, "", "")
    assert not user.has_usable_password()
    assert not Passkey.objects.filter(user=user).exists()
    assert Citizen.objects.get(pk=camille.pk).email == ""

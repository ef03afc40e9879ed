"""Querysets compiled once per process (mes/lib/prepared.py): the same rows and instances as
the ORM for any values, never a stale constant, and the one-statement INSERT storing what
`save()` stores."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mes.access.models import ProfessionalAccess
from mes.identity.models import Citizen, Professional
from mes.lib import prepared
from mes.lib.prepared import Prepared
from mes.notifications.models import Notification


def _with_access(values: Mapping[str, Any]) -> QuerySet[Citizen]:
    return Citizen.objects.filter(pk=values["patient"]).select_related("privacy")


def test_a_shape_is_compiled_once_and_binds_new_values(camille: Citizen, bob: Citizen) -> None:
    query: Prepared[Citizen] = Prepared(Citizen)
    first = query.fetch("by-id", _with_access, {"patient": camille.pk})
    assert [c.pk for c in first] == [camille.pk]
    # The related object came with the row, as select_related gives it.
    with CaptureQueriesContext(connection) as later:
        second = query.fetch("by-id", _with_access, {"patient": bob.pk})
        assert [c.pk for c in second] == [bob.pk]
        assert second[0].birth_name == bob.birth_name
    assert len(later) == 1
    assert query.fetch("by-id", _with_access, {"patient": uuid.uuid4()}) == []


def test_annotations_and_filtered_relations_as_the_orm_gives_them(
    camille: Citizen, dr_martin: Professional
) -> None:
    from django.db.models import FilteredRelation

    def build(values: Mapping[str, Any]) -> QuerySet[Citizen]:
        return (
            Citizen.objects.filter(pk=values["patient"])
            .annotate(
                mine=FilteredRelation(
                    "pro_accesses",
                    condition=Q(pro_accesses__professional_id=values["professional"]),
                )
            )
            .select_related("mine")  # type: ignore[misc]
        )

    query: Prepared[Citizen] = Prepared(Citizen)
    for _ in range(2):  # compiled, then reused
        found = query.fetch("facts", build, {"patient": camille.pk, "professional": dr_martin.pk})
        orm = list(build({"patient": camille.pk, "professional": dr_martin.pk}))
        assert found[0].mine.pk == orm[0].mine.pk  # type: ignore[attr-defined]
        assert isinstance(found[0].mine, ProfessionalAccess)  # type: ignore[attr-defined]
        other = {"patient": camille.pk, "professional": uuid.uuid4()}
        nobody = query.fetch("facts", build, other)
        assert getattr(nobody[0], "mine", None) is None
        assert getattr(build(other).first(), "mine", None) is None


def test_a_value_derived_from_the_request_is_never_kept(camille: Citizen) -> None:
    """`now - 1 day` is not the stand-in for `now`: the shape goes through the ORM each time
    (a compiled constant would keep the first request's instant)."""

    def build(values: Mapping[str, Any]) -> QuerySet[Citizen]:
        return Citizen.objects.filter(created_at__lte=values["now"] - timedelta(days=1))

    query: Prepared[Citizen] = Prepared(Citizen)
    past = timezone.now() - timedelta(days=3650)
    assert query.fetch("derived", build, {"now": past}) == []
    assert [key for key, compiled in query._shapes.items() if compiled is None]
    later = query.fetch("derived", build, {"now": timezone.now() + timedelta(days=2)})
    assert camille.pk in {c.pk for c in later}


def test_a_condition_that_matches_nothing(camille: Citizen) -> None:
    def build(values: Mapping[str, Any]) -> QuerySet[Citizen]:
        return Citizen.objects.filter(pk=values["patient"]).filter(pk__in=[])

    query: Prepared[Citizen] = Prepared(Citizen)
    assert query.fetch("empty", build, {"patient": camille.pk}) == []
    assert query.fetch("empty", build, {"patient": camille.pk}) == []


def test_insert_stores_what_save_stores(camille: Citizen) -> None:
    notification = Notification(profile=camille, code=Notification.Code.NEW_DOCUMENT, label="x")
    prepared.insert(notification)
    assert notification.pk is not None
    assert not notification._state.adding
    stored = Notification.objects.get(pk=notification.pk)
    assert (stored.profile_id, stored.code, stored.label) == (camille.pk, "AJOUT_DOCUMENT", "x")
    assert stored.created_at is not None  # the field's default, as save() fills it


def test_insert_leaves_models_with_receivers_to_save(camille: Citizen) -> None:
    seen: list[Notification] = []

    def receiver(sender: Any, instance: Notification, **_: Any) -> None:
        seen.append(instance)

    post_save.connect(receiver, sender=Notification, dispatch_uid="test-prepared")
    try:
        prepared.insert(Notification(profile=camille, code=Notification.Code.NEW_DOCUMENT))
    finally:
        post_save.disconnect(dispatch_uid="test-prepared", sender=Notification)
    assert len(seen) == 1


@pytest.mark.parametrize("known", [True, False])
def test_exists(camille: Citizen, known: bool) -> None:
    pk = camille.pk if known else uuid.uuid4()
    assert prepared.exists(Citizen, "id", pk) is known
    assert prepared.exists(Citizen, "id", str(pk)) is known

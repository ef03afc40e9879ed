"""The demo's catalogue: eight invented services with their logos, one in pré-série, one
suspended; Jacqueline's Tension Facile waits for the approval of its new rights. Loaded twice."""

from __future__ import annotations

from datetime import date

from mes.access.actors import citizen_actor
from mes.catalogue.actions import citizen as actions
from mes.catalogue.models import Service
from mes.demo import dataset
from mes.demo.story_catalogue import GLUCOSE_APP_SLUG, LOGOS, SERVICES, load_catalogue_stories
from mes.identity.models import Citizen

TODAY = date(2026, 11, 24)


def test_the_catalogue_and_jacquelines_reapproval(db):
    dataset.load(TODAY)
    first = load_catalogue_stories()
    assert first["services du catalogue"] == len(SERVICES) == 8
    assert first["logos"] == 8 and first["services synchronisés"] == 1
    assert not any(load_catalogue_stories().values())  # idempotent
    statuses = set(Service.objects.values_list("status", flat=True))
    assert {Service.Status.PRESERIES, Service.Status.SUSPENDED} <= statuses
    assert Service.objects.filter(application__isnull=True).count() >= 3
    assert all(s.logo.name.endswith(".svg") for s in Service.objects.all())
    assert (LOGOS / f"{GLUCOSE_APP_SLUG}.svg").exists()
    assert not Service.objects.filter(slug=GLUCOSE_APP_SLUG).exists()  # the lead's loader
    person = next(p for p in dataset.PEOPLE if p.key == "jacqueline")
    jacqueline = Citizen.objects.get(ins=person.ins)
    overview = actions.synced_services(actor=citizen_actor(jacqueline), patient_id=jacqueline.pk)
    (view,) = overview.views
    assert view.state == actions.PairingState.REAPPROVAL
    assert [p.purpose.code for p in view.new_purposes] == ["32"]

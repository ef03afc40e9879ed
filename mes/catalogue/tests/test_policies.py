"""The one rule of what a paired service may do (mes.catalogue.policies through
mes.access.decision)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mes.access.decision import Action, Role, decide, decide_exchange
from mes.catalogue.actors import app_actor
from mes.catalogue.models import DataCategory, ExchangeAction, Pairing, Service
from mes.catalogue.testing import glucose_service, pair

pytestmark = pytest.mark.django_db

MEASURES_WRITE = (DataCategory.MEASURES, ExchangeAction.WRITE)


def test_a_consented_purpose_allows_its_exchanges_and_nothing_else(camille):
    pairing = pair(glucose_service(), camille, purposes=["11"])
    actor = app_actor(pairing)
    assert decide_exchange(actor, camille, *MEASURES_WRITE).allowed
    refused = decide_exchange(actor, camille, DataCategory.MEASURES, ExchangeAction.READ)
    assert not refused.allowed
    assert "non consentie" in refused.reason
    assert not decide(actor, Action.READ, camille).allowed


def test_documents_purpose_opens_documents_to_the_decision(camille):
    pairing = pair(glucose_service(), camille, purposes=["31"])
    decision = decide(app_actor(pairing), Action.READ, camille)
    assert decision.allowed
    assert decision.standing.role is Role.APP
    assert decide(app_actor(pairing), Action.DEPOSIT, camille).allowed
    assert not decide(app_actor(pairing), Action.MANAGE, camille).allowed


def test_a_pairing_names_one_espace(camille, bob):
    pairing = pair(glucose_service(), camille)
    refused = decide_exchange(app_actor(pairing), bob, *MEASURES_WRITE)
    assert not refused.allowed
    assert refused.reason == "jeton d'un autre profil"


@pytest.mark.parametrize("status", [Service.Status.SUSPENDED, Service.Status.DEREFERENCED])
def test_a_suspended_or_dereferenced_service_stops_at_once(camille, status):
    service = glucose_service()
    pairing = pair(service, camille)
    Service.objects.filter(pk=service.pk).update(status=status)
    assert not decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE).allowed


def test_unpaired_or_lapsed_pairings_allow_nothing(camille):
    pairing = pair(glucose_service(), camille)
    Pairing.objects.filter(pk=pairing.pk).update(
        reapproval_deadline=timezone.now() - timedelta(seconds=1)
    )
    assert not decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE).allowed
    Pairing.objects.filter(pk=pairing.pk).update(
        reapproval_deadline=None, status=Pairing.Status.UNPAIRED
    )
    assert not decide_exchange(app_actor(pairing), camille, *MEASURES_WRITE).allowed


def test_only_apps_exchange_by_purpose(camille):
    from mes.access.actors import citizen_actor

    assert not decide_exchange(citizen_actor(camille), camille, *MEASURES_WRITE).allowed


def test_a_parents_pairing_of_a_childs_espace_ends_with_the_representation(camille, louis):
    """A service a parent paired with a child's espace acts for the parent: when the parent no
    longer represents the child (the 18th birthday, mes-spec §3.5 [INF]), it stops, also
    once the young adult has activated the espace themselves."""
    from mes.enrolment.models import LegalRepresentation

    pairing = pair(glucose_service(), louis, granted_by=camille.user)
    assert decide_exchange(app_actor(pairing), louis, *MEASURES_WRITE).allowed
    LegalRepresentation.objects.filter(represented=louis).update(ended_at=timezone.now())
    refused = decide_exchange(app_actor(pairing), louis, *MEASURES_WRITE)
    assert not refused.allowed
    assert "ne représente plus" in refused.reason
    assert not decide(app_actor(pairing), Action.READ, louis).allowed

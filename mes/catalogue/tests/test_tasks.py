"""The hourly sweep of pairings past their re-approval deadline (the policies already refuse
them: the sweep records « Arrêté », revokes the tokens and tells the holders)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from mes.audit.models import Trace, TraceAction
from mes.catalogue.models import Pairing, PairingToken
from mes.catalogue.testing import glucose_service, pair, paired_token
from mes.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_the_sweep_stops_overdue_pairings_once(camille, bob):
    service = glucose_service()
    overdue = pair(service, camille)
    _raw, token = paired_token(overdue)
    waiting = pair(service, bob)
    Pairing.objects.filter(pk=overdue.pk).update(
        reapproval_deadline=timezone.now() - timedelta(hours=1)
    )
    Pairing.objects.filter(pk=waiting.pk).update(
        reapproval_deadline=timezone.now() + timedelta(days=3)
    )
    out = io.StringIO()
    call_command("sweep_lapsed_pairings", "--now", stdout=out)
    assert "1 synchronisation(s) arrêtée(s)" in out.getvalue()
    overdue.refresh_from_db()
    waiting.refresh_from_db()
    assert overdue.status == Pairing.Status.LAPSED and waiting.status == Pairing.Status.ACTIVE
    assert not type(token).objects.filter(pk=token.pk).exists()
    assert not PairingToken.objects.filter(pairing=overdue).exists()
    assert (
        Trace.objects.filter(action=TraceAction.PAIRING_LAPSED, patient_id=camille.pk).count() == 1
    )
    assert Notification.objects.filter(profile=camille, label__contains="arrêtée").count() == 1
    call_command("sweep_lapsed_pairings", "--now", stdout=io.StringIO())
    assert Trace.objects.filter(action=TraceAction.PAIRING_LAPSED).count() == 1

"""« Télécharger mes données » in the demo: Louise downloaded her data a few days ago, so that
her page shows a ready file with the size of each part (the same action and task as the portal,
run in place of the worker). Idempotent: once Louise has an export, nothing more is done."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.identity.models import Citizen
from mes.takeout.export import export_build, export_request
from mes.takeout.models import DataExport

from .dataset import PEOPLE, LoadReport


def load_takeout_stories(today: date | None = None) -> LoadReport:
    report = LoadReport()
    spec = next(p for p in PEOPLE if p.key == "louise")
    louise = Citizen.objects.filter(ins=spec.ins).first()
    if louise is None:
        raise RuntimeError("Chargez d'abord le jeu de démonstration (mes.demo.dataset.load).")
    if DataExport.objects.filter(requested_by=louise).exists():
        return report
    _ = today or timezone.localdate()
    export = export_request(actor=citizen_actor(louise))
    # The worker would build it after the commit; the demo builds it now.
    export_build(export_id=export.pk)
    report.add("téléchargements de données")
    return report

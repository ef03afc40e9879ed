"""The Assurance Maladie feeds Camille's care history from a file with good and bad lines,
twice; Louis's secret care is not loaded (R1111-33); the first feed notifies once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from mes.access.actors import citizen_actor
from mes.audit.models import Trace, TraceAction
from mes.lib.errors import Forbidden
from mes.notifications.models import Notification
from mes.reimbursements.actions import import_file
from mes.reimbursements.models import Category, Episode, ImportBatch

HEADER = (
    "id_ligne;nir;date;categorie;professionnel;id_professionnel;acte;code;quantite;"
    "groupe_therapeutique;valence;prescripteur;specialite_prescripteur;sejour;secret_mineur"
)


def write(tmp_path, rows, name="remb.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def feed(tmp_path, camille, louis):
    day = (timezone.localdate() - timedelta(days=30)).isoformat()
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    rows = [
        f"L1;{camille.ins};{day};MEDICAMENT;Pharmacie du Centre;750000001;METFORMINE 1000 MG CPR;"
        "3400930000001;2;Antidiabétiques;;Dr Martin;Médecine générale;;",
        f"L2;{camille.ins};{day};SOINS;Dr Martin;10003456789;Consultation;G;;;;;;;",
        f"L3;{camille.ins};{day};VACCIN;Pharmacie du Centre;750000001;VAXIGRIPTETRA;3400930000002;"
        "1;;Grippe;Dr Martin;Médecine générale;;",
        f"L4;{camille.ins};{day};HOSPITALISATION;CH de Villeneuve;760000001;;;;;;;;"
        "Séjour en médecine;",
        f"L5;{camille.ins};{future};BIOLOGIE;Laboratoire;;;;;;;;;;",  # future date
        f"L6;123;{day};BIOLOGIE;Laboratoire;;;;;;;;;;",  # bad NIR
        f"L7;{camille.ins};{day};INCONNUE;Laboratoire;;;;;;;;;;",  # unknown category
        f"L8;{camille.ins};pas une date;BIOLOGIE;Laboratoire;;;;;;;;;;",
        f";{camille.ins};{day};BIOLOGIE;Laboratoire;;;;;;;;;;",  # no line id
        f"L9;{camille.ins};{day};MEDICAMENT;Pharmacie;;;;;;;;;;",  # drug without name
        f"L10;{louis.ins};{day};BIOLOGIE;Laboratoire;;;;;;;;;;O",  # secret care, opposed
        f"L11;{louis.ins};{day};SOINS;Dr Petit;;Consultation;;;;;;;;",
        f"L2;{camille.ins};{day};SOINS;Dr Martin;10003456789;Consultation;G;;;;;;;",  # repeated
    ]
    return write(tmp_path, rows)


def test_good_lines_once_bad_lines_reported(feed, camille, louis, assurance_maladie):
    batch = import_file(actor=assurance_maladie, path=feed, batch_size=4)
    assert (batch.lines, batch.loaded, batch.rejected, batch.withheld, batch.duplicates) == (
        13,
        5,
        6,
        1,
        1,
    )
    report = batch.report.splitlines()
    assert report[0] == "ligne 6 : date dans le futur"
    assert any(r.startswith("ligne 7 : NIR invalide") for r in report)
    assert "ligne 8 : catégorie inconnue" in report
    assert "ligne 11 : « acte » manquant pour cette catégorie" in report
    # No health detail in the report.
    assert "METFORMINE" not in batch.report and "Laboratoire" not in batch.report

    again = import_file(actor=assurance_maladie, path=feed)
    assert again.loaded == 0 and again.duplicates == 6
    assert Episode.objects.filter(patient=camille).count() == 4
    assert Episode.objects.count() == 5
    drug = Episode.objects.get(line_id="L1")
    assert drug.category == Category.DRUG and drug.quantity == 2
    assert drug.therapeutic_group == "Antidiabétiques" and drug.prescriber == "Dr Martin"


def test_a_minors_opposed_secret_care_is_not_loaded(feed, louis, assurance_maladie):
    import_file(actor=assurance_maladie, path=feed)
    assert not Episode.objects.filter(line_id="L10").exists()
    assert list(Episode.objects.filter(patient=louis).values_list("line_id", flat=True)) == ["L11"]


def test_the_first_feed_notifies_once(feed, camille, assurance_maladie, tmp_path):
    import_file(actor=assurance_maladie, path=feed)
    later = write(
        tmp_path,
        [f"L99;{camille.ins};{timezone.localdate().isoformat()};BIOLOGIE;Laboratoire;;;;;;;;;;"],
        name="later.csv",
    )
    import_file(actor=assurance_maladie, path=later)
    notes = Notification.objects.filter(profile=camille, code="PRIMO_ALIM_MHS")
    assert notes.count() == 1
    assert notes.get().link_label == "Voir mon histoire de santé"
    feeds = Trace.objects.filter(patient_id=camille.pk, action=TraceAction.CARE_HISTORY_FEED)
    assert feeds.count() == 2 and feeds.first().actor_kind == "insurer"


def test_only_the_insurer_feeds(feed, camille):
    with pytest.raises(Forbidden):
        import_file(actor=citizen_actor(camille), path=feed)
    assert not ImportBatch.objects.exists()


def test_the_command(feed, tmp_path, camille):
    out = StringIO()
    rejets = tmp_path / "rejets.txt"
    call_command("reimbursements", "import", str(feed), "--rejets", str(rejets), stdout=out)
    assert "5 chargée(s)" in out.getvalue() and "6 rejetée(s)" in out.getvalue()
    assert "ligne 6 : date dans le futur" in rejets.read_text(encoding="utf-8")
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("reimbursements", "import", str(tmp_path / "absent.csv"))


def test_a_header_without_the_required_columns(tmp_path, db):
    path = tmp_path / "bad.csv"
    path.write_text("nir;date\n1;2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Colonnes manquantes"):
        call_command("reimbursements", "import", str(path))

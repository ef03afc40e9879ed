"""Everything `mes demo` loads, in order: the dataset (people, structures, documents), then the
profil médical stories, and what the professionals' API needs to be tried by hand.

The discharge letter of Louise's hospitalisation is deliberately not deposited here: the README
shows the cardiologue's hospital depositing it through the FHIR API (IHE MHD ITI-65) with
`scripts/deposit_document.py`, and Louise then finds it in her Documents with a notification.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from mes.fhir.models import FhirClient, register_client
from mes.identity.models import Citizen, Organisation, Professional
from mes.notifications.channels.rules import links_to

from . import dataset, pdfs
from .dataset import ORGS, PEOPLE, PROS, STORY_DAYS, LoadReport
from .story_agenda import load_agenda_stories
from .story_care_history import load_care_history_stories
from .story_carers import load_carer_stories
from .story_catalogue import load_catalogue_stories
from .story_directives import load_directive_stories
from .story_enrolment import load_enrolment_stories
from .story_measures import load_measure_stories
from .story_messaging import load_messaging_story
from .story_partner_app import load_partner_app_story
from .story_profile import load_profile_stories
from .story_secret_care import load_secret_care_story
from .story_shell import load_shell_stories
from .story_signin import load_signin_stories
from .story_takeout import load_takeout_stories
from .story_vaccinations import load_vaccination_stories

API_CLIENT_ID = "demo-ch-villeneuve"
API_SOFTWARE = "DPI du Centre hospitalier de Villeneuve (démonstration)"
HOSPITAL_LETTER_DAY = 408  # the day of the story Louise left hospital (dataset.py, day 412)


@dataclass(frozen=True)
class ApiDemo:
    """What the README's deposit example needs."""

    client_id: str
    secret_file: Path
    letter_file: Path
    professional_id: str  # idNat of the cardiologue: "8" + RPPS
    patient_ins: str
    letter_date: date


def load_all(today: date | None = None, *, portal_url: str | None = None) -> LoadReport:
    """Load (or complete) the whole demonstration; idempotent. portal_url: where the e-mails
    and SMS written meanwhile send their readers (the address `mes demo` serves); default: the
    deployment's MES_PORTAL_URL."""
    with links_to(portal_url or settings.MES_PORTAL_URL):
        return _load_all(today)


def _load_all(today: date | None) -> LoadReport:
    today = today or timezone.localdate()
    report = dataset.load(today)
    for what, n in load_profile_stories(today).items():
        report.add(what, n)
    for what, n in load_measure_stories(today).created.items():
        report.add(what, n)
    for what, n in load_vaccination_stories(today).items():
        report.add(what, n)
    for what, n in load_shell_stories().items():
        report.add(what, n)
    for what, n in load_signin_stories(today).items():
        report.add(what, n)
    # Last: Louise's saved synthesis includes the profile, measures and vaccinations above.
    for what, n in load_directive_stories(today).created.items():
        report.add(what, n)
    for what, n in load_enrolment_stories(today).items():
        report.add(what, n)
    for what, n in load_messaging_story().items():
        report.add(what, n)
    for what, n in load_secret_care_story(today).items():
        report.add(what, n)
    for what, n in load_agenda_stories(today).items():
        report.add(what, n)
    for what, n in load_care_history_stories(today).created.items():
        report.add(what, n)
    for what, n in load_carer_stories(today).created.items():
        report.add(what, n)
    for what, n in load_catalogue_stories().items():
        report.add(what, n)
    # Last of the stories: Louise's download holds everything loaded above.
    for what, n in load_takeout_stories(today).created.items():
        report.add(what, n)
    for what, n in load_partner_app_story().created.items():
        report.add(what, n)
    if _register_api_client():
        report.add("clients de l'API FHIR")
    write_hospital_letter(today)
    return report


def api_demo() -> ApiDemo:
    cardio = next(p for p in PROS if p.key == "cardio")
    louise = next(p for p in PEOPLE if p.key == "louise")
    return ApiDemo(
        client_id=API_CLIENT_ID,
        secret_file=settings.VAR_DIR / "demo-api-client.secret",
        letter_file=settings.VAR_DIR / "demo" / "lettre-de-liaison-louise-dupont.pdf",
        professional_id=f"8{cardio.rpps}",
        patient_ins=louise.ins,
        letter_date=_letter_day(timezone.localdate()),
    )


def _letter_day(today: date) -> date:
    return today - timedelta(days=STORY_DAYS) + timedelta(days=HOSPITAL_LETTER_DAY)


def _register_api_client() -> bool:
    """The hospital's server, a client-credentials client of the FHIR API. Its secret is made on
    this machine and kept under var/ (never in the repository); a lost secret makes a new one."""
    demo = api_demo()
    existing = FhirClient.objects.filter(application__client_id=demo.client_id).first()
    if existing is not None and demo.secret_file.exists():
        return False
    if existing is not None:
        existing.application.delete()
    hospital = Organisation.objects.get(finess=next(o.finess for o in ORGS if o.key == "ch"))
    secret = secrets.token_urlsafe(32)
    register_client(
        software_name=API_SOFTWARE,
        software_version="1.0",
        organisation=hospital,
        client_id=demo.client_id,
        client_secret=secret,
    )
    demo.secret_file.write_text(secret + "\n")
    demo.secret_file.chmod(0o600)
    return True


def write_hospital_letter(today: date) -> Path:
    """The cardiologue's discharge letter (lettre de liaison, LOINC 11490-0) as a PDF file, for
    the README's API example; the dataset's other letters use the same layout."""
    demo = api_demo()
    louise = Citizen.objects.get(ins=demo.patient_ins)
    spec = next(p for p in PROS if p.key == "cardio")
    org = next(o for o in ORGS if o.key == spec.org)
    cardio = Professional.objects.get(rpps=spec.rpps)
    day = _letter_day(today)
    admitted = day - timedelta(days=6)
    letter = pdfs.Letter(
        organisation=org.name,
        organisation_lines=(spec.service, *org.lines),
        author=cardio.display_name,
        author_lines=(spec.title, f"RPPS {cardio.rpps} – FINESS {org.finess}"),
        patient=pdfs.PatientHeader(
            display_name=f"{louise.first_name} {louise.birth_name.upper()}",
            birth_name=louise.birth_name.upper(),
            birth_date=louise.birth_date,
            sex=louise.sex,
            ins=louise.ins,
        ),
        place=org.city,
        day=day,
        title="Lettre de liaison de sortie d'hospitalisation",
        recipient="Dr Bernard Léon, médecin traitant",
        signature=cardio.display_name,
        body=[
            "Cher confrère,",
            f"Votre patiente Mme Louise Dupont a été hospitalisée dans le service de cardiologie "
            f"du {pdfs.french_date(admitted)} au {pdfs.french_date(day)} pour une "
            "décompensation cardiaque globale.",
            pdfs.Heading("Motif et évolution"),
            "Dyspnée de repos et prise de 4 kg en une semaine. Amélioration rapide sous "
            "furosémide intraveineux, perte de 5 kg. Coronarographie : pas de lésion "
            "significative. Échocardiographie de sortie : FEVG 38 %.",
            pdfs.Heading("Traitement de sortie"),
            pdfs.Rows(
                (
                    ("Médicament", "Posologie"),
                    ("Sacubitril/valsartan 49 mg/51 mg", "1 comprimé matin et soir"),
                    ("Bisoprolol 2,5 mg", "1 comprimé le matin"),
                    ("Dapagliflozine 10 mg", "1 comprimé le matin"),
                    ("Furosémide 40 mg", "1 comprimé le matin, à adapter au poids"),
                    ("Metformine 1 000 mg", "1 comprimé matin et soir"),
                )
            ),
            pdfs.Heading("Suivi"),
            "Ionogramme et créatinine à 1 semaine ; consultation de cardiologie à 3 mois ; "
            "réadaptation cardiaque prescrite. Pesée quotidienne, appeler si prise de plus de "
            "2 kg en 3 jours. Bien confraternellement.",
        ],
    )
    demo.letter_file.parent.mkdir(parents=True, exist_ok=True)
    demo.letter_file.write_bytes(pdfs.render(letter))
    return demo.letter_file

"""A minor's secret care in the demo's messagerie (issue 14 §5, L1111-5, R1111-50).

- Chloé Girard, 16, has her own login; her mother Nathalie Girard, her legal representative,
  has hers and manages Chloé's profile from it.
- Chloé's pédiatre, Dr Emma Rousseau, wrote to her twice through the MSSanté gateway: a
  certificate for her sports club, which the family reads, and « Suite de votre consultation »,
  marked INVISIBLE_REPRESENTANTS_LEGAUX: Chloé reads it, her mother never does (not in the list,
  not its unread mark, not in her history, not in a data download).

A new family rather than a child for a parent of the dataset: the other stories and their tests
count those parents' profiles, documents and downloads. The birth dates are fixed like the
dataset's (Chloé is a minor until June 2028). Everything goes through mes.messaging.actions,
so the traces and notifications are those of real use. Idempotent: people keyed on their INS,
messages on their Message-ID.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from mes.access.actors import system_actor
from mes.access.models import PrivacySettings
from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen, Professional
from mes.messaging import actions
from mes.messaging.models import Message

from .dataset import DEMO_PASSWORD, PARIS, PROS, Person, demo_citizen
from .story_messaging import pro_address

# Phone numbers in the range ARCEP reserves for fiction, after the dataset's.
MOTHER = Person(
    key="nathalie",
    username="nathalie",
    first13="2781175115063",
    first_name="Nathalie",
    first_names="Nathalie Sophie",
    birth_name="Girard",
    birth_date=date(1978, 11, 2),
    sex="F",
    email="nathalie.girard@example.org",
    phone="+33639980105",
    who="Nathalie Girard, 48 ans, mère de Chloé (16 ans) dont elle gère le profil : elle ne voit "
    "que le message ordinaire de la pédiatre, jamais celui réservé à Chloé.",
)
TEENAGER = Person(
    key="chloe",
    username="chloe",
    first13="2100675115071",
    first_name="Chloé",
    first_names="Chloé Marie",
    birth_name="Girard",
    birth_date=date(2010, 6, 14),
    sex="F",
    email="chloe.girard@example.org",
    phone="+33639980106",
    who="Chloé Girard, 16 ans, son propre identifiant : sa pédiatre lui a écrit un message "
    "« Invisible aux représentants légaux » (soins sous secret du mineur), qu'elle seule lit.",
)
ORDINARY_ID = "<demo-chloe-sport-1@medecin.mssante.fr>"
HIDDEN_ID = "<demo-chloe-secret-1@medecin.mssante.fr>"
HIDDEN_SUBJECT = "Suite de votre consultation"
ORDINARY_SUBJECT = "Certificat d'aptitude au sport"


def _citizen(p: Person) -> tuple[Citizen, bool]:
    """The demo person with her login, her welcome pages already seen; whether made now."""
    made = demo_citizen(p, make_password(DEMO_PASSWORD))
    if made.new:
        PrivacySettings.objects.create(patient=made.citizen, onboarded_at=timezone.now())
    return made.citizen, bool(made.new)


def _letter(
    message_id: str, subject: str, body: str, at: datetime, *, secret: bool
) -> actions.IncomingMail:
    pediatre = Professional.objects.get(rpps=next(p.rpps for p in PROS if p.key == "pediatre"))
    return actions.IncomingMail(
        sender_address=pro_address(pediatre),
        subject=subject,
        message_id=message_id,
        at=at,
        body_text=f"{body}\n\nBien cordialement,\n{pediatre.display_name}",
        mss_nil="LPS-DEMO-1.0",
        hidden_from_representatives=secret,
    )


def load_secret_care_story(today: date | None = None) -> dict[str, int]:
    """Chloé, her mother and the pédiatre's two messages; what this load created, by kind."""
    today = today or timezone.localdate()
    created: dict[str, int] = {}
    with transaction.atomic():
        made = [_citizen(p) for p in (MOTHER, TEENAGER)]
        (mother, _), (chloe, _) = made
        if n := sum(new for _, new in made):
            created["usagers (soins sous secret)"] = n
        LegalRepresentation.objects.get_or_create(
            representative=mother,
            represented=chloe,
            defaults={
                "role": LegalRepresentation.Role.MOTHER,
                "started_at": datetime.combine(chloe.birth_date, time(12), tzinfo=PARIS),
            },
        )
    gateway = system_actor("passerelle-mssante")
    yesterday = datetime.combine(today - timedelta(days=1), time(17, 30), tzinfo=PARIS)
    for message_id, subject, body, at, secret in (
        (
            ORDINARY_ID,
            ORDINARY_SUBJECT,
            "Bonjour Chloé,\n\nVous trouverez ci-dessous la confirmation de votre aptitude à la "
            "pratique du handball en club pour la saison.",
            yesterday - timedelta(days=20),
            False,
        ),
        (
            HIDDEN_ID,
            HIDDEN_SUBJECT,
            "Bonjour Chloé,\n\nComme convenu lors de votre consultation, je reste disponible "
            "pour répondre à vos questions. Ce message vous est réservé : vos parents ne le "
            "voient pas.",
            yesterday,
            True,
        ),
    ):
        if Message.objects.filter(message_id=message_id, conversation__patient=chloe).exists():
            continue
        mail = _letter(message_id, subject, body, at, secret=secret)
        actions.message_receive(actor=gateway, patient_ins=chloe.ins, mail=mail)
        created["messages de la pédiatre de Chloé"] = (
            created.get("messages de la pédiatre de Chloé", 0) + 1
        )
    return created

"""The espace's life in the demo (issue 14).

- Inès Garnier was informed by the Assurance Maladie and has not activated her espace yet: her
  notice, with its provisional code, is in the demo outbox. Activate it at « Activer mon profil »
  (/enrolement/activation/) with that code, her NIR, the card serial and her birth date, all
  shown on /enrolement/ in demo mode.
- Sophie Martin, agent of the 3422, logs in at /guichet/connexion/ (sophie.3422, the demo
  password, then the one-time code of the demo outbox) to find an espace by NIR, see its
  history, resend a code, record an opposition.

Idempotent: keyed on the INS and the username; a new code is sent only when Inès has none
left that still works.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from mes.access.actors import system_actor
from mes.access.models import PrivacySettings
from mes.backoffice.models_desk import SupportAgent
from mes.enrolment import lifecycle
from mes.enrolment.models import EnrolmentCode, Espace, EspaceState
from mes.identity.models import Citizen, User
from mes.lib.ins import with_key

from .dataset import DEMO_PASSWORD

INES_INS = with_key("2900375056045")
INES_SERIAL = "802500000212"
INES_BIRTH = date(1990, 3, 10)
AGENT = "sophie.3422"
# Her login code (password + one-time code, like the Web PS) lands in the demo outbox.
AGENT_EMAIL = "sophie.martin@3422.example.org"


def load_enrolment_stories(today: date | None = None) -> dict[str, int]:
    created: dict[str, int] = {}
    with transaction.atomic():
        ines = Citizen.objects.filter(ins=INES_INS).first()
        if ines is None:
            ines = Citizen.objects.create(
                ins=INES_INS,
                birth_name="Garnier",
                first_names="Inès Marie",
                first_name="Inès",
                birth_date=INES_BIRTH,
                sex="F",
                birth_place_insee="75056",
                email="ines.garnier@example.org",
            )
            PrivacySettings.objects.create(patient=ines)
            Espace.objects.create(
                citizen=ines,
                state=EspaceState.NOT_NOTIFIED,
                vitale_serial=INES_SERIAL,
                phone="0611223344",
                address="12 rue des Lilas",
                postcode="75011",
                city="Paris",
            )
            created["profils à activer"] = 1
        espace = Espace.objects.get(pk=ines.pk)
        if espace.state == EspaceState.NOT_NOTIFIED:
            lifecycle.espace_notify(actor=system_actor("demo"), citizen_id=ines.pk)
            created["informations envoyées"] = 1
        elif espace.state in (EspaceState.NOTIFIED, EspaceState.CREATED) and not (
            EnrolmentCode.objects.filter(
                espace=espace, used_at__isnull=True, expires_at__gt=timezone.now()
            ).exists()
        ):
            lifecycle.code_send(espace, channel="email", actor=system_actor("demo"))
            created["codes provisoires"] = 1
        # An agent made before the desk asked for a code gets her address (idempotent).
        User.objects.filter(username=AGENT, email="").update(email=AGENT_EMAIL)
        if not User.objects.filter(username=AGENT).exists():
            user = User.objects.create_user(
                username=AGENT,
                password=DEMO_PASSWORD,
                kind=User.Kind.OPERATOR,
                first_name="Sophie",
                last_name="Martin",
                email=AGENT_EMAIL,
            )
            SupportAgent.objects.create(user=user)
            created["conseillers du 3422"] = 1
    return created

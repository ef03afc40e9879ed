"""The espace's life in the demo (issue 14).

- Inès Garnier was informed by the Assurance Maladie and has not activated her espace yet: her
  notice, with its provisional code, is in the demo outbox. Activate it at « Activer mon profil »
  (/enrolement/activation/) with that code, her NIR, the card serial and her birth date, all
  shown on /enrolement/ in demo mode.
- Nadia Roux did not oppose within the six weeks and never activated her espace: it is CREATED.
  Her notice's code expired with the window; a new code is in the demo outbox. Close her espace
  without activating it at « Clôturer mon profil sans l'activer » (/enrolement/cloture/), with
  that code and her card data (shown on /enrolement/ in demo mode), and download the proof.
- Sophie Martin, agent of the 3422, logs in at /guichet/connexion/ (sophie.3422, the demo
  password, then the one-time code of the demo outbox) to find an espace by NIR, see its
  history, resend a code, record an opposition.

Idempotent: keyed on the INS and the username; a new code is sent only when Inès or Nadia has
none left that still works (a person activated, opposed or closed in the demo stays so).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mes.access.actors import system_actor
from mes.access.models import PrivacySettings
from mes.backoffice.models_desk import SupportAgent
from mes.enrolment import lifecycle
from mes.enrolment.models import EnrolmentCode, Espace, EspaceEvent, EspaceState
from mes.identity.models import Citizen, User
from mes.lib.ins import with_key

from .dataset import DEMO_PASSWORD

INES_INS = with_key("2900375056045")
INES_SERIAL = "802500000212"
INES_BIRTH = date(1990, 3, 10)
NADIA_INS = with_key("2881175056078")
NADIA_SERIAL = "802500000345"
NADIA_BIRTH = date(1988, 11, 4)
AGENT = "sophie.3422"
# Her login code (password + one-time code, like the Web PS) lands in the demo outbox.
AGENT_EMAIL = "sophie.martin@3422.example.org"


def load_enrolment_stories(today: date | None = None) -> dict[str, int]:
    created: dict[str, int] = {}
    with transaction.atomic():
        ines, made = _person(
            INES_INS,
            ("Garnier", "Inès Marie", "Inès", INES_BIRTH, "ines.garnier@example.org"),
            serial=INES_SERIAL,
            phone="0611223344",
            address=("12 rue des Lilas", "75011"),
        )
        if made:
            created["profils à activer"] = 1
        espace = Espace.objects.get(pk=ines.pk)
        if espace.state == EspaceState.NOT_NOTIFIED:
            lifecycle.espace_notify(actor=system_actor("demo"), citizen_id=ines.pk)
            created["informations envoyées"] = 1
        elif _fresh_code(espace):
            created["codes provisoires"] = 1
        _load_nadia(created)
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


def _person(
    ins: str,
    names: tuple[str, str, str, date, str],
    *,
    serial: str,
    phone: str,
    address: tuple[str, str],
) -> tuple[Citizen, bool]:
    """The demo person of this INS, and whether this load made her: a woman born in Paris,
    known to the Assurance Maladie (card, address) and not informed yet (NOT_NOTIFIED)."""
    known = Citizen.objects.filter(ins=ins).first()
    if known is not None:
        return known, False
    birth_name, first_names, first_name, born, email = names
    citizen = Citizen.objects.create(
        ins=ins,
        birth_name=birth_name,
        first_names=first_names,
        first_name=first_name,
        birth_date=born,
        sex="F",
        birth_place_insee="75056",
        email=email,
    )
    PrivacySettings.objects.create(patient=citizen)
    Espace.objects.create(
        citizen=citizen,
        state=EspaceState.NOT_NOTIFIED,
        vitale_serial=serial,
        phone=phone,
        address=address[0],
        postcode=address[1],
        city="Paris",
    )
    return citizen, True


def _fresh_code(espace: Espace) -> bool:
    """A new code by e-mail for an espace still waiting for its holder, when none works."""
    if espace.state not in (EspaceState.NOTIFIED, EspaceState.CREATED) or (
        EnrolmentCode.objects.filter(
            espace=espace, used_at__isnull=True, expires_at__gt=timezone.now()
        ).exists()
    ):
        return False
    lifecycle.code_send(espace, channel="email", actor=system_actor("demo"))
    return True


def _load_nadia(created: dict[str, int]) -> None:
    """Nadia: informed seven weeks ago, no opposition, so her espace is created; never
    activated. Her history is dated as the timer would have written it."""
    nadia, made = _person(
        NADIA_INS,
        ("Roux", "Nadia Claire", "Nadia", NADIA_BIRTH, "nadia.roux@example.org"),
        serial=NADIA_SERIAL,
        phone="",
        address=("4 place des Vosges", "75004"),
    )
    if made:
        created["profils créés jamais activés"] = 1
    espace = Espace.objects.get(pk=nadia.pk)
    if espace.state == EspaceState.NOT_NOTIFIED:
        # The notice went out (by post: send=False) when the window opened, seven weeks ago;
        # its code expired with the window, as it does for everyone (docs/decisions.md).
        lifecycle.espace_notify(actor=system_actor("demo"), citizen_id=nadia.pk, send=False)
        then = timezone.now() - settings.MES_ENROLMENT_OPPOSITION_WINDOW - timedelta(weeks=1)
        Espace.objects.filter(pk=nadia.pk).update(notified_at=then)
        EspaceEvent.objects.filter(espace=espace, to_state=EspaceState.NOTIFIED).update(at=then)
        EnrolmentCode.objects.filter(espace=espace).update(
            created_at=then, expires_at=then + settings.MES_ENROLMENT_CODE_VALIDITY
        )
        espace.refresh_from_db()
        lifecycle.espace_create(actor=system_actor("demo"), espace=espace)
        espace.refresh_from_db()
    if _fresh_code(espace):
        created["codes provisoires"] = created.get("codes provisoires", 0) + 1

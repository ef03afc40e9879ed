"""The rules of the channels (portal.md §7): each code's category, which categories cannot be
turned off (security), which codes may go by letter, who is told of a profile's notification
(the holder, the current legal representatives), and the generic text of the outbox rows
(never a health detail, never the INS; a printed letter's own text is in `letters`). Every
writer applies these rules: the per-person one (`person`), the batch in Python (`many`) and
the set-based statement (`set_based`, which receives them as JSON).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

from mes.enrolment.models import LegalRepresentation
from mes.identity.models import Citizen

from ..models import Category, Channel, Notification

Code = Notification.Code

CATEGORY_OF: dict[str, Category] = {
    Code.NEW_MESSAGE: Category.MESSAGES,
    Code.MESSAGE_NOT_DELIVERED: Category.MESSAGES,
    Code.SUPPORT_REPLY: Category.MESSAGES,
    Code.NEW_DOCUMENT: Category.DOCUMENTS,
    Code.UPDATED_DOCUMENT: Category.DOCUMENTS,
    Code.DELETED_DOCUMENT: Category.DOCUMENTS,
    Code.HIDDEN_DOCUMENT_PENDING: Category.DOCUMENTS,
    Code.AUTO_RELEASE: Category.DOCUMENTS,
    Code.MEASURE_FROM_DOCUMENT: Category.DOCUMENTS,
    Code.NEW_VACCINATION: Category.APPOINTMENTS,
    Code.PREVENTION_DUE: Category.APPOINTMENTS,
    Code.VACCINATION_DUE: Category.APPOINTMENTS,
    Code.AGENDA_REMINDER: Category.APPOINTMENTS,
    Code.APPOINTMENT_REMINDER: Category.APPOINTMENTS,
    Code.SCREENING_DUE: Category.SCREENINGS,
    Code.SYNCED_SERVICES: Category.SYNCED_SERVICES,
    Code.PRO_ACCESS: Category.SECURITY,
    Code.BREAK_GLASS: Category.SECURITY,
    Code.SECURITY_ALERT: Category.SECURITY,
}
MANDATORY = frozenset({Category.SECURITY})
# Letters are slow: only for what can wait a few days (prevention, campaigns, the espace's
# life), never for an appointment tomorrow.
LETTER_CODES = frozenset(
    {Code.PREVENTION_DUE, Code.VACCINATION_DUE, Code.SCREENING_DUE, Code.ESPACE_LIFECYCLE}
)
SUBJECT = "Mon espace santé : une nouvelle notification vous attend"


def category_of(code: str) -> Category:
    return CATEGORY_OF.get(code, Category.ACCOUNT)


def recipients(profile: Citizen, *, hidden_from_representatives: bool) -> list[Citizen]:
    """Who is told: the holder when they have an account; for a represented person, their
    current legal representatives (never about a minor's secret care, R1111-50)."""
    out: list[Citizen] = [profile] if profile.user_id else []
    if not hidden_from_representatives:
        out += list(
            Citizen.objects.filter(
                pk__in=LegalRepresentation.objects.current()
                .filter(represented=profile)
                .values("representative_id")
            )
        )
    return out


def phone_of(citizen: Citizen) -> str:
    """The mobile phone of the citizen's account (empty without one)."""
    return (citizen.user.phone if citizen.user else "") or ""


# The portal the messages written in a `links_to` block lead to; None: the deployment's.
_links_to: ContextVar[str | None] = ContextVar("mes_notification_links_to", default=None)


@contextmanager
def links_to(portal_url: str) -> Iterator[None]:
    """The e-mails and SMS written in this block link to `portal_url` instead of the
    deployment's MES_PORTAL_URL: for a process that serves the portal at an address of its own
    choosing (`mes demo --port`), the domain actions it calls knowing nothing of addresses.
    Scoped to this block and this thread or task, unlike a setting changed at run time."""
    token = _links_to.set(portal_url)
    try:
        yield
    finally:
        _links_to.reset(token)


def portal_url() -> str:
    """Where a message's reader finds the portal (read when the message is written)."""
    return _links_to.get() or settings.MES_PORTAL_URL


def generic_text(channel: Channel, category: Category, own: bool) -> str:
    """The body of an e-mail or SMS: a notification is waiting, about one's own profile or
    a managed one, in which category; nothing else."""
    whose = "votre profil" if own else "un profil que vous gérez"
    site = portal_url()
    if channel is Channel.SMS:
        return f"Mon espace santé : une nouvelle notification concerne {whose}. {site}"
    return (
        "Bonjour,\n\n"
        f"Une nouvelle notification concerne {whose} dans Mon espace santé "
        f"(rubrique « {category.label} »).\n"
        f"Connectez-vous pour la consulter : {site}\n\n"
        "Pour protéger votre vie privée, ce message ne contient aucune information de santé.\n"
        "Vous pouvez choisir vos notifications dans « Mon compte > Notifications ».\n"
    )

"""The private iCalendar subscription (RFC 5545, `icalendar`): appointments and planned
prevention items of one profile, in Europe/Paris with its VTIMEZONE.

The URL carries a secret; `feed_read` finds the feed by the secret's SHA-256, refuses a revoked
or unknown one (traced like any refusal) and traces each read on the patient's chain. Events say
only what the person wrote or the item's title: a calendar application is outside the service.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, Timezone

from mes.access.actors import Actor, ActorKind
from mes.access.decision import Action, Standing, decide
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.prevention.schedule import ItemStatus

from .actions import feed_secret_hash
from .models import Appointment, CalendarFeed
from .policies import visible_appointments
from .selectors import calendar_for

PARIS = "Europe/Paris"
PRODID = "-//Mon espace santé//Agenda santé//FR"


def _feed_actor(feed: CalendarFeed | None) -> Actor:
    name = "Abonnement iCalendar"
    if feed is not None:
        name = f"Abonnement iCalendar de {feed.created_by.display_name}"
    return Actor(
        kind=ActorKind.CITIZEN,
        display_name=name,
        national_id="ical",
        citizen_id=feed.created_by_id if feed else None,
    )


@traced_action
def feed_read(*, secret: str) -> bytes:
    """The .ics of the feed this secret opens, or NotFound (a revoked or unknown secret, or
    one whose creator may no longer read the profile; traced on the patient's chain when the
    feed existed)."""
    feed = (
        CalendarFeed.objects.select_related("patient", "created_by")
        .filter(secret_hash=feed_secret_hash(secret))
        .first()
    )
    actor = _feed_actor(feed)
    if feed is None:
        raise Refused.because(
            actor, TraceAction.CALENDAR_FEED_READ, None, "lien d'abonnement inconnu"
        )
    if feed.revoked_at is not None:
        raise Refused.because(
            actor, TraceAction.CALENDAR_FEED_READ, feed.patient_id, "lien révoqué"
        )
    # The link reads as the person who made it, for as long as they may: a parent's link to
    # a child's agenda stops at 18, an aidant's when the delegation ends, every link when the
    # espace is closed (the one decision knows all three).
    decision = decide(actor, Action.READ, feed.patient)
    if not decision.allowed:
        raise Refused.because(
            actor, TraceAction.CALENDAR_FEED_READ, feed.patient_id, decision.reason
        )
    feed.last_used_at = timezone.now()
    feed.save(update_fields=["last_used_at"])
    trace.record(actor=actor, action=TraceAction.CALENDAR_FEED_READ, patient_id=feed.patient_id)
    return build_calendar(feed, decision.standing)


def build_calendar(feed: CalendarFeed, reader: Standing) -> bytes:
    """The feed's .ics as its creator sees the agenda, by the standing the read was decided
    on (`reader`): a minor's secret care is not in a parent's feed."""
    patient = feed.patient
    tz = ZoneInfo(PARIS)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Agenda santé – {patient.used_first_name or patient.first_name}")
    cal.add("x-wr-timezone", PARIS)
    cal.add_component(Timezone.from_tzid(PARIS))
    now = timezone.now()
    domain = settings.MES_ICAL_UID_DOMAIN
    mine = Appointment.objects.filter(patient=patient).select_related("professional")
    appointments = list(visible_appointments(mine, reader))
    for a in appointments:
        if a.status == Appointment.Status.ENTERED_IN_ERROR:
            continue
        ev = Event()
        ev.add("uid", f"rdv-{a.pk}@{domain}")
        ev.add("dtstamp", now)
        start = timezone.localtime(a.starts_at, tz)
        ev.add("dtstart", start)
        ev.add(
            "dtend",
            timezone.localtime(a.ends_at, tz)
            if a.ends_at
            else start + settings.MES_APPOINTMENT_DEFAULT_LENGTH,
        )
        ev.add("summary", a.display_title)
        if a.address:
            ev.add("location", a.address)
        ev.add("status", "CANCELLED" if a.status == Appointment.Status.CANCELLED else "CONFIRMED")
        cal.add_component(ev)
    for item in calendar_for(patient, timezone.localdate(), appointments=appointments):
        if item.status is not ItemStatus.TO_DO and item.status is not ItemStatus.UPCOMING:
            continue  # planned ones are their appointment; done, ignored are not ahead
        ev = Event()
        ev.add("uid", f"prev-{patient.pk}-{item.key}@{domain}")
        ev.add("dtstamp", now)
        ev.add("dtstart", item.window_start)  # a whole-day event on the window's first day
        ev.add("dtend", item.window_start + timedelta(days=1))
        ev.add("summary", f"À planifier : {item.label}")
        if item.last_day:
            ev.add("description", f"Période recommandée jusqu'au {item.last_day:%d/%m/%Y}.")
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    return cal.to_ical()

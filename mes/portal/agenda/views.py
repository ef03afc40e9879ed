"""Agenda santé (portal.md §8): the appointments and the prevention calendar of the current
profile (one's own or a child's), an appointment's form and page, a prevention item's page,
the opposition to personalised prevention, and the private iCalendar subscription.

Each view resolves through one policy, selector or action of mes.agenda; refusals raise NotFound
and so look exactly like an appointment that does not exist.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from mes.access.decision import Action
from mes.agenda import actions, ical
from mes.agenda.models import Appointment, UserReminder
from mes.agenda.policies import access_agenda, access_appointment, access_user_reminder
from mes.agenda.selectors import agenda_of
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput, NotFound
from mes.notifications.channels.preferences import preferences_of, preferences_record
from mes.prevention.schedule import ItemStatus, reason_text
from mes.vaccinations.carnet import professionals_of
from mes.web.access import public_view

from ..access import PortalRequest, patient_view
from .forms import AppointmentForm, ItemStatusForm, SituationsForm, UserReminderForm


def _first_name(patient: Citizen) -> str:
    return patient.used_first_name or patient.first_name


def _who(request: PortalRequest) -> str:
    return "" if request.is_own_profile else _first_name(request.profile)


@patient_view
def agenda(request: PortalRequest) -> HttpResponse:
    """« Agenda de santé »: items to do, appointments ahead and past, what comes later."""
    ag = agenda_of(actor=request.actor, patient_id=request.profile.pk)
    who = _who(request)
    adult_only = request.is_own_profile and request.GET.get("avant18") != "1"
    eighteen = ag.patient.birth_date.replace(year=ag.patient.birth_date.year + 18)

    def shown(items: list) -> list:
        if not adult_only or ag.today < eighteen:
            return items
        return [i for i in items if i.window_start >= eighteen]

    return render(
        request,
        "portal/agenda/agenda.html",
        {
            "agenda": ag,
            "open_items": [(i, reason_text(i, first_name=who)) for i in shown(ag.open_items())],
            "later_items": shown(ag.later_items()),
            "closed_items": shown(ag.closed_items()),
            "first_name": _first_name(ag.patient),
            "feed_url": request.session.pop("mes_agenda_feed_url", ""),
        },
    )


def _form_page(
    request: PortalRequest, form: AppointmentForm, appointment: Appointment | None = None
) -> HttpResponse:
    return render(
        request,
        "portal/agenda/appointment_form.html",
        {"form": form, "appointment": appointment, "first_name": _first_name(request.profile)},
    )


def _save(request: PortalRequest, form: AppointmentForm, appointment: Appointment | None):
    try:
        data = actions.clean_appointment(**form.action_kwargs())
        if appointment is None:
            return actions.appointment_add(
                actor=request.actor, patient_id=request.profile.pk, data=data
            )
        return actions.appointment_edit(
            actor=request.actor, appointment_id=appointment.pk, data=data
        )
    except InvalidInput as exc:
        form.add_input_error(exc)
        return None


@patient_view
def appointment_add(request: PortalRequest) -> HttpResponse:
    """« Ajouter un rendez-vous »: nothing is stored unless every check passes."""
    patient = access_agenda(
        request.actor, request.profile.pk, action=Action.MANAGE, trace_action=None
    )
    pros = professionals_of(patient)
    if request.method != "POST":
        initial = {}
        key = request.GET.get("examen", "")
        if key:
            initial = {"prevention_key": key[:80], "title": request.GET.get("titre", "")[:100]}
        return _form_page(request, AppointmentForm(professionals=pros, initial=initial))
    form = AppointmentForm(request.POST, professionals=pros)
    if form.is_valid():
        appointment = _save(request, form, None)
        if appointment is not None:
            messages.success(request, "Rendez-vous ajouté")
            return redirect("portal:appointment", appointment.pk)
    return _form_page(request, form)


def _appointment(request: PortalRequest, appointment_id: uuid.UUID, **kw) -> Appointment:
    appointment = access_appointment(request.actor, appointment_id, action=Action.MANAGE, **kw)
    if appointment.patient_id != request.profile.pk:
        # One of the citizen's other profiles: show it in that profile's agenda.
        raise Http404("Introuvable.")
    return appointment


@patient_view
def appointment_detail(request: PortalRequest, appointment_id: uuid.UUID) -> HttpResponse:
    appointment = _appointment(
        request, appointment_id, trace_action=TraceAction.CONSULT_APPOINTMENT
    )
    return render(request, "portal/agenda/appointment.html", {"appointment": appointment})


@patient_view
def appointment_edit(request: PortalRequest, appointment_id: uuid.UUID) -> HttpResponse:
    appointment = _appointment(request, appointment_id, trace_action=None)
    if appointment.read_only:
        messages.error(request, actions.READ_ONLY)
        return redirect("portal:appointment", appointment.pk)
    pros = professionals_of(appointment.patient)
    if request.method != "POST":
        local = appointment.starts_at.astimezone()
        form = AppointmentForm(
            professionals=pros,
            initial={
                "kind": appointment.kind,
                "professional": str(appointment.professional_id or ""),
                "professional_name": appointment.professional_name,
                "profession": appointment.profession,
                "address": appointment.address,
                "date": local.date(),
                "time": local.time().replace(second=0, microsecond=0),
                "title": appointment.title,
                "note": appointment.note,
                "reminder": appointment.reminder,
                "prevention_key": appointment.prevention_key,
            },
        )
        return _form_page(request, form, appointment)
    form = AppointmentForm(request.POST, professionals=pros)
    if form.is_valid() and _save(request, form, appointment) is not None:
        messages.success(request, "Rendez-vous modifié")
        return redirect("portal:appointment", appointment.pk)
    return _form_page(request, form, appointment)


@patient_view
@require_POST
def appointment_cancel(request: PortalRequest, appointment_id: uuid.UUID) -> HttpResponse:
    appointment = _appointment(request, appointment_id, trace_action=None)
    try:
        actions.appointment_cancel(actor=request.actor, appointment_id=appointment.pk)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Rendez-vous annulé")
    return redirect("portal:appointment", appointment.pk)


def _reminder_page(
    request: PortalRequest, form: UserReminderForm, reminder: UserReminder | None = None
) -> HttpResponse:
    return render(
        request,
        "portal/agenda/reminder_form.html",
        {"form": form, "reminder": reminder, "first_name": _first_name(request.profile)},
    )


def _save_reminder(
    request: PortalRequest, form: UserReminderForm, reminder: UserReminder | None
) -> UserReminder | None:
    try:
        data = actions.clean_user_reminder(**form.action_kwargs())
        if reminder is None:
            return actions.user_reminder_add(
                actor=request.actor, patient_id=request.profile.pk, data=data
            )
        return actions.user_reminder_edit(actor=request.actor, reminder_id=reminder.pk, data=data)
    except InvalidInput as exc:
        form.add_input_error(exc)
        return None


@patient_view
def user_reminder_add(request: PortalRequest) -> HttpResponse:
    """« Ajouter un rappel »: nothing is stored unless every check passes."""
    access_agenda(request.actor, request.profile.pk, action=Action.MANAGE, trace_action=None)
    if request.method != "POST":
        return _reminder_page(request, UserReminderForm())
    form = UserReminderForm(request.POST)
    if form.is_valid() and _save_reminder(request, form, None) is not None:
        messages.success(request, "Rappel ajouté")
        return redirect("portal:agenda")
    return _reminder_page(request, form)


def _reminder(request: PortalRequest, reminder_id: uuid.UUID, **kw) -> UserReminder:
    reminder = access_user_reminder(request.actor, reminder_id, **kw)
    if reminder.patient_id != request.profile.pk:
        # One of the citizen's other profiles: show it in that profile's agenda.
        raise Http404("Introuvable.")
    return reminder


@patient_view
def user_reminder_edit(request: PortalRequest, reminder_id: uuid.UUID) -> HttpResponse:
    """A « Rappel »: shown in its form, to change or delete."""
    if request.method != "POST":
        reminder = _reminder(request, reminder_id, trace_action=TraceAction.CONSULT_APPOINTMENT)
        local = timezone.localtime(reminder.at)
        form = UserReminderForm(
            initial={
                "title": reminder.title,
                "date": local.date(),
                "time": local.time().replace(second=0, microsecond=0),
                "note": reminder.note,
            }
        )
        return _reminder_page(request, form, reminder)
    reminder = _reminder(
        request, reminder_id, trace_action=None, refused_as=TraceAction.UPDATE_APPOINTMENT
    )
    form = UserReminderForm(request.POST)
    if form.is_valid() and _save_reminder(request, form, reminder) is not None:
        messages.success(request, "Rappel modifié")
        return redirect("portal:agenda")
    return _reminder_page(request, form, reminder)


@patient_view
@require_POST
def user_reminder_delete(request: PortalRequest, reminder_id: uuid.UUID) -> HttpResponse:
    reminder = _reminder(
        request, reminder_id, trace_action=None, refused_as=TraceAction.CANCEL_APPOINTMENT
    )
    actions.user_reminder_delete(actor=request.actor, reminder_id=reminder.pk)
    messages.success(request, "Rappel supprimé")
    return redirect("portal:agenda")


@patient_view
def item_detail(request: PortalRequest, key: str) -> HttpResponse:
    """One prevention item: why it is shown, its period, « L'examen a-t-il été réalisé ? »."""
    ag = agenda_of(actor=request.actor, patient_id=request.profile.pk)
    item = ag.item(key)
    if item is None:
        raise Http404("Introuvable.")
    form = ItemStatusForm(
        request.POST or None,
        initial={
            "status": item.status.value
            if item.status.value in ("fait", "ignoré", "non concerné")
            else "",
            "done_on": item.done_on,
        },
    )
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["status"]
        try:
            actions.prevention_record_set(
                actor=request.actor,
                patient_id=ag.patient.pk,
                key=item.key,
                label=item.label,
                status=ItemStatus(raw) if raw else None,
                done_on=form.cleaned_data["done_on"] if raw == "fait" else None,
            )
        except InvalidInput as exc:
            form.add_input_error(exc)
        else:
            messages.success(request, "Réponse enregistrée")
            if raw == "fait" and item.is_vaccination:
                messages.info(
                    request,
                    "Pensez à ajouter ce vaccin à votre carnet de vaccination.",
                )
            return redirect("portal:agenda_item", key=item.key)
    return render(
        request,
        "portal/agenda/item.html",
        {
            "item": item,
            "reason": reason_text(item, first_name=_who(request)),
            "form": form,
            "editable": ag.today >= item.window_start or item.status is ItemStatus.DONE,
        },
    )


@patient_view
@require_POST
def personalised(request: PortalRequest) -> HttpResponse:
    """Oppose (or stop opposing) personalised prevention (décret n° 2024-468)."""
    enabled = request.POST.get("personalised") == "1"
    actions.personalised_prevention_set(
        actor=request.actor, patient_id=request.profile.pk, enabled=enabled
    )
    messages.success(
        request,
        "Les suggestions de prévention personnalisées sont activées."
        if enabled
        else "Vous ne recevrez plus de suggestions de prévention personnalisées. Vos "
        "rendez-vous sont conservés.",
    )
    return redirect("portal:agenda")


@patient_view
def situations(request: PortalRequest) -> HttpResponse:
    """« Ma situation »: a pregnancy in progress, a chronic disease… that the prevention rules
    need (the vaccinations and examinations recommended follow them)."""
    patient = access_agenda(
        request.actor, request.profile.pk, action=Action.MANAGE, trace_action=None
    )
    choices = actions.situation_choices()
    if request.method != "POST":
        current = actions.situations_of(patient)
        form = SituationsForm(
            choices=choices,
            initial={
                "situations": list(current.codes),
                "pregnancy_due_on": current.pregnancy_due_on,
            },
        )
    else:
        form = SituationsForm(request.POST, choices=choices)
        if form.is_valid():
            try:
                actions.situations_set(
                    actor=request.actor,
                    patient_id=patient.pk,
                    codes=form.cleaned_data["situations"],
                    pregnancy_due_on=form.cleaned_data["pregnancy_due_on"],
                )
            except InvalidInput as exc:
                form.add_input_error(exc)
            else:
                messages.success(request, "Situation enregistrée : l'agenda en tient compte.")
                return redirect("portal:agenda")
    return render(
        request,
        "portal/agenda/situations.html",
        {"form": form, "first_name": _first_name(request.profile)},
    )


@patient_view
@require_POST
def subscription(request: PortalRequest) -> HttpResponse:
    """Create a new private subscription link (shown once) or revoke every link."""
    if request.POST.get("revoke") == "1":
        actions.calendar_feed_revoke(actor=request.actor, patient_id=request.profile.pk)
        messages.success(request, "Les liens d'abonnement ont été révoqués.")
        return redirect("portal:agenda")
    _, secret = actions.calendar_feed_create(actor=request.actor, patient_id=request.profile.pk)
    url = request.build_absolute_uri(reverse("portal:agenda_ical", args=[secret]))
    request.session["mes_agenda_feed_url"] = url
    messages.success(request, "Lien d'abonnement créé : copiez-le dans votre application.")
    return redirect(reverse("portal:agenda") + "#abonnement")


@public_view
def ical_feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The .ics of a private subscription: the secret in the URL is the only key."""
    try:
        body = ical.feed_read(secret=secret)
    except NotFound as exc:
        raise Http404("Introuvable.") from exc
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="agenda-sante.ics"'
    return response


@patient_view
def notification_preferences(request: PortalRequest) -> HttpResponse:
    """« Notifications » (portal.md §7.3): per kind of event, e-mail and SMS besides the
    notification centre. Security events stay on; one-time codes are not notifications."""
    citizen = request.citizen
    if request.method == "POST":
        choices = {
            category.value: {
                "email": request.POST.get(f"{category.value}-email") == "1",
                "sms": request.POST.get(f"{category.value}-sms") == "1",
            }
            for category, _, _ in preferences_of(citizen)
        }
        preferences_record(actor=request.actor, citizen=citizen, choices=choices)
        messages.success(request, "Vos choix de notifications sont enregistrés.")
        return redirect("portal:notification_preferences")
    return render(
        request,
        "portal/agenda/preferences.html",
        {
            "rows": preferences_of(citizen),
            "has_phone": bool(citizen.user and citizen.user.phone),
            "email": citizen.email,
        },
    )

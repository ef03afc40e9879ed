"""Settings pages of the citizen portal: professionals' access, emergency access, default
confidentiality, activity history and the notification centre (portal.md §5.2, §5.3, §7.4).

Each view acts on the profile being viewed (the citizen's own, or a represented person's); the
domain checks and traces every read and every change. State changes are POST only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods

from mes.access import matrix
from mes.access.actions import (
    privacy_settings_of,
    privacy_update,
    professional_block,
    professional_set_administrator,
    professional_unblock,
    treating_declaration,
)
from mes.access.decision import Action
from mes.access.models import ProfessionalAccess
from mes.audit.history import HistoryTab, history_page
from mes.audit.models import TraceAction
from mes.identity.models import Professional
from mes.lib import codes
from mes.lib.errors import InvalidInput
from mes.notifications import centre
from mes.notifications.actions import unread_counts
from mes.notifications.models import Notification
from mes.ops.db_router import replica_reads
from mes.records.policies import access_dossier

from ..access import PortalRequest, patient_view, profiles_of
from .forms import (
    ConfidentialityForm,
    EmergencyForm,
    HistoryFilterForm,
    NotificationActionForm,
    ProfessionalActionForm,
    ProfessionalSearchForm,
    ProfessionChoiceForm,
)

SEARCH_MAX_RESULTS = 20
NOTIFICATIONS_PER_PAGE = 50
# Under a day the centre says « il y a 24 minutes », beyond it gives the date (portal.md §7.4).
RELATIVE_TIME_LIMIT = timedelta(days=1)


def _page_number(raw: str | None) -> int:
    try:
        return max(int(raw or 1), 1)
    except ValueError:
        return 1


# --- Accès des professionnels -------------------------------------------------------------------


@dataclass(frozen=True)
class TypeAccess:
    code: str
    label: str


@dataclass(frozen=True)
class ClassAccess:
    code: str
    label: str
    accessible: list[TypeAccess]
    not_accessible: list[TypeAccess]


def _matrix_detail(profession: str) -> list[ClassAccess]:
    """For one profession, by document class, the current types it may and may not read."""
    readable = matrix.current().readable_types(profession)
    by_class: dict[str, list[codes.TypeCode]] = {}
    for t in codes.type_codes().values():
        if t.current:
            by_class.setdefault(t.class_code, []).append(t)
    out = []
    for class_code, class_label in codes.class_codes().items():
        types = sorted(by_class.get(class_code, []), key=lambda t: t.display.lower())
        if not types:
            continue
        out.append(
            ClassAccess(
                code=class_code,
                label=class_label,
                accessible=[TypeAccess(t.code, t.display) for t in types if t.code in readable],
                not_accessible=[
                    TypeAccess(t.code, t.display) for t in types if t.code not in readable
                ],
            )
        )
    return out


def _search_professionals(query: str) -> list[Professional]:
    """The directory searched by RPPS, or by every word of a name (first or last)."""
    words = query.split()
    if not words:
        return []
    condition = Q()
    for word in words:
        condition &= Q(last_name__icontains=word) | Q(first_name__icontains=word) | Q(rpps=word)
    return list(
        Professional.objects.filter(condition)
        .select_related("organisation")
        .order_by("last_name", "first_name")[:SEARCH_MAX_RESULTS]
    )


def _access_post(request: PortalRequest) -> HttpResponse:
    form = ProfessionalActionForm(request.POST)
    if not form.is_valid():
        raise Http404("Introuvable.")
    op = form.cleaned_data["op"]
    common = {
        "actor": request.actor,
        "patient_id": request.profile.pk,
        "professional_id": form.cleaned_data["professional"],
    }
    try:
        if op == ProfessionalActionForm.BLOCK:
            row = professional_block(**common)
            whose = (
                "à votre profil"
                if request.is_own_profile
                else f"au profil de {request.profile.display_name}"
            )
            done = f"{row.professional.display_name} ne peut plus accéder {whose}."
        elif op == ProfessionalActionForm.UNBLOCK:
            row = professional_unblock(**common)
            done = f"Le blocage de {row.professional.display_name} est levé."
        else:
            administrator = op == ProfessionalActionForm.SET_ADMIN
            row = professional_set_administrator(**common, administrator=administrator)
            done = (
                f"{row.professional.display_name} a désormais le statut d'administrateur."
                if administrator
                else f"{row.professional.display_name} n'a plus le statut d'administrateur."
            )
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("portal:access")


@require_http_methods(["GET", "POST"])
@patient_view
def access(request: PortalRequest) -> HttpResponse:
    """Gestion des accès: authorised and blocked professionals, blocking, the administrator, and
    the detail of the habilitation matrix by profession (portal.md §5.2.1)."""
    if request.method == "POST":
        return _access_post(request)
    patient, _ = access_dossier(
        request.actor,
        request.profile.pk,
        action=Action.MANAGE,
        trace_action=TraceAction.CONSULT_ACCESS,
    )
    rows = ProfessionalAccess.objects.filter(patient=patient).select_related(
        "professional__organisation"
    )
    by_professional = {row.professional_id: row for row in rows}

    search_form = ProfessionalSearchForm(request.GET if "q" in request.GET else None)
    results: list[tuple[Professional, ProfessionalAccess | None]] = []
    if search_form.is_bound and search_form.is_valid():
        results = [
            (p, by_professional.get(p.pk))
            for p in _search_professionals(search_form.cleaned_data["q"])
        ]

    profession_form = ProfessionChoiceForm(request.GET if "profession" in request.GET else None)
    profession = ""
    detail: list[ClassAccess] = []
    if profession_form.is_bound and profession_form.is_valid():
        profession = profession_form.cleaned_data["profession"]
        detail = _matrix_detail(profession)

    return render(
        request,
        "portal/settings/access.html",
        {
            "authorised": rows.authorised().order_by(
                "-is_treating_physician", "-is_administrator", "professional__last_name"
            ),
            "blocked": rows.blocked().order_by("-since"),
            "search_form": search_form,
            "search_done": search_form.is_bound and search_form.is_valid(),
            "results": results,
            "profession_form": profession_form,
            "profession": profession,
            "profession_label": codes.professions().get(profession, ""),
            "detail": detail,
            "matrix_version": matrix.current().version,
            "treating": treating_declaration(patient),
        },
    )


# --- Accès en cas d'urgence, confidentialité ----------------------------------------------------


@require_http_methods(["GET", "POST"])
@patient_view
def emergency(request: PortalRequest) -> HttpResponse:
    """Accès en cas d'urgence: SAMU, bris de glace, masked documents, mask everything
    (portal.md §5.2.3; legal basis mes-spec §5.4–5.5)."""
    if request.method == "POST":
        form = EmergencyForm(request.POST)
        if not form.is_valid():  # booleans only: never invalid, but stay honest
            raise Http404("Introuvable.")
        data = form.cleaned_data
        privacy_update(
            actor=request.actor,
            patient_id=request.profile.pk,
            oppose_centre_15=not data["samu"],
            oppose_break_glass=not data["break_glass"],
            emergency_reveals_masked=data["reveals_masked"],
            mask_everything=data["mask_everything"],
        )
        messages.success(request, "Vos choix d'accès en cas d'urgence sont enregistrés.")
        return redirect("portal:emergency")
    patient, _ = access_dossier(
        request.actor,
        request.profile.pk,
        action=Action.MANAGE,
        trace_action=TraceAction.CONSULT_ACCESS,
    )
    privacy = privacy_settings_of(patient)
    form = EmergencyForm(
        initial={
            "samu": not privacy.oppose_centre_15,
            "break_glass": not privacy.oppose_break_glass,
            "reveals_masked": privacy.emergency_reveals_masked,
            "mask_everything": privacy.mask_everything,
        }
    )
    return render(request, "portal/settings/emergency.html", {"form": form, "privacy": privacy})


@require_http_methods(["GET", "POST"])
@patient_view
def confidentiality(request: PortalRequest) -> HttpResponse:
    """Confidentialité des informations: are new documents masked from professionals by
    default (portal.md §5.2.2, §3.4), and are the measures of received documents copied into
    Mesures (« Import des données depuis les documents », §5.4)."""
    if request.method == "POST":
        form = ConfidentialityForm(request.POST)
        if not form.is_valid():
            raise Http404("Introuvable.")
        privacy_update(
            actor=request.actor,
            patient_id=request.profile.pk,
            mask_new_documents=form.cleaned_data["mask_new_documents"],
            import_from_documents=form.cleaned_data["import_from_documents"],
        )
        messages.success(request, "Vos choix sont enregistrés.")
        return redirect("portal:confidentiality")
    patient, _ = access_dossier(
        request.actor,
        request.profile.pk,
        action=Action.MANAGE,
        trace_action=TraceAction.CONSULT_ACCESS,
    )
    privacy = privacy_settings_of(patient)
    form = ConfidentialityForm(
        initial={
            "mask_new_documents": privacy.mask_new_documents,
            "import_from_documents": privacy.import_from_documents,
        }
    )
    return render(
        request,
        "portal/settings/confidentiality.html",
        {"form": form, "privacy": privacy, "contact_email": request.citizen.email},
    )


# --- Historique d'activité ----------------------------------------------------------------------


@require_GET
@patient_view
def history(request: PortalRequest) -> HttpResponse:
    """Historique d'activité: every access and action on the profile, newest first, 100 a page
    (L1111-19, portal.md §5.3). A representative never sees a minor's secret care (R1111-50)."""
    patient, _ = access_dossier(
        request.actor,
        request.profile.pk,
        action=Action.READ_TRACES,
        trace_action=TraceAction.CONSULT_HISTORY,
    )
    try:
        tab = HistoryTab(request.GET.get("onglet") or HistoryTab.PROFESSIONALS)
    except ValueError:
        tab = HistoryTab.PROFESSIONALS
    has_filters = bool(request.GET.get("debut") or request.GET.get("fin"))
    form = HistoryFilterForm(request.GET if has_filters else None)
    start = end = None
    if has_filters and form.is_valid():
        start, end = form.cleaned_data["debut"], form.cleaned_data["fin"]
    # The largest table, read only here: a replica may serve it (mes/ops/db_router.py).
    with replica_reads():
        page = history_page(
            patient_id=patient.pk,
            for_representative=not request.is_own_profile,
            tab=tab,
            start=start,
            end=end,
            page=_page_number(request.GET.get("page")),
        )
    filters = {k: v.isoformat() for k, v in (("debut", start), ("fin", end)) if v is not None}

    def query(onglet: HistoryTab = tab, **extra: object) -> str:
        return "?" + urlencode({**filters, "onglet": onglet.value, **extra})

    citizens_tab_label = "Mes activités" if request.is_own_profile else "Représentants légaux"
    if request.actor.on_behalf_of is not None:
        citizens_tab_label = "La personne aidée et ses aidants"
    return render(
        request,
        "portal/settings/history.html",
        {
            "form": form,
            "page": page,
            "tab": tab.value,
            "tabs": [
                (t.value, label, query(onglet=t))
                for t, label in (
                    (HistoryTab.PROFESSIONALS, "Professionnels"),
                    (HistoryTab.CITIZENS, citizens_tab_label),
                )
            ],
            "tab_label": citizens_tab_label if tab is HistoryTab.CITIZENS else "Professionnels",
            "is_professionals_tab": tab is HistoryTab.PROFESSIONALS,
            "filtered": start is not None or end is not None,
            "next_url": query(page=page.page + 1),
            "previous_url": query(page=page.page - 1),
            "reset_url": "?" + urlencode({"onglet": tab.value}),
        },
    )


# --- Centre de notifications --------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationRow:
    notification: Notification
    when: str
    safe_url: str  # only links inside the portal are rendered


def _when(at: datetime, now: datetime) -> str:
    if now - at < RELATIVE_TIME_LIMIT:
        return str(naturaltime(at))
    return "le " + date_format(timezone.localtime(at), "j F Y à H:i")


def _notifications_post(request: PortalRequest) -> HttpResponse:
    form = NotificationActionForm(request.POST)
    if not form.is_valid():
        raise Http404("Introuvable.")
    op, notification_id = form.cleaned_data["op"], form.cleaned_data["notification"]
    if op == NotificationActionForm.ALL_READ:
        centre.notifications_mark_all_read(actor=request.actor, profile_id=request.profile.pk)
        messages.success(request, "Toutes les notifications sont marquées comme lues.")
    elif op == NotificationActionForm.DELETE:
        centre.notification_delete(actor=request.actor, notification_id=notification_id)
        messages.success(request, "La notification est supprimée.")
    else:
        read = op == NotificationActionForm.READ
        centre.notification_set_read(
            actor=request.actor, notification_id=notification_id, read=read
        )
        messages.success(
            request,
            "Notification marquée comme lue." if read else "Notification marquée comme non lue.",
        )
    return redirect("portal:notifications")


@require_http_methods(["GET", "POST"])
@patient_view
def notifications(request: PortalRequest) -> HttpResponse:
    """The notification centre of the profile: newest first, read/unread, delete (§7.4)."""
    if request.method == "POST":
        return _notifications_post(request)
    qs = centre.notifications_of(actor=request.actor, profile_id=request.profile.pk)
    paginator = Paginator(qs, NOTIFICATIONS_PER_PAGE)
    page = paginator.get_page(_page_number(request.GET.get("page")))
    now = timezone.now()
    rows = [
        NotificationRow(
            notification=n,
            when=_when(n.created_at, now),
            safe_url=n.url if n.url.startswith("/") and not n.url.startswith("//") else "",
        )
        for n in page.object_list
    ]
    other_profiles = [p for p in profiles_of(request.citizen) if p.pk != request.profile.pk]
    counts = unread_counts(viewer=request.citizen, profile_ids=[p.pk for p in other_profiles])
    others = [(p, counts[p.pk]) for p in other_profiles if counts.get(p.pk)]
    return render(
        request,
        "portal/settings/notifications.html",
        {
            "rows": rows,
            "page_obj": page,
            "unread_here": qs.filter(read_at__isnull=True).count(),
            "other_profiles": others,
        },
    )

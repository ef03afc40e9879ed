"""« Télécharger mes données » and the share links (issue 15): pages over mes.takeout."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from mes.lib.errors import InvalidInput
from mes.records.policies import documents_visible_to
from mes.takeout import export, sharing
from mes.web.access import public_view
from mes.web.downloads import download_name

from ..access import PortalRequest, patient_view


@require_http_methods(["GET"])
@patient_view
def data_export(request: PortalRequest) -> HttpResponse:
    latest = export.latest_export(actor=request.actor)
    return render(request, "portal/takeout/export.html", {"export": latest})


@require_POST
@patient_view
def data_export_request(request: PortalRequest) -> HttpResponse:
    try:
        export.export_request(actor=request.actor)
    except InvalidInput as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Votre demande est enregistrée. Vous recevrez une notification quand vos données "
            "seront prêtes à télécharger.",
        )
    return redirect("portal:data_export")


@require_http_methods(["GET"])
@patient_view
def data_export_download(request: PortalRequest, export_id: uuid.UUID) -> HttpResponse:
    found, content = export.export_download(actor=request.actor, export_id=export_id)
    if content is None:
        return render(
            request, "portal/takeout/export_expired.html", {"message": export.EXPIRED}, status=410
        )
    response = HttpResponse(content, content_type="application/zip")
    day = found.ready_at or found.requested_at
    response["Content-Disposition"] = (
        f'attachment; filename="mes-donnees-de-sante-{day:%Y-%m-%d}.zip"'
    )
    response["Cache-Control"] = "no-store"
    return response


# --- share links: the citizen's side -----------------------------------------------------------


def _links_context(request: PortalRequest, form_errors: dict[str, str], posted: dict) -> dict:
    links = list(sharing.share_links_of(actor=request.actor, patient_id=request.profile.pk))
    shown = []
    for link in links:
        url = ""
        if link.is_usable():
            url = sharing.shlink(
                link,
                manifest_url=request.build_absolute_uri(
                    reverse("portal:share_manifest", args=[link.token])
                ),
                viewer_url=request.build_absolute_uri(
                    reverse("portal:share_view", args=[link.token])
                ),
            )
        shown.append((link, url, list(link.openings.order_by("-at")[:5])))
    documents = documents_visible_to(request.actor, request.profile).order_by("-service_date")
    return {
        "links": shown,
        "documents": list(documents[:200]),
        "errors": form_errors,
        "posted": posted,
        "max_days": settings.MES_SHARE_LINK_MAX_VALIDITY.days,
    }


@require_http_methods(["GET", "POST"])
@patient_view
def share_links(request: PortalRequest) -> HttpResponse:
    """The dossier's share links (opened when, revoke) and the form to make one."""
    errors: dict[str, str] = {}
    posted: dict = {}
    if request.method == "POST":
        posted = {
            "label": request.POST.get("label", ""),
            "days": request.POST.get("days", ""),
            "documents": request.POST.getlist("documents"),
        }
        try:
            ids = [uuid.UUID(v) for v in posted["documents"]]
            days = int(posted["days"] or 0)
        except ValueError:
            errors["documents"] = "Choix invalide."
        else:
            try:
                sharing.share_link_create(
                    actor=request.actor,
                    patient_id=request.profile.pk,
                    document_ids=ids,
                    label=posted["label"],
                    days=days,
                    passcode=request.POST.get("passcode", ""),
                )
            except InvalidInput as exc:
                errors[exc.field or "documents"] = str(exc)
            else:
                messages.success(
                    request,
                    "Le lien de partage est créé : copiez-le et envoyez-le au destinataire.",
                )
                return redirect("portal:share_links")
    return render(
        request, "portal/takeout/share_links.html", _links_context(request, errors, posted)
    )


@require_POST
@patient_view
def share_link_revoke(request: PortalRequest, link_id: uuid.UUID) -> HttpResponse:
    link = sharing.share_link_revoke(actor=request.actor, link_id=link_id)
    messages.success(request, f"Le lien « {link.label} » est désactivé.")
    return redirect("portal:share_links")


# --- share links: the recipient's side (public) -----------------------------------------------

PASSCODE_SESSION_KEY = "mes_share_passcodes"


def _unavailable(request: HttpRequest, exc: sharing.LinkUnavailable) -> HttpResponse:
    return render(
        request, "portal/takeout/share_unavailable.html", {"message": exc.message}, status=410
    )


@require_http_methods(["GET", "POST"])
@public_view
def share_view(request: HttpRequest, token: str) -> HttpResponse:
    """What the recipient sees: the passcode form when one is set, then the documents."""
    remembered: dict[str, str] = request.session.get(PASSCODE_SESSION_KEY, {})
    passcode = request.POST.get("passcode") if request.method == "POST" else remembered.get(token)
    try:
        opened = sharing.share_link_open(token=token, passcode=passcode)
    except sharing.LinkUnavailable as exc:
        if exc.message in (sharing.PASSCODE_NEEDED, sharing.WRONG_PASSCODE):
            return render(
                request,
                "portal/takeout/share_passcode.html",
                {"error": exc.message if exc.passcode_wrong else "", "remaining": exc.remaining},
                status=401 if exc.passcode_wrong else 200,
            )
        return _unavailable(request, exc)
    if passcode:
        request.session[PASSCODE_SESSION_KEY] = {**remembered, token: passcode}
    response = render(request, "portal/takeout/share_view.html", {"opened": opened, "token": token})
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET"])
@public_view
def share_document(request: HttpRequest, token: str, document_id: uuid.UUID) -> HttpResponse:
    passcode = request.session.get(PASSCODE_SESSION_KEY, {}).get(token)
    try:
        opened = sharing.share_link_open(token=token, passcode=passcode)
    except sharing.LinkUnavailable as exc:
        if exc.message == sharing.PASSCODE_NEEDED:
            return redirect("portal:share_view", token=token)
        return _unavailable(request, exc)
    found = sharing.document_bytes(opened, document_id)
    if found is None:
        raise Http404("Introuvable.")
    doc, content = found
    response = HttpResponse(content, content_type=doc.mime_type)
    response["Content-Disposition"] = f'attachment; filename="{download_name(doc)}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@csrf_exempt
@require_http_methods(["POST"])
@public_view
def share_manifest(request: HttpRequest, token: str) -> HttpResponse:
    """SMART Health Links manifest request: `{recipient, passcode?}` → `{files: [...]}` with
    each file a JWE. 401 with `remainingAttempts` for a wrong or missing passcode, 404 for an
    unknown, expired or revoked link (as the SHL specification asks)."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "Corps JSON invalide."}, status=400)
    if not isinstance(body, dict) or not str(body.get("recipient", "")).strip():
        return JsonResponse({"error": "Le champ « recipient » est obligatoire."}, status=400)
    try:
        opened = sharing.share_link_open(token=token, passcode=body.get("passcode"))
    except sharing.LinkUnavailable as exc:
        if exc.message in (sharing.PASSCODE_NEEDED, sharing.WRONG_PASSCODE):
            return JsonResponse(
                {"error": exc.message, "remainingAttempts": exc.remaining}, status=401
            )
        return JsonResponse({"error": exc.message}, status=404)
    response = JsonResponse(sharing.manifest(opened))
    response["Cache-Control"] = "no-store"
    return response

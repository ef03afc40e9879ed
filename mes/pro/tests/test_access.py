"""Who may call the Web PS: every page declares it; anonymous callers go to the professionals'
login, a citizen's login finds nothing; the access mode follows this browser's emergency access
to the patient being viewed, and only while the domain's session lasts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from mes.access.actors import AccessMode
from mes.access.models import BreakGlassSession
from mes.audit.models import TraceAction, TraceOutcome
from mes.pro import urls as pro_urls
from mes.pro.access import EMERGENCY_SESSION_KEY, may_use_centre_15

from .conftest import body, open_emergency, traces

GET_PATIENT = [
    "patient",
    "emergency",
    "documents",
    "document_deposit",
    "entourage",
    "vaccinations",
    "care_history",
]
POST_PATIENT = ["consent_declare", "consent_withdraw", "emergency_end"]
GET_DOCUMENT = ["document", "document_view", "document_download"]
POST_DOCUMENT = ["document_mask", "document_archive", "document_delete", "document_release"]
PUBLIC = {
    "login",
    "login_code",
    "logout",
    "login_code_first",
    "login_code_first_check",
    "passkey_login_options",
    "passkey_login",
}
# The professional's own associated devices (passkeys).
GET_ACCOUNT = ["passkeys"]
POST_ACCOUNT = ["passkey_register_options", "passkey_register"]
POST_PASSKEY = ["passkey_rename", "passkey_remove"]
# The mailbox (issue 9): a conversation, its closing, an attachment.
GET_MESSAGING = ["messaging_conversation", "messaging_attachment"]
POST_MESSAGING = ["messaging_close"]


def _urls(patient_id, document_id):
    for name in GET_PATIENT:
        yield "get", reverse(f"pro:{name}", args=[patient_id])
    for name in POST_PATIENT:
        yield "post", reverse(f"pro:{name}", args=[patient_id])
    for name in GET_DOCUMENT:
        yield "get", reverse(f"pro:{name}", args=[document_id])
    for name in POST_DOCUMENT:
        yield "post", reverse(f"pro:{name}", args=[document_id])
    for name in GET_ACCOUNT:
        yield "get", reverse(f"pro:{name}")
    for name in POST_ACCOUNT:
        yield "post", reverse(f"pro:{name}")
    for name in POST_PASSKEY:
        yield "post", reverse(f"pro:{name}", args=[1])
    yield "get", reverse("pro:home")
    yield "get", reverse("pro:messaging")
    for name in GET_MESSAGING:
        yield "get", reverse(f"pro:{name}", args=[uuid.uuid4()])
    for name in POST_MESSAGING:
        yield "post", reverse(f"pro:{name}", args=[uuid.uuid4()])


def _pro_patterns(patterns=None):
    """Every URL of the Web PS, through the areas' includes."""
    for p in pro_urls.urlpatterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from _pro_patterns(p.url_patterns)
        else:
            assert isinstance(p, URLPattern)
            yield p


def test_every_pro_url_is_listed_here():
    names = {p.name for p in _pro_patterns()}
    listed = (
        set(GET_PATIENT + POST_PATIENT + GET_DOCUMENT + POST_DOCUMENT)
        | set(GET_ACCOUNT + POST_ACCOUNT + POST_PASSKEY)
        | PUBLIC
        | {"home"}
    )
    listed |= set(GET_MESSAGING + POST_MESSAGING) | {"messaging"}
    assert names == listed


def test_every_pro_view_declares_who_may_call_it():
    resolver = get_resolver()
    for p in _pro_patterns():
        expected = "public" if p.name in PUBLIC else "professional"
        view = resolver.resolve(reverse(f"pro:{p.name}", kwargs=_kwargs(p))).func
        assert getattr(view, "mes_access", None) == expected, p.name


def _kwargs(p):
    return {
        k: 1 if type(c).__name__ == "IntConverter" else uuid.uuid4()
        for k, c in p.pattern.converters.items()
    }


def test_anonymous_goes_to_the_professionals_login(client, camille, consultation):
    for method, url in _urls(camille.pk, consultation.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('pro:login')}?next={url}", url
    consultation.refresh_from_db()
    assert not consultation.masked_from_professionals


def test_a_citizen_finds_nothing(as_camille, camille, consultation):
    for method, url in _urls(camille.pk, consultation.pk):
        assert getattr(as_camille, method)(url).status_code == 404, url
    assert consultation.status == "current"


def test_a_professional_reaches_the_home_page(as_martin, dr_martin):
    response = as_martin.get(reverse("pro:home"))
    assert response.status_code == 200
    html = body(response)
    assert "Espace professionnel" in html and "Anne Martin" in html
    assert "Cabinet médical République" in html


def test_the_emergency_mode_is_used_while_it_lasts(as_durand, dr_durand, camille, consultation):
    open_emergency(as_durand, dr_durand, camille)
    url = reverse("pro:documents", args=[camille.pk])
    response = as_durand.get(url)
    assert response.status_code == 200
    assert "Accès en urgence (bris de glace) jusqu'au" in body(response)
    listed = traces(camille, TraceAction.CONSULT_DOSSIER)[-1]
    assert listed.access_mode == AccessMode.BREAK_GLASS
    assert listed.justification == "Patiente inconsciente aux urgences"

    # The domain's session ends (MES_BREAK_GLASS_DURATION): back to the normal mode.
    BreakGlassSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert as_durand.get(url).status_code == 404
    assert str(camille.pk) not in as_durand.session[EMERGENCY_SESSION_KEY]
    refused = traces(camille, TraceAction.CONSULT_DOSSIER)[-1]
    assert refused.outcome == TraceOutcome.REFUSED and refused.access_mode == "normal"


def test_a_mode_stored_without_a_domain_session_is_ignored(as_durand, camille, consultation):
    store = as_durand.session
    store[EMERGENCY_SESSION_KEY] = {str(camille.pk): AccessMode.BREAK_GLASS.value}
    store.save()
    assert as_durand.get(reverse("pro:documents", args=[camille.pk])).status_code == 404
    assert traces(camille, TraceAction.CONSULT_DOSSIER)[-1].access_mode == "normal"


@pytest.mark.django_db
def test_centre_15_is_for_a_samu_medecin_only(regulateur_samu, dr_martin, ide_bernard, samu):
    assert may_use_centre_15(regulateur_samu)
    assert not may_use_centre_15(dr_martin)
    ide_bernard.organisation = samu
    assert not may_use_centre_15(ide_bernard)

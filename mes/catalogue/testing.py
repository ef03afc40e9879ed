"""Factories for the tests of every app that meets a paired service (catalogue, FHIR, portal).

`paired_token` issues a real django-oauth-toolkit access token bound to a pairing, as the token
endpoint does after the pairing consent; the pairing flow itself is tested end to end through the
real pages (mes/catalogue/tests)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import AccessToken, set_token_value

from mes.identity.models import Citizen, User

from .models import Consent, DataCategory, ExchangeAction, Pairing, PairingToken, Service
from .registry import ExchangeSpec, PurposeSpec, reference_service

GLUCOSE_PURPOSE = PurposeSpec(
    code="11",
    label="Ajouter mon glucose sanguin",
    description="Le service ajoute à mes mesures le glucose qu'il a mesuré.",
    exchanges=[
        ExchangeSpec(
            DataCategory.MEASURES,
            ExchangeAction.WRITE,
            "glucose interstitiel, HbA1c, index de gestion de glycémie",
        )
    ],
)
READ_MEASURES_PURPOSE = PurposeSpec(
    code="12",
    label="Consulter mes mesures",
    description="Le service affiche les mesures de mon espace.",
    exchanges=[ExchangeSpec(DataCategory.MEASURES, ExchangeAction.READ)],
)
DOCUMENTS_PURPOSE = PurposeSpec(
    code="31",
    label="Ajouter mes rapports de glycémie",
    description="Le service dépose ses rapports dans mes documents.",
    exchanges=[
        ExchangeSpec(DataCategory.DOCUMENTS, ExchangeAction.WRITE, "rapport AGP"),
        ExchangeSpec(DataCategory.DOCUMENTS, ExchangeAction.READ),
    ],
)
AGENDA_PURPOSE = PurposeSpec(
    code="41",
    label="Ajouter mes rendez-vous",
    description="Le service ajoute à mon agenda les rendez-vous pris chez lui.",
    exchanges=[
        ExchangeSpec(DataCategory.AGENDA, ExchangeAction.WRITE),
        ExchangeSpec(DataCategory.AGENDA, ExchangeAction.READ),
    ],
)
PROFILE_PURPOSE = PurposeSpec(
    code="51",
    label="Recevoir ma synthèse médicale",
    description="J'envoie au service la synthèse de mon profil médical.",
    exchanges=[ExchangeSpec(DataCategory.PROFILE, ExchangeAction.READ)],
)
ALL_PURPOSES = (
    GLUCOSE_PURPOSE,
    READ_MEASURES_PURPOSE,
    DOCUMENTS_PURPOSE,
    AGENDA_PURPOSE,
    PROFILE_PURPOSE,
)
TEST_REDIRECT_URI = "https://glyco.example/retour-mes"


def glucose_service(
    *, slug: str = "glyco", oid: str = "1.2.250.1.999.1", status: str = Service.Status.ONLINE
) -> Service:
    existing = Service.objects.filter(slug=slug).first()
    if existing is not None:
        return existing
    return reference_service(
        oid=oid,
        slug=slug,
        name=f"Glyco {slug}",
        editor_name="Glyco SAS",
        category="maladie_chronique",
        summary="Le carnet de glycémie connecté.",
        description="Suivez votre glycémie et partagez-la avec Mon espace santé.",
        redirect_uris=TEST_REDIRECT_URI,
        purposes=ALL_PURPOSES,
        status=status,
    ).service


def pair(
    service: Service,
    patient: Citizen,
    *,
    purposes: Iterable[str] | None = None,
    granted_by: User | None = None,
) -> Pairing:
    """An active pairing with consent to the purposes of these codes (all by default)."""
    account = granted_by or patient.user
    assert account is not None, "a child's espace is paired by a parent: pass granted_by"
    pairing = Pairing.objects.create(
        service=service,
        patient=patient,
        granted_by=account,
        approved_version=service.rights_version,
    )
    chosen = service.purposes.all()
    if purposes is not None:
        chosen = chosen.filter(code__in=list(purposes))
    Consent.objects.bulk_create(Consent(pairing=pairing, purpose=p) for p in chosen)
    return pairing


def paired_token(
    pairing: Pairing, *, scopes: str = "", expires_in: timedelta = timedelta(hours=1)
) -> tuple[str, AccessToken]:
    """A real access token of the pairing's service, bound to the pairing (hashed at rest)."""
    raw = secrets.token_urlsafe(30)
    token = AccessToken(
        user=pairing.granted_by,
        application=pairing.service.application,
        expires=timezone.now() + expires_in,
        scope=scopes,
    )
    set_token_value(token, raw)
    token.save()
    PairingToken.objects.create(pairing=pairing, access_token=token)
    return raw, token

"""Referencing a service (operators, the demo loader, the tests): the service, its OAuth client
when it exchanges data, and its purposes. Operator-only: no citizen view calls this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import Application

from .models import Purpose, PurposeExchange, Service


@dataclass(frozen=True)
class ExchangeSpec:
    category: str  # DataCategory
    action: str  # ExchangeAction
    details: str = ""


@dataclass(frozen=True)
class PurposeSpec:
    code: str
    label: str
    description: str
    exchanges: Sequence[ExchangeSpec]


@dataclass(frozen=True)
class ReferencedService:
    service: Service
    client_id: str
    client_secret: str  # in clear once (confidential clients); stored hashed by DOT


@transaction.atomic
def reference_service(
    *,
    oid: str,
    slug: str,
    name: str,
    editor_name: str,
    category: str,
    summary: str,
    description: str,
    redirect_uris: str = "",
    purposes: Sequence[PurposeSpec] = (),
    confidential: bool = False,
    client_id: str = "",
    client_secret: str = "",
    **fields: str,
) -> ReferencedService:
    """Reference a service; with `redirect_uris` it exchanges data through an OAuth client
    (authorization code + PKCE; public by default, like a phone app)."""
    application = None
    secret = ""
    if redirect_uris.strip():
        secret = (client_secret or generate_client_secret()) if confidential else ""
        application = Application.objects.create(
            client_id=client_id or generate_client_id(),
            client_secret=secret,
            name=name,
            client_type=(
                Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC
            ),
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=redirect_uris.strip(),
            algorithm=Application.RS256_ALGORITHM,
            # The citizen always consents, purpose by purpose, on our own page.
            skip_authorization=False,
        )
    service = Service.objects.create(
        oid=oid,
        slug=slug,
        name=name,
        editor_name=editor_name,
        category=category,
        summary=summary,
        description=description,
        application=application,
        **fields,
    )
    for spec in purposes:
        purpose = Purpose.objects.create(
            service=service, code=spec.code, label=spec.label, description=spec.description
        )
        PurposeExchange.objects.bulk_create(
            PurposeExchange(
                purpose=purpose, category=e.category, action=e.action, details=e.details
            )
            for e in spec.exchanges
        )
    return ReferencedService(
        service=service,
        client_id=application.client_id if application else "",
        client_secret=secret,
    )

"""The authorization server's rules for the catalogue's services (mes-spec §8.2; docs/fhir-api.md
« API des services »), mixed into mes.fhir.auth.oauth.MesOAuth2Validator.

- Scopes: a service's client gets the subset of what it asked that its purposes allow — at the
  authorization request all its purposes, once the citizen consented only theirs
  (mes.fhir.auth.scopes.grantable_for_service); never an error for asking too much.
- Binding: the consent page creates the pairing and passes its id in the authorization
  request's credentials (`mes_pairing_id`); the code, then every access and refresh token issued
  from it or from a refresh, are bound to that pairing (PairingToken). A service's client never
  receives a code or a token outside a pairing (fail closed).
- Refresh: rotated (ROTATE_REFRESH_TOKEN); a refresh token reused after rotation or revocation
  fails and revokes its family (django-oauth-toolkit's reuse protection); a pairing that no
  longer stands (unpaired, lapsed, service suspended...) refreshes nothing. A service's refresh
  token lives MES_CATALOGUE_REFRESH_TOKEN_LIFETIME after its last access token expired (the
  professionals' software keeps its 12 h, mes.fhir.auth.oauth). Each refused refresh is traced on
  the espace's chain.
- The token response carries `patient`: the paired espace's FHIR id, as SMART does.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken
from oauthlib.oauth2.rfc6749 import errors

from mes.audit import trace
from mes.audit.models import TraceAction, TraceOutcome
from mes.fhir.auth import scopes as smart_scopes

from .actors import app_actor
from .models import Pairing, PairingToken, PurposeExchange, Service
from .policies import consented_exchanges, pairing_refusal

PAIRING_CREDENTIAL = "mes_pairing_id"


def _checksum(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def service_of(client: Any) -> Service | None:
    """The catalogue service whose OAuth client this is, or None (a professional's client)."""
    if client is None:
        return None
    return Service.objects.filter(application_id=client.pk).first()


def service_of_client_id(client_id: str) -> Service | None:
    if not client_id:
        return None
    return Service.objects.filter(application__client_id=client_id).first()


def all_exchanges(service: Service) -> frozenset[tuple[str, str]]:
    rows = PurposeExchange.objects.filter(purpose__service=service).values_list(
        "category", "action"
    )
    return frozenset((c, a) for c, a in rows)


def _pairing_of(request: Any) -> Pairing | None:
    # Only what this server set (the consent page's credentials, validate_code,
    # validate_refresh_token): oauthlib also answers attribute reads from the request's own
    # parameters, which the client chooses.
    raw = vars(request).get(PAIRING_CREDENTIAL)
    if not raw:
        return None
    try:
        pairing_id = uuid.UUID(str(raw))
    except ValueError:
        return None
    return Pairing.objects.select_related("service", "patient").filter(pk=pairing_id).first()


def refresh_token_lapsed(request: Any, lifetime: timedelta) -> bool:
    """Whether the refresh token django-oauth-toolkit just validated (kept on the request) has
    outlived `lifetime`, counted as django-oauth-toolkit counts its own setting: from the
    expiry of the last access token issued with it (sliding with each rotation)."""
    rt = vars(request).get("refresh_token_instance")
    access = getattr(rt, "access_token", None)
    if rt is None or access is None:
        return True  # nothing to count from: refuse (fail closed)
    return bool(access.expires + lifetime <= timezone.now())


def _why_refused(refresh: RefreshToken | None) -> str:
    """Why django-oauth-toolkit refused a service's refresh token, for the trace."""
    access = refresh.access_token if refresh is not None else None
    lifetime = settings.MES_CATALOGUE_REFRESH_TOKEN_LIFETIME
    if (
        refresh is not None
        and refresh.revoked is None
        and access is not None
        and access.expires + lifetime <= timezone.now()
    ):
        return "jeton de renouvellement expiré : associer à nouveau le service"
    return "jeton de renouvellement déjà utilisé (rotation) ou révoqué"


def _trace_refused(pairing: Pairing, reason: str) -> None:
    trace.record(
        actor=app_actor(pairing),
        action=TraceAction.SERVICE_TOKEN,
        outcome=TraceOutcome.REFUSED,
        patient_id=pairing.patient_id,
        document_title=pairing.service.name[:255],
        reason=reason[:200],
    )


if TYPE_CHECKING:
    from oauth2_provider.oauth2_validators import OAuth2Validator as _Validator
else:
    _Validator = object


class PairingValidatorMixin(_Validator):
    """django-oauth-toolkit validator hooks for the catalogue's services."""

    def _service(self, request: Any) -> Service | None:
        if not hasattr(request, "_mes_service"):
            request._mes_service = service_of(getattr(request, "client", None))
        service: Service | None = request._mes_service
        return service

    def service_scopes(self, scopes: list[str], request: Any) -> list[str] | None:
        """The scopes granted to a service's client, or None when the client is no service."""
        service = self._service(request)
        if service is None:
            return None
        pairing = _pairing_of(request)
        if pairing is not None and pairing.service_id == service.pk:
            exchanges = consented_exchanges(pairing)
        else:
            exchanges = all_exchanges(service)
        return smart_scopes.grantable_for_service(scopes, exchanges)

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        service = self._service(request)
        pairing = _pairing_of(request) if service is not None else None
        if service is not None and (pairing is None or pairing.service_id != service.pk):
            # Only the consent page issues a service's code, with its pairing (fail closed).
            raise errors.AccessDeniedError(request=request)
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        if pairing is not None:
            grant = Grant.objects.get(code=code["code"], application=request.client)
            PairingToken.objects.create(pairing=pairing, grant=grant)

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        if self._service(request) is None:
            return True
        link = (
            PairingToken.objects.select_related("pairing__service", "pairing__patient")
            .filter(grant__code=code, grant__application=client)
            .first()
        )
        if link is None:
            return False
        refusal = pairing_refusal(link.pairing, link.pairing.patient)
        if refusal:
            _trace_refused(link.pairing, f"code d'autorisation refusé : {refusal}")
            return False
        setattr(request, PAIRING_CREDENTIAL, str(link.pairing_id))
        return True

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if self._service(request) is None:
            return bool(valid)
        link = (
            PairingToken.objects.select_related(
                "pairing__service", "pairing__patient", "refresh_token__access_token"
            )
            .filter(refresh_token__token_checksum=_checksum(refresh_token))
            .order_by("-pk")
            .first()
        )
        if link is None:
            return False
        if not valid:
            _trace_refused(link.pairing, _why_refused(link.refresh_token))
            return False
        refusal = pairing_refusal(link.pairing, link.pairing.patient)
        if refusal:
            _trace_refused(link.pairing, f"renouvellement refusé : {refusal}")
            return False
        if refresh_token_lapsed(request, settings.MES_CATALOGUE_REFRESH_TOKEN_LIFETIME):
            _trace_refused(
                link.pairing, "jeton de renouvellement expiré : associer à nouveau le service"
            )
            return False
        setattr(request, PAIRING_CREDENTIAL, str(link.pairing_id))
        return True

    def is_within_original_scope(
        self, request_scopes: list[str], refresh_token: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """A service refreshing with a wider `scope` than it was granted (Authlib's client sends
        the one it first asked) gets what it was granted, within the consents of now: a subset,
        never an error."""
        if self._service(request) is None:
            return bool(
                super().is_within_original_scope(
                    request_scopes, refresh_token, request, *args, **kwargs
                )
            )
        pairing = _pairing_of(request)
        if pairing is None:
            return False
        original = self.get_original_scopes(refresh_token, request)
        narrowed = smart_scopes.grantable_for_service(request_scopes, consented_exchanges(pairing))
        kept = [s for s in narrowed if s in original]
        request.scopes = kept or list(original)
        return True

    def save_bearer_token(
        self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        pairing = _pairing_of(request) if self._service(request) is not None else None
        if self._service(request) is not None and pairing is None:
            raise errors.AccessDeniedError(request=request)
        result = super().save_bearer_token(token, request, *args, **kwargs)
        if pairing is None:
            return result
        access = AccessToken.objects.get(token_checksum=_checksum(token["access_token"]))
        links = [PairingToken(pairing=pairing, access_token=access)]
        if token.get("refresh_token"):
            refresh = (
                RefreshToken.objects.filter(
                    token_checksum=_checksum(token["refresh_token"]), revoked__isnull=True
                )
                .order_by("-pk")
                .first()
            )
            if refresh is not None:
                # A row of its own: revoking the access token (which deletes it) keeps the
                # refresh token's binding.
                links.append(PairingToken(pairing=pairing, refresh_token=refresh))
        PairingToken.objects.bulk_create(links)
        token["patient"] = str(pairing.patient_id)
        return result

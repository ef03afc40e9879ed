"""The acting professional as a signed assertion (issue 12 §2; RFC 7523 style).

A structure's server (client credentials) names the professional it acts for on each request.
Beside the plain `X-Mes-Professionnel` header (the structure vouches by its token alone), it may
send `X-Mes-Assertion`: a JWT signed with a key registered for that client (AssertionKey), in
which the structure states who acts, for this server, now, once:

| claim | required value |
|---|---|
| `iss` | the client's `client_id` (RFC 7523 §3: the issuer is the client) |
| `sub` | the professional's idNat: « 8 » + the 11 digits of the RPPS |
| `aud` | the FHIR base URL (`…/fhir/`, with or without its slash), alone or in a list |
| `exp`, `iat` | `exp` after now, `iat` not in the future, `exp - iat` at most 5 minutes |
| `jti` | unique: a second use of the same assertion is refused (replay) |
| `nbf` | optional, not in the future |

Signed with RS256/384/512, PS256/384/512 or ES256/384 (asymmetric only: the client's secret is
stored hashed, so no HMAC; `none` is refused); the JOSE header's `kid` picks the key. Clock
skew (MES_FHIR_ASSERTION_CLOCK_SKEW) is allowed on every time claim.

The same assertion is also accepted once at the token endpoint, as an RFC 7523 jwt-bearer grant
(mes/fhir/auth/jwt_bearer.py), `aud` then being the token endpoint: checked_assertion is the one
place of the rule for both doors, and a `jti` spent at one is a replay at the other.

Every refusal is 403 with a code a program can switch on (docs/fhir-api.md « Codes d'erreur ») and
is traced on the system chain as a refused connection of the structure (CONNEXION, REFUSE); at the
token endpoint it is `invalid_grant` (RFC 6749 §5.2), traced the same way.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from mes.access.actors import Actor, ActorKind
from mes.audit import trace
from mes.audit.models import TraceAction, TraceOutcome
from mes.fhir.core.outcome import FhirError, IssueCode
from mes.fhir.models import AssertionKey, FhirClient, UsedAssertion
from mes.identity.models import Organisation, Professional

ASSERTION_HEADER = "X-Mes-Assertion"
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
_IDNAT_PS = re.compile(r"^8(\d{11})$")
MAX_ASSERTION_LENGTH = 8192


class AssertionRefused(Exception):
    """Why an assertion is refused: a French message and its code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- registering a key (operators) -------------------------------------------------------------


def register_assertion_key(*, client: FhirClient, key_text: str, kid: str = "") -> AssertionKey:
    """Register the public key (PEM or JWK) a structure's server signs its assertions with.
    A private key is accepted but only its public part is stored. Raises ValueError for a
    client without structure, an unreadable or symmetric key, or a kid already used."""
    if client.organisation_id is None:
        raise ValueError(
            "Seul le serveur d'une structure (client credentials) signe des assertions."
        )
    text = key_text.strip()
    try:
        key = (
            jwk.JWK.from_json(text)
            if text.startswith("{")
            else jwk.JWK.from_pem(text.encode("utf-8"))
        )
    except (ValueError, TypeError, JWException) as error:
        raise ValueError(f"Clé illisible (PEM ou JWK attendu) : {error}") from None
    if key.get("kty") not in ("RSA", "EC"):
        raise ValueError("Seules les clés RSA et EC (asymétriques) sont acceptées.")
    public: dict[str, Any] = key.export_public(as_dict=True)
    kid = kid or public.get("kid") or key.thumbprint()
    public["kid"] = kid
    if AssertionKey.objects.filter(client=client, kid=kid).exists():
        raise ValueError(f"Ce client a déjà une clé « {kid} ».")
    return AssertionKey.objects.create(client=client, kid=kid, public_jwk=public)


# --- checking an assertion ---------------------------------------------------------------------


def _keys(client: FhirClient) -> jwk.JWKSet:
    keyset = jwk.JWKSet()
    for row in AssertionKey.objects.filter(client=client, revoked_at__isnull=True):
        keyset.add(jwk.JWK(**row.public_jwk))
    return keyset


def _verified_claims(raw: str, client: FhirClient) -> dict[str, Any]:
    if len(raw) > MAX_ASSERTION_LENGTH or raw.count(".") != 2:
        raise AssertionRefused(
            "ASSERTION_ILLISIBLE", "L'assertion doit être un JWT signé (JWS compact)."
        )
    token = jws.JWS()
    try:
        token.deserialize(raw)
        header = token.jose_header
    except (JWException, ValueError):
        raise AssertionRefused(
            "ASSERTION_ILLISIBLE", "L'assertion doit être un JWT signé (JWS compact)."
        ) from None
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        raise AssertionRefused(
            "ASSERTION_SIGNATURE",
            "Algorithme de signature refusé : " + ", ".join(ALGORITHMS) + " seulement.",
        )
    keyset = _keys(client)
    if not keyset["keys"]:
        raise AssertionRefused(
            "ASSERTION_SIGNATURE",
            "Aucune clé d'assertion n'est enregistrée pour ce client : faites enregistrer sa clé "
            "publique par l'opérateur.",
        )
    try:
        token.allowed_algs = list(ALGORITHMS)
        token.verify(keyset)
    except (JWException, ValueError, TypeError):
        raise AssertionRefused(
            "ASSERTION_SIGNATURE",
            "Signature de l'assertion invalide (ou clé inconnue pour ce client).",
        ) from None
    try:
        claims = json.loads(token.payload)
    except (ValueError, TypeError):
        claims = None
    if not isinstance(claims, dict):
        raise AssertionRefused(
            "ASSERTION_ILLISIBLE", "Le contenu de l'assertion n'est pas du JSON."
        )
    return claims


def _time(claims: dict[str, Any], name: str, required: bool = True) -> datetime | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AssertionRefused(
            "ASSERTION_INVALIDE",
            f"La revendication « {name} » est obligatoire (date NumericDate, en secondes).",
        )
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise AssertionRefused(
            "ASSERTION_INVALIDE", f"La revendication « {name} » n'est pas une date valide."
        ) from None


def _check_claims(claims: dict[str, Any], client: FhirClient, audiences: set[str]) -> None:
    if claims.get("iss") != client.application.client_id:
        raise AssertionRefused(
            "ASSERTION_EMETTEUR",
            "L'émetteur de l'assertion (iss) doit être le client_id du serveur de la structure.",
        )
    aud = claims.get("aud")
    given = {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
    if not given & audiences:
        raise AssertionRefused(
            "ASSERTION_AUDIENCE",
            "L'assertion n'est pas destinée à ce point d'accès : aud doit être "
            f"« {max(audiences, key=len)} ».",
        )
    now = timezone.now()
    skew: timedelta = settings.MES_FHIR_ASSERTION_CLOCK_SKEW
    exp, iat = _time(claims, "exp"), _time(claims, "iat")
    nbf = _time(claims, "nbf", required=False)
    assert exp is not None and iat is not None
    if exp <= now - skew:
        raise AssertionRefused("ASSERTION_EXPIREE", "L'assertion a expiré (exp).")
    if iat > now + skew or (nbf is not None and nbf > now + skew):
        raise AssertionRefused(
            "ASSERTION_INVALIDE", "L'assertion est datée dans le futur (iat ou nbf)."
        )
    limit: timedelta = settings.MES_FHIR_ASSERTION_MAX_LIFETIME
    if exp - iat > limit:
        raise AssertionRefused(
            "ASSERTION_INVALIDE",
            f"Une assertion vit au plus {int(limit.total_seconds() // 60)} minutes (exp - iat).",
        )
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 200:
        raise AssertionRefused(
            "ASSERTION_INVALIDE",
            "La revendication « jti » (identifiant unique, 200 caractères au plus) est "
            "obligatoire.",
        )


def _remember(client: FhirClient, jti: str, exp: datetime) -> None:
    """Record the jti until the assertion expires; a second presentation is a replay."""
    now = timezone.now()
    # Forgotten once expired (plus the skew): by then `exp` refuses the assertion anyway.
    UsedAssertion.objects.filter(
        client=client, expires_at__lt=now - settings.MES_FHIR_ASSERTION_CLOCK_SKEW
    ).delete()
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client=client, jti=jti, expires_at=exp)
    except IntegrityError:
        raise AssertionRefused(
            "ASSERTION_REJOUEE",
            "Cette assertion a déjà été présentée (jti) : signez-en une nouvelle par requête.",
        ) from None


def trace_refusal(
    client: FhirClient, organisation: Organisation, why: AssertionRefused, *, door: str = ""
) -> None:
    """A refused assertion, traced on the system chain (no dossier reached) as a refused
    connection of the structure, whichever door it came through (`door`: the header, or the
    token endpoint's jwt-bearer grant)."""
    trace.record(
        actor=Actor(
            kind=ActorKind.STRUCTURE,
            display_name=organisation.name,
            national_id=organisation.national_id,
            organisation_id=organisation.pk,
            organisation_name=organisation.name,
            software=client.software_label[:200],
        ),
        action=TraceAction.LOGIN,
        outcome=TraceOutcome.REFUSED,
        patient_id=None,
        reason=f"assertion du professionnel refusée{door} : {why.code}",
    )


def checked_assertion(
    raw: str, *, client: FhirClient, organisation: Organisation, audiences: set[str]
) -> Professional:
    """The professional a structure's server asserts in `raw`, checked: signature with a key
    registered for `client`, claims (`aud` one of `audiences`), membership of `organisation`,
    and its `jti` spent (a second presentation, through either door, is a replay). The one
    place of the rule for the header `X-Mes-Assertion` and the jwt-bearer grant (RFC 7523).
    Raises AssertionRefused (not traced: the caller traces with trace_refusal)."""
    claims = _verified_claims(raw.strip(), client)
    _check_claims(claims, client, audiences)
    match = _IDNAT_PS.match(str(claims.get("sub", "")))
    if match is None:
        raise AssertionRefused(
            "ASSERTION_INVALIDE",
            "Le sujet de l'assertion (sub) doit être l'identifiant national du "
            "professionnel : « 8 » suivi des 11 chiffres du RPPS.",
        )
    professional = (
        Professional.objects.select_related("organisation", "user")
        .filter(rpps=match.group(1), organisation=organisation)
        .first()
    )
    if professional is None or (professional.user and not professional.user.is_active):
        raise AssertionRefused(
            "PROFESSIONNEL_HORS_STRUCTURE",
            f"Ce professionnel n'est pas rattaché à la structure « {organisation.name} » : "
            "elle ne peut pas agir en son nom.",
        )
    exp = _time(claims, "exp")
    assert exp is not None
    _remember(client, claims["jti"], exp)
    return professional


def asserted_professional(
    request: HttpRequest, *, client: FhirClient, organisation: Organisation, audiences: set[str]
) -> Professional:
    """The professional a structure's server asserts in the X-Mes-Assertion header, checked
    (checked_assertion). Raises FhirError 403, traced."""
    try:
        return checked_assertion(
            request.headers.get(ASSERTION_HEADER, ""),
            client=client,
            organisation=organisation,
            audiences=audiences,
        )
    except AssertionRefused as why:
        trace_refusal(client, organisation, why)
        outsider = why.code == "PROFESSIONNEL_HORS_STRUCTURE"
        raise FhirError(
            403,
            IssueCode.FORBIDDEN if outsider else IssueCode.SECURITY,
            why.message,
            expression=ASSERTION_HEADER,
            detail=why.code,
        ) from None

"""What the DMP knows of each registered OAuth client (practice software or a structure's server).

A DOT `Application` only knows OAuth; the DMP also needs the software's name and version (the
VIHF `LPS_Nom` / `LPS_Version`, mes-spec §5.7: shown in every trace as `software`) and, for a
structure's server using client credentials, the structure that vouches for the professionals it
names on each request (VIHF `Authentification_Mode` INDIRECTE, `Identifiant_Structure`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings

from mes.identity.models import Organisation, Professional


class FhirClient(models.Model):
    """A registered client of the FHIR API.

    `organisation` empty: practice software (LPS) used by individual professionals, who sign in
    through the Web PS login (authorization code + PKCE). `organisation` set: the server of that
    structure, using client credentials and naming the acting professional on each request
    (header `X-Mes-Professionnel`); an Assurance Maladie organisation gets an insurer actor.
    """

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="fhir_client"
    )
    software_name = models.CharField("nom du logiciel (LPS_Nom)", max_length=100)
    software_version = models.CharField("version (LPS_Version)", max_length=40, blank=True)
    homologation_number = models.CharField(
        "numéro d'homologation DMP (LPS_ID_HOMOLOGATION_DMP)", max_length=40, blank=True
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fhir_clients",
        verbose_name="structure (client credentials)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "client de l'API FHIR"

    def __str__(self) -> str:
        return self.software_label

    @property
    def software_label(self) -> str:
        """`LPS_Nom LPS_Version`, as written in the traces."""
        return f"{self.software_name} {self.software_version}".strip()


@dataclass(frozen=True)
class RegisteredClient:
    client: FhirClient
    client_id: str
    client_secret: str  # in clear: shown once, stored hashed by django-oauth-toolkit


@transaction.atomic
def register_client(
    *,
    software_name: str,
    software_version: str = "",
    organisation: Organisation | None = None,
    redirect_uris: str = "",
    confidential: bool = True,
    homologation_number: str = "",
    client_id: str = "",
    client_secret: str = "",
) -> RegisteredClient:
    """Register practice software (authorization code + PKCE, `redirect_uris` required) or, with
    `organisation`, a structure's server (client credentials, confidential). Operator-only: no
    view calls this (command `python -m django fhir_client`, the demo loader, the tests).

    The secret is returned in clear once; the database keeps only its hash.
    """
    grant = (
        Application.GRANT_CLIENT_CREDENTIALS
        if organisation is not None
        else Application.GRANT_AUTHORIZATION_CODE
    )
    if organisation is None and not redirect_uris.strip():
        raise ValueError("Un logiciel de professionnel doit déclarer ses URI de redirection.")
    if organisation is not None:
        confidential = True
    from oauth2_provider.generators import generate_client_id, generate_client_secret

    secret = (client_secret or generate_client_secret()) if confidential else ""
    application = Application.objects.create(
        client_id=client_id or generate_client_id(),
        client_secret=secret,
        name=f"{software_name} {software_version}".strip(),
        client_type=(
            Application.CLIENT_CONFIDENTIAL if confidential else Application.CLIENT_PUBLIC
        ),
        authorization_grant_type=grant,
        redirect_uris=redirect_uris.strip(),
        algorithm=Application.RS256_ALGORITHM,
        # Operator-registered software: the professional is not asked again to approve it.
        skip_authorization=True,
    )
    client = FhirClient.objects.create(
        application=application,
        software_name=software_name,
        software_version=software_version,
        homologation_number=homologation_number,
        organisation=organisation,
    )
    return RegisteredClient(client=client, client_id=application.client_id, client_secret=secret)


class AssertionKey(models.Model):
    """A public key a structure's server signs its professional assertions with (RFC 7523
    style, mes/fhir/auth/assertion.py): registered by an operator, the private key never leaves the
    structure. Only the public part is stored (a JWK)."""

    client = models.ForeignKey(FhirClient, on_delete=models.CASCADE, related_name="assertion_keys")
    kid = models.CharField("identifiant de clé (kid)", max_length=100)
    public_jwk = models.JSONField("clé publique (JWK)")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "clé d'assertion d'un serveur de structure"
        constraints = [
            models.UniqueConstraint(fields=["client", "kid"], name="fhir_assertion_key_unique_kid")
        ]

    def __str__(self) -> str:
        return f"{self.client} / {self.kid}"


class UsedAssertion(models.Model):
    """An assertion already presented (its `jti`), kept until it expires: a second use of the
    same assertion is a replay, refused (RFC 7523 §3 item 7)."""

    client = models.ForeignKey(FhirClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=200)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "assertion déjà utilisée"
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="fhir_assertion_unique_jti")
        ]


class AssertedToken(models.Model):
    """An access token a structure's server obtained with the jwt-bearer grant (RFC 7523,
    mes/fhir/auth/jwt_bearer.py): bound to the professional its signed assertion named, who acts in
    every request made with it exactly as if each request named them in X-Mes-Professionnel
    (indirect authentication by the structure). Goes with the token (revoked: deleted)."""

    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        on_delete=models.CASCADE,
        related_name="asserted_professional",
    )
    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="asserted_tokens"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "jeton lié à un professionnel par assertion"

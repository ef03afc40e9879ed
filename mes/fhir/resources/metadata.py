"""Discovery: the CapabilityStatement (`/fhir/metadata`) and the SMART configuration.

Both are public (SMART App Launch and FHIR clients read them before they have a token). The
CapabilityStatement lists exactly what this server answers; a test walks the FHIR URLs against it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from oauth2_provider.settings import oauth2_settings

from mes.fhir.auth import scopes as smart_scopes
from mes.fhir.core.access import (
    ACTING_PROFESSIONAL_HEADER,
    JUSTIFICATION_HEADER,
    MODE_HEADER,
    SCOPE_BINARY_READ,
    SCOPE_CONSENT_WRITE,
    SCOPE_DOCUMENT_READ,
    SCOPE_DOCUMENT_WRITE,
    SCOPE_IMMUNIZATION_READ,
    SCOPE_IMMUNIZATION_WRITE,
    SCOPE_PATIENT_READ,
    SCOPE_RELATED_PERSON_READ,
    fhir_public,
)
from mes.fhir.core.outcome import fhir_response, not_supported

# Canonical base of the definitions this API publishes (extensions, operations): fixed, so that
# clients recognise them whatever the deployment's host name.
CANONICAL_BASE = "urn:mes:fhir"
EXT_DMP_STATUS = f"{CANONICAL_BASE}:StructureDefinition:dmp-status"
OP_DECLARE_CONSENT = f"{CANONICAL_BASE}:OperationDefinition:Patient-declarer-consentement"
OP_WITHDRAW_CONSENT = f"{CANONICAL_BASE}:OperationDefinition:Patient-retirer-consentement"
OP_CONFIRM_VACCINATION = f"{CANONICAL_BASE}:OperationDefinition:Immunization-confirmer"
# Immunization: who confirmed a vaccination the citizen recorded, and when (sub-extensions
# confirmedBy: Reference with the idNat, confirmedAt: dateTime).
EXT_VACCINATION_CONFIRMATION = f"{CANONICAL_BASE}:StructureDefinition:vaccination-confirmation"
# RelatedPerson: true for the personne de confiance (CSP L1111-6), always present.
EXT_TRUSTED_PERSON = f"{CANONICAL_BASE}:StructureDefinition:personne-de-confiance"
# Date of the last change to what this statement declares.
CAPABILITY_DATE = "2026-11-24"

SMART_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
MHD_RESPONDER = "https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentResponder"
MHD_RECIPIENT = "https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentRecipient"


def _software_version() -> str:
    try:
        return version("mes")
    except PackageNotFoundError:
        return "0"


def _abs(request: HttpRequest, name: str) -> str:
    return request.build_absolute_uri(reverse(name))


def _oauth_uris(request: HttpRequest) -> dict[str, str]:
    return {
        "authorize": _abs(request, "oauth2_provider:authorize"),
        "token": _abs(request, "oauth2_provider:token"),
        "revoke": _abs(request, "oauth2_provider:revoke-token"),
        "introspect": _abs(request, "oauth2_provider:introspect"),
    }


def _param(name: str, type_: str, doc: str) -> dict[str, str]:
    return {"name": name, "type": type_, "documentation": doc}


_DOCUMENT_SEARCH_PARAMS = [
    _param("patient", "reference", "Patient (Patient/<id>). patient ou patient.identifier requis."),
    _param("patient.identifier", "token", "INS du patient : urn:oid:1.2.250.1.213.1.4.8|<NIR>."),
    _param("status", "token", "current | superseded (requis)."),
    _param("_id", "token", "Identifiant logique du DocumentReference."),
    _param("_lastUpdated", "date", "Date de dépôt (comme date)."),
    _param("category", "token", "Classe du document (TRE_A03)."),
    _param("type", "token", "Type du document (JDV_J07, LOINC)."),
    _param("date", "date", "Date de dépôt."),
    _param("creation", "date", "Date de création du document (attachment.creation)."),
    _param("author.given", "string", "Prénom de l'auteur."),
    _param("author.family", "string", "Nom de l'auteur."),
    _param("format", "token", "Format du document (JDV_J60)."),
    _param("security-label", "token", "Visibilité (JDV_J58)."),
    _param("setting", "token", "Cadre d'exercice (practiceSetting)."),
    _param("period", "date", "Date des actes (context.period)."),
    _param("facility", "token", "Type de structure (facilityType)."),
    _param(
        "event",
        "token",
        "Codes d'événement (context.event, eventCodeList) : system|code, |code ou code.",
    ),
    _param(
        "related",
        "reference",
        "Identifiants associés (context.related, referenceIdList), par la valeur de "
        "l'identifiant ; aussi related:identifier et related.identifier. Autre chaînage : 400.",
    ),
    _param("identifier", "token", "Identifiant du document (uniqueId, entryUUID)."),
    _param("isArchived", "token", "PDSm : true pour les seuls documents archivés."),
    _param("_count", "number", "Taille de page (20 par défaut, 100 au plus ; liens next)."),
    _param("_offset", "number", "Position de la page (curseur des liens next / previous)."),
    _param("_sort", "special", "date, period, creation, ou -… (décroissant) ; défaut -date."),
]

_PATIENT_PARAMS = [
    _param("patient", "reference", "Patient (Patient/<id>). patient ou patient.identifier requis."),
    _param("patient.identifier", "token", "INS du patient : urn:oid:1.2.250.1.213.1.4.8|<NIR>."),
]

_IMMUNIZATION_SEARCH_PARAMS = [
    *_PATIENT_PARAMS,
    _param("date", "date", "Date de la vaccination (occurrenceDateTime)."),
    _param(
        "vaccine-code",
        "token",
        "Vaccin : code de la liste des vaccins (urn:mes:codesystem:vaccins) ou code ATC.",
    ),
]

_RELATED_PERSON_SEARCH_PARAMS = [
    *_PATIENT_PARAMS,
    _param(
        "relationship",
        "token",
        "Lien (HL7 v3 RoleCode : MTH, FTH, CHILD, SIGOTHR, GUARD ; v2-0131 : O) ou rôle (ECON / "
        "C contact d'urgence, NOK personne de confiance, CAREGIVER aidant, PAT aidé).",
    ),
]


def capability_statement(request: HttpRequest) -> dict[str, Any]:
    base = request.build_absolute_uri("/fhir")
    uris = _oauth_uris(request)
    scopes = oauth2_settings.SCOPES
    return {
        "resourceType": "CapabilityStatement",
        "id": "mes-dmp",
        "url": f"{base}/metadata",
        "version": _software_version(),
        "name": "MesDmpFhirApi",
        "title": "API FHIR du Dossier Médical Partagé (Mon espace santé)",
        "status": "active",
        "date": CAPABILITY_DATE,
        "publisher": "Mon espace santé – logiciel libre auto-hébergeable",
        "description": (
            "Accès des professionnels de santé au DMP : recherche du patient par INS, "
            "autorisation d'accès du professionnel, documents selon IHE MHD (ITI-65, ITI-67, "
            "ITI-68), vaccinations (Immunization) et entourage (RelatedPerson). Chaque appel "
            "est tracé et visible par le patient."
        ),
        "kind": "instance",
        "instantiates": [MHD_RESPONDER, MHD_RECIPIENT],
        "software": {"name": "mes", "version": _software_version()},
        "implementation": {"description": "Mon espace santé – DMP", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json", "application/fhir+xml", "xml"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"Chaque requête porte un jeton OAuth 2.0 (Authorization: Bearer). "
                    f"En-têtes : {MODE_HEADER} (normal | bris_de_glace | centre_15, défaut "
                    f"normal), {JUSTIFICATION_HEADER} (UTF-8 encodé en pourcentage, obligatoire "
                    f"en bris de glace), {ACTING_PROFESSIONAL_HEADER} (« 8 » + RPPS, pour un "
                    "serveur de structure en client credentials). JSON et XML FHIR "
                    "(application/fhir+json, application/fhir+xml), choisis par _format, puis "
                    "Accept, puis le Content-Type de la requête ; un autre _format reçoit 406, "
                    "un corps d'un autre type 415. Erreurs : OperationOutcome, dans le format "
                    "négocié."
                ),
                "security": {
                    "cors": True,  # for the origins of registered browser apps (core/cors.py)
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": (
                                        "http://terminology.hl7.org/CodeSystem/"
                                        "restful-security-service"
                                    ),
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "OAuth 2.0 / OpenID Connect : authorization code + PKCE (S256) pour un "
                        "professionnel connecté à l'espace professionnel ; client credentials "
                        "pour le serveur d'une structure, ou assertion signée du professionnel "
                        "qui agit échangée contre un jeton lié à lui (RFC 7523, "
                        "urn:ietf:params:oauth:grant-type:jwt-bearer). Portées : "
                        + "; ".join(f"{name} ({label})" for name, label in scopes.items())
                    ),
                    "extension": [
                        {
                            "url": SMART_OAUTH_URIS,
                            "extension": [
                                {"url": key, "valueUri": value} for key, value in uris.items()
                            ],
                        }
                    ],
                },
                "resource": [
                    {
                        "type": "Patient",
                        "documentation": (
                            f"Portée {SCOPE_PATIENT_READ}. Recherche par INS ; l'extension "
                            f"{EXT_DMP_STATUS} donne l'état du DMP et de l'autorisation du "
                            "professionnel (TD0.2)."
                        ),
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            _param(
                                "identifier",
                                "token",
                                "INS : urn:oid:1.2.250.1.213.1.4.8|<NIR> ou "
                                "urn:oid:1.2.250.1.213.1.4.9|<NIA> (requis).",
                            )
                        ],
                        "operation": [
                            {
                                "name": "declarer-consentement",
                                "definition": OP_DECLARE_CONSENT,
                                "documentation": (
                                    f"Portée {SCOPE_CONSENT_WRITE}. POST Parameters "
                                    "(medecinTraitant: boolean) : le professionnel déclare avoir "
                                    "recueilli le consentement du patient (TD0.3)."
                                ),
                            },
                            {
                                "name": "retirer-consentement",
                                "definition": OP_WITHDRAW_CONSENT,
                                "documentation": (
                                    f"Portée {SCOPE_CONSENT_WRITE}. POST : le professionnel "
                                    "retire sa propre autorisation (TD0.3)."
                                ),
                            },
                        ],
                    },
                    {
                        "type": "DocumentReference",
                        "profile": (
                            "https://profiles.ihe.net/ITI/MHD/StructureDefinition/"
                            "IHE.MHD.Minimal.DocumentReference"
                        ),
                        "documentation": (
                            f"Portées {SCOPE_DOCUMENT_READ} (lecture, ITI-67 en GET et POST "
                            f"_search) et {SCOPE_DOCUMENT_WRITE} (dépôt ITI-65 ; PATCH et DELETE "
                            "par l'auteur : masquage aux professionnels, archivage, remise au "
                            "patient, suppression)."
                        ),
                        "interaction": [
                            {"code": "read"},
                            {"code": "search-type"},
                            {"code": "patch"},
                            {"code": "delete"},
                        ],
                        "searchParam": _DOCUMENT_SEARCH_PARAMS,
                    },
                    {
                        "type": "Binary",
                        "documentation": f"Portée {SCOPE_BINARY_READ}. ITI-68 : contenu brut.",
                        "interaction": [{"code": "read"}],
                    },
                    {
                        "type": "Immunization",
                        "documentation": (
                            f"Portées {SCOPE_IMMUNIZATION_READ} (le carnet de vaccination, si la "
                            f"profession peut lire une note de vaccination) et "
                            f"{SCOPE_IMMUNIZATION_WRITE} (enregistrer une vaccination : elle est "
                            "en lecture seule pour l'usager, qui est notifié). L'extension "
                            f"{EXT_VACCINATION_CONFIRMATION} dit qui a confirmé une vaccination "
                            "saisie par l'usager."
                        ),
                        "interaction": [
                            {"code": "read"},
                            {"code": "search-type"},
                            {"code": "create"},
                        ],
                        "searchParam": _IMMUNIZATION_SEARCH_PARAMS,
                        "operation": [
                            {
                                "name": "confirmer",
                                "definition": OP_CONFIRM_VACCINATION,
                                "documentation": (
                                    f"Portée {SCOPE_IMMUNIZATION_WRITE}. POST sans corps : le "
                                    "professionnel confirme une vaccination saisie par l'usager, "
                                    "qui devient non modifiable par lui."
                                ),
                            }
                        ],
                    },
                    {
                        "type": "RelatedPerson",
                        "documentation": (
                            f"Portée {SCOPE_RELATED_PERSON_READ}. « Entourage et volontés » : "
                            "contacts d'urgence, personne de confiance (extension "
                            f"{EXT_TRUSTED_PERSON}), aidants. Les directives anticipées sont "
                            "des documents EXPPAT_3 (ITI-67)."
                        ),
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": _RELATED_PERSON_SEARCH_PARAMS,
                    },
                    _appointment_capability(),  # agenda (issue 10)
                    {
                        "type": "ExplanationOfBenefit",
                        "documentation": (
                            "Portée user/ExplanationOfBenefit.read. « Mon histoire de santé » : "
                            "les soins remboursés par l'Assurance Maladie, selon la matrice "
                            "d'habilitations et le choix de confidentialité du patient."
                        ),
                        "interaction": [{"code": "search-type"}],
                        "searchParam": _PATIENT_PARAMS,
                    },
                ],
                "interaction": [
                    {
                        "code": "transaction",
                        "documentation": (
                            f"ITI-65 Provide Document Bundle (portée {SCOPE_DOCUMENT_WRITE}) : "
                            "atomique."
                        ),
                    }
                ],
            }
        ],
    }


def _appointment_capability() -> dict[str, Any]:
    from .appointment import CAPABILITY

    return CAPABILITY


@fhir_public
def metadata(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return not_supported("Seule la lecture (GET) est possible.", status=405, allow="GET")
    return fhir_response(capability_statement(request))


@fhir_public
def smart_configuration(request: HttpRequest) -> HttpResponse:
    """SMART App Launch `/.well-known/smart-configuration` (plain JSON, not a FHIR resource)."""
    uris = _oauth_uris(request)
    data = {
        "issuer": oauth2_settings.oidc_issuer(request),
        "jwks_uri": _abs(request, "oauth2_provider:jwks-info"),
        "authorization_endpoint": uris["authorize"],
        "token_endpoint": uris["token"],
        "revocation_endpoint": uris["revoke"],
        "introspection_endpoint": uris["introspect"],
        "userinfo_endpoint": _abs(request, "oauth2_provider:user-info"),
        # The same list as both discovery documents (mes.fhir.auth.oauth._honest).
        "grant_types_supported": list(oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED),
        "token_endpoint_auth_methods_supported": (
            oauth2_settings.OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED
        ),
        "response_types_supported": ["code"],
        "scopes_supported": smart_scopes.supported(),
        "code_challenge_methods_supported": ["S256"],
        # Only what is offered: no EHR launch, no patient scopes (yet), no fhirUser claim.
        "capabilities": [
            "client-public",
            "client-confidential-symmetric",
            "sso-openid-connect",
            "launch-standalone",
            "permission-offline",
            "permission-user",
            "permission-v1",
            "permission-v2",
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@fhir_public
def unknown_endpoint(request: HttpRequest, path: str = "") -> HttpResponse:
    """Anything under /fhir/ that this server does not offer: an OperationOutcome, never HTML."""
    return not_supported(
        "Cette ressource ou cette interaction n'est pas prise en charge : voir /fhir/metadata."
    )

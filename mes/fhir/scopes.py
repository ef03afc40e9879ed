"""SMART App Launch scopes, v1 and v2 syntax (issue 12 §2; docs/fhir-api.md « Portées »).

A scope names a context, a resource type and permissions:

| syntax | example | permissions |
|---|---|---|
| v1 | `user/DocumentReference.read`, `system/*.write` | read = r s, write = c u d, * = all |
| v2 | `user/DocumentReference.rs`, `user/*.cruds` | the letters, in the order c r u d s |

Contexts: `user` (the professional who signed in) and `system` (a structure's server acting for
the professional it names) reach what the actor may reach, decided per request by
mes/access; they are equivalent here because every request acts for one identified professional.
`patient/` scopes belong to the future catalogue of patient apps: understood (parsed) but granted
to no client today — `grantable` is where that layer plugs in.

Each endpoint requires scopes in v1 form (`@fhir_endpoint(scopes=[...])`, the names in
settings.OAUTH2_PROVIDER["SCOPES"]); `grants(token_scopes, required)` says whether a token's
scopes, in either syntax, cover one of them.

A client asking for more than it may have gets the subset it may have (RFC 6749 §3.3: the
token response then carries `scope`): unknown scopes, launch contexts (no EHR launch here),
`fhirUser` (no Practitioner endpoint to point at), `patient/…` scopes, read scopes for an
Assurance Maladie client, `offline_access` for client credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from oauth2_provider.scopes import SettingsScopes
from oauth2_provider.settings import oauth2_settings

V1_PERMISSIONS = {"read": frozenset("rs"), "write": frozenset("cud"), "*": frozenset("cruds")}
_SCOPE = re.compile(
    r"^(?P<context>user|system|patient)/(?P<resource>\*|[A-Z][A-Za-z]{1,63})"
    r"\.(?P<permissions>read|write|\*|c?r?u?d?s?)(?:\?[^\s]*)?$",
    re.ASCII,
)
# Identity and session scopes this server understands.
OPENID = "openid"
PROFILE = "profile"
OFFLINE = "offline_access"
IDENTITY_SCOPES = (OPENID, PROFILE)
# Understood, never granted (said by their absence from the token response's `scope`).
NOT_GRANTED = ("fhirUser", "launch", "launch/patient", "launch/encounter", "online_access")


@dataclass(frozen=True)
class Scope:
    context: str  # user | system | patient
    resource: str  # a resource type or « * »
    permissions: frozenset[str]  # letters of c r u d s
    query: bool  # v2 « ?param=value » restriction (not supported: never granted)

    def covers(self, other: Scope) -> bool:
        return (
            self.resource in ("*", other.resource)
            and other.permissions <= self.permissions
            and not self.query
        )


def parse(raw: str) -> Scope | None:
    """The clinical scope `raw` names, or None (identity scopes, unknown text)."""
    m = _SCOPE.match(raw)
    if m is None or not m["permissions"]:
        return None
    permissions = V1_PERMISSIONS.get(m["permissions"], frozenset(m["permissions"]))
    return Scope(m["context"], m["resource"], permissions, "?" in raw)


def _professional_scopes(scopes: Iterable[str]) -> Iterator[Scope]:
    for raw in scopes:
        scope = parse(raw)
        if scope is not None and scope.context in ("user", "system"):
            yield scope


def grants(token_scopes: str | Iterable[str], required: str) -> bool:
    """Whether a token's scopes cover the v1 scope an endpoint requires."""
    owned = token_scopes.split() if isinstance(token_scopes, str) else list(token_scopes)
    if required in owned:
        return True
    wanted = parse(required)
    if wanted is None:
        return False
    return any(scope.covers(wanted) for scope in _professional_scopes(owned))


def _known_resources() -> set[str]:
    return {scope.resource for name in oauth2_settings.SCOPES if (scope := parse(name)) is not None}


def grantable(requested: Iterable[str], *, client_credentials: bool, insurer: bool) -> list[str]:
    """The subset of `requested` this client may have (order kept, duplicates dropped).

    A future catalogue of patient apps adds its rule here (patient/ scopes for an app the
    citizen approved)."""
    resources = _known_resources()
    granted: list[str] = []
    for raw in dict.fromkeys(requested):
        if raw in IDENTITY_SCOPES:
            ok = not client_credentials  # no one signs in: no identity to tell
        elif raw == OFFLINE:
            ok = not client_credentials  # a refresh token only follows a signed-in professional
        else:
            scope = parse(raw)
            ok = (
                scope is not None
                and scope.context in ("user", "system")
                and not scope.query
                and (scope.resource == "*" or scope.resource in resources)
                and not (insurer and scope.permissions & {"r", "s"})
            )
        if ok:
            granted.append(raw)
    return granted


class _Descriptions(Mapping[str, str]):
    """Every scope's French description, for the consent page (DOT's `get_all_scopes`)."""

    VERBS = {"c": "créer", "r": "lire", "u": "modifier", "d": "supprimer", "s": "rechercher"}

    def __getitem__(self, name: str) -> str:
        described: Mapping[str, str] = oauth2_settings.SCOPES
        if name in described:
            return described[name]
        if name == OFFLINE:
            return "Rester connecté (jeton de renouvellement)"
        scope = parse(name)
        if scope is None:
            raise KeyError(name)
        what = "toutes les ressources" if scope.resource == "*" else scope.resource
        verbs = ", ".join(v for k, v in self.VERBS.items() if k in scope.permissions)
        return f"{verbs.capitalize()} : {what} (selon vos droits sur chaque dossier)"

    def __iter__(self) -> Iterator[str]:
        return iter(oauth2_settings.SCOPES)

    def __len__(self) -> int:
        return len(oauth2_settings.SCOPES)


class SmartScopes(SettingsScopes):
    """django-oauth-toolkit's scopes backend, knowing the SMART syntaxes (SCOPES_BACKEND_CLASS)."""

    def get_all_scopes(self) -> Any:
        return _Descriptions()


def supported() -> list[str]:
    """What `/.well-known/smart-configuration` advertises in `scopes_supported`."""
    clinical = sorted(set(oauth2_settings.SCOPES) - set(IDENTITY_SCOPES))
    return [
        *IDENTITY_SCOPES,
        OFFLINE,
        *clinical,
        *(name.replace("user/", "system/", 1) for name in clinical),
        "user/*.read",
        "user/*.rs",
        "system/*.read",
        "system/*.rs",
    ]

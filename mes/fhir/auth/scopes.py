"""SMART App Launch scopes, v1 and v2 syntax (issue 12 §2; docs/fhir-api.md « Portées »).

A scope names a context, a resource type and permissions:

| syntax | example | permissions |
|---|---|---|
| v1 | `user/DocumentReference.read`, `system/*.write` | read = r s, write = c u d, * = all |
| v2 | `user/DocumentReference.rs`, `user/*.cruds` | the letters, in the order c r u d s |

Contexts: `user` (the professional who signed in) and `system` (a structure's server acting for
the professional it names) reach what the actor may reach, decided per request by
mes/access; they are equivalent here because every request acts for one identified professional.
`patient/` scopes (and the per-domain names `mesures.write`...) belong to the catalogue's
services: `grantable_for_service` narrows them to the purposes the citizen consented to.

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
    """The subset of `requested` a professional's client may have (order kept, duplicates
    dropped). A catalogue service's client is answered by `grantable_for_service`."""
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


# --- Catalogue services (mes-spec §8.2; docs/fhir-api.md « API des services ») ---------------
# A paired service's scopes name its data categories: the SMART `patient/` scopes by resource,
# or the per-domain names of mes-spec §8.2. A scope is granted only within the purposes the
# citizen consented to (category, action), and narrowed to them when it asks for more.
READ, WRITE = "lecture", "ecriture"
RESOURCE_CATEGORY = {
    "Observation": "mesures",
    "DocumentReference": "documents",
    "Binary": "documents",
    "Appointment": "agenda",
}
DOMAIN_SCOPES = {
    "mesures.read": ("mesures", READ),
    "mesures.write": ("mesures", WRITE),
    "documents.read": ("documents", READ),
    "documents.write": ("documents", WRITE),
    "agenda.read": ("agenda", READ),
    "agenda.write": ("agenda", WRITE),
    "profil.read": ("profil", READ),
}
LAUNCH_PATIENT = "launch/patient"
_ACTION_LETTERS = {READ: "rs", WRITE: "cud"}


def _letters_for(category: str, exchanges: frozenset[tuple[str, str]]) -> set[str]:
    return {
        letter
        for action, letters in _ACTION_LETTERS.items()
        if (category, action) in exchanges
        for letter in letters
    }


def _patient_scope_text(resource: str, letters: set[str], v1: bool) -> str:
    if v1:
        has_read, has_write = bool(letters & {"r", "s"}), bool(letters & {"c", "u", "d"})
        verb = "*" if has_read and has_write else ("read" if has_read else "write")
        return f"patient/{resource}.{verb}"
    return f"patient/{resource}." + "".join(c for c in "cruds" if c in letters)


def _narrowed(scope: Scope, raw: str, exchanges: frozenset[tuple[str, str]]) -> list[str]:
    """The patient/ scopes within the consented exchanges that `scope` asked for (several when
    it named « * »), in the syntax it used."""
    v1 = raw.rsplit(".", 1)[1] in V1_PERMISSIONS
    resources = list(RESOURCE_CATEGORY) if scope.resource == "*" else [scope.resource]
    out = []
    for resource in resources:
        category = RESOURCE_CATEGORY.get(resource)
        if category is None:
            continue
        letters = set(scope.permissions) & _letters_for(category, exchanges)
        if v1:
            # v1 has no « search only »: keep whole verbs the consent covers.
            if not {"r", "s"} <= letters:
                letters -= {"r", "s"}
            if not {"c", "u", "d"} <= letters:
                letters -= {"c", "u", "d"}
        if letters:
            out.append(_patient_scope_text(resource, letters, v1))
    return out


def grantable_for_service(
    requested: Iterable[str], exchanges: frozenset[tuple[str, str]]
) -> list[str]:
    """What a catalogue service's client may have of `requested`, given the (category, action)
    pairs it may exchange: at the authorization request, those of all its purposes; once the
    citizen consented, those of the purposes consented. Identity scopes are not granted (the
    service learns the espace's id, never the citizen's identity); `offline_access` and
    `launch/patient` are."""
    granted: list[str] = []
    for raw in dict.fromkeys(requested):
        if raw in (OFFLINE, LAUNCH_PATIENT):
            granted.append(raw)
            continue
        if raw in DOMAIN_SCOPES:
            if DOMAIN_SCOPES[raw] in exchanges:
                granted.append(raw)
            continue
        scope = parse(raw)
        if scope is None or scope.context != "patient" or scope.query:
            continue
        granted.extend(s for s in _narrowed(scope, raw, exchanges) if s not in granted)
    return granted


def covers_exchange(token_scopes: str, category: str, action: str) -> bool:
    """Whether a service's token carries a scope for this (category, action)."""
    wanted = set(_ACTION_LETTERS[action][:1])  # r for reading, c for writing
    for raw in token_scopes.split():
        if DOMAIN_SCOPES.get(raw) == (category, action):
            return True
        scope = parse(raw)
        if scope is None or scope.context != "patient":
            continue
        resources = RESOURCE_CATEGORY if scope.resource == "*" else [scope.resource]
        if any(RESOURCE_CATEGORY.get(r) == category for r in resources) and (
            wanted <= scope.permissions
        ):
            return True
    return False


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

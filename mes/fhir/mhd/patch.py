"""What a PATCH of a DocumentReference asks for (PDSm « Flux 03 », mes-spec §4.8 TD3.3).

The ANS guide restricts the update of a document's metadata to `status`, `securityLabel` and the
extensions PDSm_isArchived / PDSm_isDeleted, sent as a JSON Patch (RFC 6902) or a FHIRPath Patch
(a Parameters resource, as MHD uses to supersede in ITI-65). Both are applied here to the
DocumentReference as the actor sees it, and the difference is read as one or more of the DMP's
operations:

| change | operation (mes.records) |
|---|---|
| securityLabel MASQUE_PS added / removed | document_set_masked (TD3.3 visibility) |
| securityLabel INVISIBLE_PATIENT removed | document_release_to_patient (consultation d'annonce) |
| PDSm_isArchived true / false | document_set_archived (TD3.3 Approved ↔ Archived) |
| PDSm_isDeleted true with status superseded | document_delete (TD3.3 deleteDocument) |
| status superseded alone | only inside an ITI-65 replacement (the new version is in the bundle) |

Anything else is refused: another element (405, as PDSm says), or a change the DMP does not
make afterwards (422: hiding from the patient or the representatives after the deposit).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from mes.fhir.core.outcome import FhirError, IssueCode

from . import systems

ALLOWED_TOP = {"status", "securityLabel", "extension"}
EXTENSIONS = {
    systems.PDSM_IS_ARCHIVED: "archived",
    systems.PDSM_IS_ARCHIVED_OLD: "archived",
    systems.PDSM_IS_DELETED: "deleted",
}


@dataclass(frozen=True)
class PatchIntent:
    masked: bool | None = None
    release_to_patient: bool = False
    archived: bool | None = None
    deleted: bool = False
    superseded: bool = False

    @property
    def empty(self) -> bool:
        return self == PatchIntent()


# issue-type codes the shared IssueCode enum does not list.
BUSINESS_RULE = "business-rule"


def _error(
    message: str, *, status: int = 422, code: IssueCode | str = IssueCode.INVALID
) -> FhirError:
    return FhirError(status, code, message)


# --- JSON Patch (RFC 6902) ------------------------------------------------------------------


# An array index in a JSON Pointer (RFC 6901 §4): ASCII digits, no leading zero. str.isdigit
# would take « ١ » or « ² », which int() reads differently or not at all.
_INDEX = re.compile(r"0|[1-9][0-9]{0,8}")


def _index(key: str) -> int | None:
    return int(key) if _INDEX.fullmatch(key) else None


def _pointer(path: str) -> list[str]:
    if path == "":
        raise _error("Chemin JSON Pointer vide : le document entier ne se modifie pas.", status=405)
    if not path.startswith("/"):
        raise _error(f"Chemin JSON Pointer invalide : « {path} ».")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> tuple[Any, str]:
    """The container of the target and the last key."""
    node = doc
    for part in parts[:-1]:
        if isinstance(node, list):
            n = _index(part)
            if n is None or n >= len(node):
                raise _error(f"Chemin introuvable : /{'/'.join(parts)}.")
            node = node[n]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise _error(f"Chemin introuvable : /{'/'.join(parts)}.")
    return node, parts[-1]


def _get(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return doc
    node, key = _walk(doc, parts)
    if isinstance(node, list):
        n = _index(key)
        if n is None or n >= len(node):
            raise _error(f"Chemin introuvable : /{'/'.join(parts)}.")
        return node[n]
    if not isinstance(node, dict) or key not in node:
        raise _error(f"Chemin introuvable : /{'/'.join(parts)}.")
    return node[key]


def _add(doc: Any, parts: list[str], value: Any) -> None:
    if not parts:
        raise _error("Le document entier ne peut pas être remplacé.", status=405)
    node, key = _walk(doc, parts)
    if isinstance(node, list):
        if key == "-":
            node.append(value)
        elif (n := _index(key)) is not None and n <= len(node):
            node.insert(n, value)
        else:
            raise _error(f"Index invalide : /{'/'.join(parts)}.")
    elif isinstance(node, dict):
        node[key] = value
    else:
        raise _error(f"Chemin introuvable : /{'/'.join(parts)}.")


def _remove(doc: Any, parts: list[str]) -> None:
    _get(doc, parts)
    node, key = _walk(doc, parts)
    if isinstance(node, list):
        del node[int(key)]  # _get checked it is an index
    else:
        del node[key]


def apply_json_patch(resource: dict[str, Any], operations: Any) -> dict[str, Any]:
    """RFC 6902 (add, remove, replace, test; move and copy are not needed here) on a copy."""
    if not isinstance(operations, list):
        raise _error("Un JSON Patch est un tableau d'opérations.", code=IssueCode.STRUCTURE)
    doc = copy.deepcopy(resource)
    for i, op in enumerate(operations):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise _error(f"Opération {i} : « op » et « path » sont obligatoires.")
        parts = _pointer(str(op["path"]))
        kind = op["op"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise _error(f"Opération {i} ({kind}) : « value » est obligatoire.")
        if kind == "add":
            _add(doc, parts, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            _get(doc, parts)
            node, key = _walk(doc, parts)
            if isinstance(node, list):
                node[int(key)] = copy.deepcopy(op["value"])  # _get checked the index
            else:
                node[key] = copy.deepcopy(op["value"])
        elif kind == "test":
            if _get(doc, parts) != op["value"]:
                # RFC 6902 §4.6: a failed test cancels the whole patch (PDSm: 422).
                raise _error(
                    f"Test échoué sur {op['path']} : la fiche a changé, relisez-la.",
                    code=IssueCode.CONFLICT,
                )
        else:
            raise _error(
                f"Opération JSON Patch non prise en charge : « {kind} ».",
                code=IssueCode.NOT_SUPPORTED,
            )
    return doc


# --- FHIRPath Patch (Parameters) --------------------------------------------------------------

_LABEL_WHERE = re.compile(
    r"^DocumentReference\.securityLabel\.where\(\s*coding\.(?:code\s*=\s*'([^']+)'|"
    r"where\(\s*code\s*=\s*'([^']+)'\s*\)\.exists\(\))\s*\)$"
)
_EXT_VALUE = re.compile(
    r"^DocumentReference\.extension\.where\(\s*url\s*=\s*'([^']+)'\s*\)(?:\.value(?:Boolean)?)?$"
)


def _part(parameter: dict[str, Any], name: str) -> dict[str, Any] | None:
    for part in parameter.get("part") or []:
        if part.get("name") == name:
            return dict(part)
    return None


def _value_of(part: dict[str, Any] | None) -> Any:
    if part is None:
        return None
    for key, value in part.items():
        if key.startswith("value"):
            return value
    return None


def _label_code(label: Any) -> str:
    for c in (label or {}).get("coding") or []:
        if c.get("code"):
            return str(c["code"])
    return ""


def apply_fhirpath_patch(resource: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """The FHIRPath Patch forms that touch status, securityLabel and the PDSm extensions."""
    if parameters.get("resourceType") != "Parameters":
        raise _error("Un FHIRPath Patch est une ressource Parameters.", code=IssueCode.STRUCTURE)
    doc = copy.deepcopy(resource)
    for i, op in enumerate(parameters.get("parameter") or []):
        if op.get("name") != "operation":
            raise _error(f"Paramètre {i} : seules les « operation » sont attendues.")
        kind = _value_of(_part(op, "type"))
        path = str(_value_of(_part(op, "path")) or "").strip()
        name = _value_of(_part(op, "name"))
        value = _value_of(_part(op, "value"))
        label = _LABEL_WHERE.match(path)
        ext = _EXT_VALUE.match(path)
        if kind == "replace" and path == "DocumentReference.status":
            doc["status"] = value
        elif kind == "add" and path == "DocumentReference" and name == "securityLabel":
            doc.setdefault("securityLabel", []).append(value)
        elif kind == "delete" and label:
            code = label.group(1) or label.group(2)
            doc["securityLabel"] = [
                x for x in doc.get("securityLabel", []) if _label_code(x) != code
            ]
        elif kind == "add" and path == "DocumentReference" and name == "extension":
            doc.setdefault("extension", []).append(value)
        elif kind == "replace" and ext:
            found = [x for x in doc.get("extension", []) if x.get("url") == ext.group(1)]
            if not found:
                raise _error(f"Extension absente de la fiche : {ext.group(1)}.")
            for x in found:
                x["valueBoolean"] = value
        elif kind in ("add", "replace", "delete", "insert", "move"):
            raise _error(
                f"Opération {i} : seuls status, securityLabel et les extensions PDSm_isArchived "
                "et PDSm_isDeleted se modifient.",
                status=405,
                code=IssueCode.NOT_SUPPORTED,
            )
        else:
            raise _error(f"Opération {i} : type « {kind} » inconnu.")
    return doc


# --- Reading the change ---------------------------------------------------------------------


def _labels(resource: dict[str, Any]) -> set[str]:
    return {_label_code(x) for x in resource.get("securityLabel") or []}


def _flags(resource: dict[str, Any]) -> dict[str, bool]:
    out: dict[str, bool] = {"archived": False, "deleted": False}
    for x in resource.get("extension") or []:
        key = EXTENSIONS.get(x.get("url", ""))
        if key is None:
            continue
        value = x.get("valueBoolean")
        if not isinstance(value, bool):
            raise _error(f"L'extension {x.get('url')} attend valueBoolean.", code=IssueCode.VALUE)
        out[key] = value
    return out


def intent(before: dict[str, Any], after: dict[str, Any]) -> PatchIntent:
    """The DMP operations a patched DocumentReference asks for (see the module's table)."""
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    other = changed - ALLOWED_TOP
    if other:
        raise _error(
            "Seuls status, securityLabel et les extensions PDSm_isArchived et PDSm_isDeleted se "
            f"modifient (demandé : {', '.join(sorted(other))}).",
            status=405,
            code=IssueCode.NOT_SUPPORTED,
        )
    added = _labels(after) - _labels(before)
    removed = _labels(before) - _labels(after)
    if "N" in removed:
        raise _error("La confidentialité HL7 « N » est obligatoire.", code=IssueCode.VALUE)
    unknown = added - {"MASQUE_PS", "N"}
    if "INVISIBLE_PATIENT" in unknown or "INVISIBLE_REPRESENTANTS_LEGAUX" in unknown:
        raise _error(
            "Un document ne peut être rendu invisible au patient ou à ses représentants qu'au "
            "moment de son dépôt.",
            code=BUSINESS_RULE,
        )
    if unknown:
        raise _error(
            f"Code de confidentialité non pris en charge : {', '.join(sorted(unknown))}.",
            code=IssueCode.VALUE,
        )
    if "INVISIBLE_REPRESENTANTS_LEGAUX" in removed:
        raise _error(
            "La restriction aux représentants légaux ne se lève pas par cette voie.",
            code=BUSINESS_RULE,
        )
    status_before, status_after = before.get("status"), after.get("status")
    if status_after not in ("current", "superseded"):
        raise _error(
            f"Statut « {status_after} » refusé : current ou superseded.", code=IssueCode.VALUE
        )
    if status_before == "superseded" and status_after == "current":
        raise _error(
            "Une version remplacée ne redevient pas la version en vigueur.",
            code=BUSINESS_RULE,
        )
    f_before, f_after = _flags(before), _flags(after)
    if f_before["deleted"] and not f_after["deleted"]:
        raise _error("Une suppression est définitive.", code=BUSINESS_RULE)
    deleted = f_after["deleted"] and not f_before["deleted"]
    superseded = status_before == "current" and status_after == "superseded"
    if deleted and not superseded:
        raise _error(
            "La suppression logique (PDSm_isDeleted) passe aussi le statut à superseded.",
            code=BUSINESS_RULE,
        )
    masked = None
    if "MASQUE_PS" in added:
        masked = True
    elif "MASQUE_PS" in removed:
        masked = False
    archived = None
    if not deleted and f_before["archived"] != f_after["archived"]:
        archived = f_after["archived"]
    return PatchIntent(
        masked=masked,
        release_to_patient="INVISIBLE_PATIENT" in removed,
        archived=archived,
        deleted=deleted,
        superseded=superseded and not deleted,
    )

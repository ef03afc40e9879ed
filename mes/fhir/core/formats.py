"""FHIR JSON and FHIR XML (issue 12 §5): content negotiation, XML bodies in, XML answers out.

Every view builds and reads FHIR JSON (dicts); XML is a mapping at the edge, done by
fhir.resources' own FHIR-XML serializer (fhir_core.xml_utils, on lxml): element order from the
resource definitions, primitives as `value` attributes (their `id` and `extension` included),
the narrative's xhtml `div`, `resource` and `contained` wrappers.

- **Answers**: `negotiated(request, answer)` runs the view and, when the client asked for XML
  (`_format`, else `Accept`, else the request's own `Content-Type`), rewrites its FHIR JSON body
  as `application/fhir+xml` — errors included, so a program reading XML gets its
  OperationOutcome in XML. An unknown `_format` is refused (406) before the view runs.
- **Requests**: `parse_body(content_type, raw)` reads a body of either format to the same JSON
  value; an XML body goes through a parser that never reads a DTD, an entity or the network
  (no XXE, no « billion laughs »), and a DOCTYPE is refused outright.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from lxml import etree
from pydantic import ValidationError

from .outcome import FHIR_JSON, MAX_ISSUES, FhirError, IssueCode, issue, operation_outcome

logger = logging.getLogger(__name__)

FHIR_XML = "application/fhir+xml; charset=utf-8"
FHIR_NS = "http://hl7.org/fhir"
JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir", "text/json")
XML_TYPES = ("application/fhir+xml", "application/xml", "application/xml+fhir", "text/xml")
BODY_TYPES = JSON_TYPES + XML_TYPES
# `_format` values (FHIR R4 http.html#mime-type): the short forms and the MIME types.
_FORMATS = {
    "json": "json",
    "xml": "xml",
    **{t: "json" for t in JSON_TYPES},
    **{t: "xml" for t in XML_TYPES},
}


def is_xml(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in XML_TYPES


# --- negotiation ------------------------------------------------------------------------------


def _accept_ranges(header: str) -> list[tuple[str, float]]:
    """`Accept` as (media range, q) pairs (RFC 9110 §12.5.1); a malformed q counts as 0."""
    ranges = []
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    return ranges


def _accept_weight(ranges: list[tuple[str, float]], types: tuple[str, ...]) -> float:
    """The weight `Accept` gives to one of `types` by name; -1 when it names none of them."""
    return max((q for media, q in ranges if media in types), default=-1.0)


def wanted_format(request: HttpRequest) -> str:
    """« json » or « xml »: `_format` first, then `Accept` when it names a FHIR format (JSON on
    a tie), then the format of the request's body (`*/*` leaves the choice to it); JSON when
    nothing says. FhirError 406 for an unknown `_format` (e.g. `ttl`)."""
    raw = request.GET.get("_format", "").strip().lower()
    if raw:
        # A `+` left unencoded in the query string arrives as a space.
        fmt = _FORMATS.get(raw.replace(" ", "+").split(";")[0].strip())
        if fmt is None:
            raise FhirError(
                406,
                IssueCode.NOT_SUPPORTED,
                f"Format « {raw[:40]} » non pris en charge : _format=json ou _format=xml "
                "(application/fhir+json, application/fhir+xml).",
                expression="_format",
            )
        return fmt
    ranges = _accept_ranges(request.headers.get("Accept", ""))
    xml, json_ = _accept_weight(ranges, XML_TYPES), _accept_weight(ranges, JSON_TYPES)
    if xml > 0 or json_ > 0:
        return "xml" if xml > json_ else "json"
    return "xml" if is_xml(request.content_type) else "json"


def negotiated(request: HttpRequest, answer: Callable[[], HttpResponse]) -> HttpResponse:
    """Run `answer` in the format the client asked for: an unknown `_format` is refused before
    anything runs; a FHIR JSON answer is rewritten as FHIR XML when XML was asked for."""
    try:
        fmt = wanted_format(request)
    except FhirError as error:
        return error.response()
    response = answer()
    response.headers.setdefault("Vary", "Accept")
    if fmt == "xml":
        return as_xml(response)
    return response


# --- answers ----------------------------------------------------------------------------------


def _model_class(resource_type: Any) -> Any:
    from fhir.resources.R4B import get_fhir_model_class

    if not isinstance(resource_type, str):
        raise KeyError(resource_type)
    try:
        return get_fhir_model_class(resource_type)
    except ValueError:  # « … is not a valid FHIR Model »
        raise KeyError(resource_type) from None


def to_xml(resource: dict[str, Any]) -> bytes:
    """A FHIR JSON resource as FHIR XML (UTF-8, with its declaration)."""
    model = _model_class(resource.get("resourceType")).model_validate(resource)
    out = model.model_dump_xml()
    return out if isinstance(out, bytes) else out.encode()


def as_xml(response: HttpResponse) -> HttpResponse:
    """The same answer in FHIR XML when its body is FHIR JSON (status and headers kept); any
    other body (a document's bytes, plain JSON) is left as it is."""
    if not response.get("Content-Type", "").startswith("application/fhir+json"):
        return response
    try:
        body = to_xml(json.loads(response.content))
    except Exception as error:  # a resource our R4 models refuse: never a silent JSON answer
        logger.error("FHIR: réponse non sérialisable en XML (%s)", type(error).__name__)
        body = to_xml(
            operation_outcome(
                IssueCode.EXCEPTION,
                "Erreur interne du serveur : la réponse n'a pas pu être écrite en XML FHIR. "
                "Réessayez en JSON (application/fhir+json).",
                detail="ERREUR_INTERNE",
            )
        )
        response.status_code = 500
    response.content = body
    response["Content-Type"] = FHIR_XML
    return response


# --- requests ---------------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    # No DTD, no entity, no network, no huge tree: an XML body is data, never instructions.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _structure(message: str, expression: str | None = None) -> FhirError:
    return FhirError(
        400, IssueCode.STRUCTURE, message[:500], expression=expression, detail="XML_ILLISIBLE"
    )


def _invalid(problems: list[tuple[str, str]]) -> FhirError:
    issues = [
        issue(IssueCode.STRUCTURE, message[:500], expression=where, detail="FHIR_INVALIDE")
        for where, message in problems[:MAX_ISSUES]
    ]
    first = issues[0]
    return FhirError(
        400,
        IssueCode.STRUCTURE,
        first["diagnostics"],
        expression=first["expression"][0],
        detail="FHIR_INVALIDE",
        issues=issues,
    )


def parse_xml(raw: bytes) -> dict[str, Any]:
    """A FHIR XML resource as the FHIR JSON value it stands for. FhirError 400: unreadable XML
    (`XML_ILLISIBLE`), a DOCTYPE, a root outside the FHIR namespace, an unknown resource type,
    an unknown element or a value FHIR R4 refuses (`FHIR_INVALIDE`, every problem found)."""
    try:
        root = etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise _structure(f"Corps illisible : XML invalide ({error}).") from None
    if root.getroottree().docinfo.doctype:
        raise _structure("Une déclaration DOCTYPE n'est pas acceptée dans un corps XML FHIR.")
    name = etree.QName(root)
    if name.namespace != FHIR_NS:
        raise _structure(
            f"L'élément racine doit être une ressource FHIR dans l'espace de noms {FHIR_NS}.",
            name.localname,
        )
    try:
        cls = _model_class(name.localname)
    except KeyError:
        raise _invalid(
            [(name.localname, f"Type de ressource inconnu : {name.localname}.")]
        ) from None
    try:
        model = cls.model_validate_xml(raw, xmlparser=_parser())
    except ValidationError as error:
        raise _invalid(
            [
                (
                    ".".join([name.localname, *(str(p) for p in e["loc"])]),
                    f"{name.localname} non conforme à FHIR R4 — "
                    f"{'.'.join(str(p) for p in e['loc'])} : {e['msg']}",
                )
                for e in error.errors()
            ]
        ) from None
    except KeyError as error:  # the loader's way of saying « no such element here »
        element = str(error.args[0]) if error.args else "?"
        raise _invalid(
            [(name.localname, f"Élément XML « {element} » inconnu dans {name.localname}.")]
        ) from None
    except Exception:
        raise _invalid(
            [(name.localname, f"{name.localname} non conforme à FHIR R4 (XML).")]
        ) from None
    data: dict[str, Any] = json.loads(model.model_dump_json())
    return data


def parse_body(content_type: str | None, raw: bytes) -> Any:
    """A request body as FHIR JSON, whichever of the two formats it came in."""
    from .http import check_tree, parse_json  # http imports this module

    if is_xml(content_type):
        data = parse_xml(raw)
        check_tree(data)  # the same forbidden characters as in JSON
        return data
    return parse_json(raw)


__all__ = [
    "BODY_TYPES",
    "FHIR_JSON",
    "FHIR_XML",
    "JSON_TYPES",
    "XML_TYPES",
    "as_xml",
    "negotiated",
    "parse_body",
    "parse_xml",
    "to_xml",
    "wanted_format",
]

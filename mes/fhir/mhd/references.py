"""Reading FHIR references to our own resources: `Type/<id>`, `<base>Type/<id>` or a bare id."""

from __future__ import annotations

import uuid


def local_id(
    reference: str, resource_type: str, base: str, *, bare: bool = False
) -> uuid.UUID | None:
    """The UUID a reference names on this server, or None when it names something else (another
    type, another server, not a UUID). `bare`: a lone id is accepted (search parameters)."""
    ref = (reference or "").strip()
    if ref.startswith(base):
        ref = ref[len(base) :]
    prefix = f"{resource_type}/"
    if ref.startswith(prefix):
        ref = ref[len(prefix) :]
    elif not bare or "/" in ref:
        return None
    ref = ref.split("/_history/")[0]
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None

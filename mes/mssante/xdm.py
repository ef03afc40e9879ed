"""IHE XDM archives (`IHE_XDM.ZIP`, IHE ITI TF-1 §16): METADATA.XML and the documents it lists.

METADATA.XML is parsed with defusedxml (no entity expansion, no external fetch); the archive is
read with limits on entries and inflated size, so a zip bomb is refused as malformed.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from defusedxml import ElementTree

RIM = "{urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0}"
TYPE_CODE_SCHEME = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
# XDSDocumentEntry.confidentialityCode (IHE ITI TF-3 §4.2.5.1); the DMP puts there, besides the
# HL7 N/R/V, the TRE_A07 visibility codes (mes-spec §5.3), INVISIBLE_REPRESENTANTS_LEGAUX among
# them: a minor's secret care, R1111-50.
CONFIDENTIALITY_SCHEME = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
INVISIBLE_REPS = "INVISIBLE_REPRESENTANTS_LEGAUX"
MAX_ENTRIES = 200


class XdmError(ValueError):
    """Not a readable XDM archive (French message)."""


@dataclass(frozen=True)
class XdmDocument:
    path: str
    title: str
    mime_type: str
    type_code: str
    content: bytes
    confidentiality: frozenset[str] = frozenset()  # the confidentialityCode codes

    @property
    def secret_care(self) -> bool:
        """Labelled INVISIBLE_REPRESENTANTS_LEGAUX: not for the legal representatives."""
        return INVISIBLE_REPS in self.confidentiality


def _slot(element: object, name: str) -> str:
    for slot in element.findall(f"{RIM}Slot"):  # type: ignore[attr-defined]
        if slot.get("name") == name:
            value = slot.find(f"{RIM}ValueList/{RIM}Value")
            return (value.text or "").strip() if value is not None else ""
    return ""


def read(data: bytes, *, max_bytes: int) -> list[XdmDocument]:
    """The documents listed in every METADATA.XML of the archive, in their order."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise XdmError("Archive IHE_XDM.ZIP illisible.") from exc
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > max_bytes:
        raise XdmError("Archive IHE_XDM.ZIP trop volumineuse.")
    names = {i.filename for i in infos}
    metadata = [
        n for n in names if n.upper().endswith("METADATA.XML") and n.upper().startswith("IHE_XDM/")
    ]
    if not metadata:
        raise XdmError("Archive XDM sans METADATA.XML.")
    documents: list[XdmDocument] = []
    for meta_name in sorted(metadata):
        try:
            root = ElementTree.fromstring(archive.read(meta_name))
        except Exception as exc:  # defusedxml raises its own errors for forbidden constructs
            raise XdmError("METADATA.XML illisible.") from exc
        folder = posixpath.dirname(meta_name)
        for entry in root.iter(f"{RIM}ExtrinsicObject"):
            uri = _slot(entry, "URI")
            if not uri or uri.startswith("/") or ".." in uri.split("/"):
                raise XdmError("Document XDM sans URI valide.")
            path = posixpath.join(folder, uri)
            if path not in names:
                raise XdmError(f"Document XDM absent de l'archive : {uri[:80]}.")
            type_code = ""
            confidentiality: set[str] = set()
            for cls in entry.findall(f"{RIM}Classification"):
                if cls.get("classificationScheme") == TYPE_CODE_SCHEME:
                    type_code = cls.get("nodeRepresentation", "")
                elif cls.get("classificationScheme") == CONFIDENTIALITY_SCHEME:
                    confidentiality.add(cls.get("nodeRepresentation", "").strip().upper())
            name = entry.find(f"{RIM}Name/{RIM}LocalizedString")
            title = name.get("value", "") if name is not None else ""
            documents.append(
                XdmDocument(
                    path=path,
                    title=title or posixpath.basename(uri),
                    mime_type=entry.get("mimeType", ""),
                    type_code=type_code,
                    content=archive.read(path),
                    confidentiality=frozenset(confidentiality),
                )
            )
    if not documents:
        raise XdmError("Archive XDM sans document.")
    return documents


def build(
    documents: list[tuple[str, str, str, bytes]],
    type_code: str = "11488-4",
    *,
    confidentiality: tuple[str, ...] = ("N",),
) -> bytes:
    """An XDM archive of (filename, title, mime, content): what practice software sends; used by
    the Web PS, the demo and the tests. confidentiality: each document's confidentialityCode
    codes (HL7 N/R/V, TRE_A07 such as INVISIBLE_REPRESENTANTS_LEGAUX)."""
    entries = []
    for i, (filename, title, mime, _) in enumerate(documents, start=1):
        labels = "".join(
            f'<rim:Classification classificationScheme="{CONFIDENTIALITY_SCHEME}" '
            f'classifiedObject="Document{i:02d}" nodeRepresentation={quoteattr(code)}/>'
            for code in confidentiality
        )
        entries.append(
            f'<rim:ExtrinsicObject id="Document{i:02d}" mimeType={quoteattr(mime)} '
            'objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">'
            f'<rim:Slot name="URI"><rim:ValueList><rim:Value>{filename}</rim:Value>'
            "</rim:ValueList></rim:Slot>"
            f"<rim:Name><rim:LocalizedString value={quoteattr(title)}/></rim:Name>"
            f'<rim:Classification classificationScheme="{TYPE_CODE_SCHEME}" '
            f'classifiedObject="Document{i:02d}" nodeRepresentation={quoteattr(type_code)}/>'
            + labels
            + "</rim:ExtrinsicObject>"
        )
    metadata = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" '
        'xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>'
        + "".join(entries)
        + "</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("INDEX.HTM", "<html><body>IHE XDM</body></html>")
        z.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata)
        for filename, _, _, data in documents:
            z.writestr(f"IHE_XDM/SUBSET01/{filename}", data)
    return buf.getvalue()

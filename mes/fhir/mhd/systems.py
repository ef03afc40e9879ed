"""Code systems and identifier systems of the document API (mes-spec §4.2–4.6, PDSm).

Output uses `urn:oid:` URIs for the French terminologies (as mes.lib.codes does), `http://loinc.org`
for LOINC and the HL7 / IHE canonical URLs for their own systems. Input also accepts the ANS
canonical URLs (https://mos.esante.gouv.fr/NOS/…) that the PDSm guide uses, and a missing system.
"""

from __future__ import annotations

from mes.lib import codes
from mes.lib.ins import OID_INS_NIA, OID_INS_NIR
from mes.lib.rpps import OID_PS, OID_STRUCTURE

RFC3986 = "urn:ietf:rfc:3986"

# Document type: LOINC, or TRE_A05-TypeDocComplementaire (1.2.250.1.213.1.1.4.12).
LOINC = codes.LOINC
TRE_A05 = codes.TRE_A05
# Class (category): TRE_A03-ClasseDocument (1.2.250.1.213.1.1.4.1).
TRE_A03 = codes.CLASS_SYSTEM
# Format: IHE format codes, and TRE_A06-FormatCodeComplementaire for the French ones.
IHE_FORMAT = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
TRE_A06 = codes.FORMAT_SYSTEM
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
# Confidentiality: HL7 N/R/V (TRE_A08) and TRE_A07-StatutVisibiliteDocument (1.2.250.1.213.1.1.4.13)
# for MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX (value set JDV_J58).
HL7_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
TRE_A07 = "urn:oid:1.2.250.1.213.1.1.4.13"
# Context: TRE_R02-SecteurActivite (facilityType), TRE_A01-CadreExercice (practiceSetting),
# TRE_A00-ProducteurDocNonPS (practiceSetting of what the patient deposits).
TRE_R02 = "urn:oid:1.2.250.1.71.4.2.4"
TRE_A01 = "urn:oid:1.2.250.1.213.1.1.4.9"
TRE_A00 = "urn:oid:1.2.250.1.213.1.1.4.6"
# Identifiers.
INS_NIR = f"urn:oid:{OID_INS_NIR}"
INS_NIA = f"urn:oid:{OID_INS_NIA}"
RPPS = f"urn:oid:{OID_PS}"  # idNat_PS: "8" + RPPS
FINESS = f"urn:oid:{OID_STRUCTURE}"  # idNat_Struct: "1" + FINESS
PROFESSION = codes.PROFESSION_SYSTEM  # TRE_G15
SPECIALTY = (
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
)

# MHD.
MHD_LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
MHD_SOURCE_ID = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId"
MHD_INTENDED_RECIPIENT = (
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-intendedRecipient"
)
MHD_PROFILE = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/"
DOCREF_PROFILE = MHD_PROFILE + "IHE.MHD.Minimal.DocumentReference"
PROVIDE_BUNDLE_PROFILES = frozenset(
    MHD_PROFILE + name
    for name in (
        "IHE.MHD.Minimal.ProvideBundle",
        "IHE.MHD.Comprehensive.ProvideBundle",
        "IHE.MHD.UnContained.Comprehensive.ProvideBundle",
    )
)

# PDSm extensions (ANS): the DMP's « Archived » availabilityStatus (TD3.3 Approved ↔ Archived),
# which DocumentReference.status cannot carry, and the logical deletion of a document (Flux 03).
PDSM_IS_ARCHIVED = (
    "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-archived"
)
PDSM_IS_DELETED = (
    "https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/pdsm-ext-is-deleted"
)
# Earlier PDSm versions named the archive extension so; accepted on input.
PDSM_IS_ARCHIVED_OLD = "http://esante.gouv.fr/cisis/fhir/StructureDefinition/PDSm_isArchived"

# Other names of the same code systems, accepted on input.
_ANS = "https://mos.esante.gouv.fr/NOS/"
ALIASES: dict[str, frozenset[str]] = {
    LOINC: frozenset({LOINC, "urn:oid:2.16.840.1.113883.6.1"}),
    TRE_A05: frozenset(
        {TRE_A05, _ANS + "TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire"}
    ),
    TRE_A03: frozenset({TRE_A03, _ANS + "TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"}),
    TRE_A07: frozenset(
        {
            TRE_A07,
            _ANS + "TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument",
            "urn:oid:1.2.250.1.213.1.1.5.9",  # the value set JDV_J58, sometimes sent as system
        }
    ),
    HL7_CONFIDENTIALITY: frozenset(
        {
            HL7_CONFIDENTIALITY,
            "urn:oid:2.16.840.1.113883.5.25",
            _ANS + "TRE_A08-HL7Confidentiality/FHIR/TRE-A08-HL7Confidentiality",
        }
    ),
    TRE_R02: frozenset({TRE_R02, _ANS + "TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"}),
    TRE_A01: frozenset({TRE_A01, _ANS + "TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice"}),
    TRE_A00: frozenset(
        {TRE_A00, _ANS + "TRE_A00-ProducteurDocNonPS/FHIR/TRE-A00-ProducteurDocNonPS"}
    ),
}


def same_system(given: str | None, canonical: str) -> bool:
    """Does a system sent by a client name this code system (any of its known names)?"""
    return given in ALIASES.get(canonical, frozenset({canonical}))


def format_system(code: str) -> str:
    """The code system of a format code: IHE's own, DICOM, or TRE_A06 for the French ones."""
    if code.startswith("urn:ihe:"):
        return IHE_FORMAT
    if code[:1].isdigit():
        return DICOM
    return TRE_A06

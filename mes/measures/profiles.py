"""The measure types as data: labels, codes, FHIR profiles, units, ranges (mes-spec §9,
portal.md §2.10).

Each type follows one profile of the ANS IG « Mesures de santé » (ansforge/IG-fhir-mesures-de-sante,
v3.1): its LOINC code, its UCUM unit (the canonical unit values are stored in) and its plausible
range. The ranges are ours (the service's `measureMetaData(code).constraints` are not published):
wide enough for every real person, a premature newborn included, narrow enough to catch a typing
slip (« 8O » for « 80 », a value in the wrong unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
PROFILE_BASE = "https://interop.esante.gouv.fr/ig/fhir/mesures/StructureDefinition/"
MOMENT_EXTENSION = PROFILE_BASE + "mesures-moment-of-measurement"
REASON_EXTENSION = PROFILE_BASE + "mesures-reason-for-measurement"
# JDV_J157-MomentGlucose-ENS (OID 1.2.250.1.213.1.1.5.612): LOINC answers, plus one CISP-2 code.
TRE_A04_LOINC = "https://mos.esante.gouv.fr/NOS/TRE_A04-Loinc/FHIR/TRE-A04-Loinc"
TRE_R313_CISP2 = "https://mos.esante.gouv.fr/NOS/TRE_R313-CISP2/FHIR/TRE-R313-CISP2"


class MeasureCode(StrEnum):
    """The service's own codes for the measures (`MeasureTileInput.type`, portal.md §2.10)."""

    WEIGHT = "WEIGHT"
    HEIGHT = "HEIGHT"
    BODY_MASS_INDEX = "BODY_MASS_INDEX"
    BLOOD_PRESSURE = "BLOOD_PRESSURE"
    HEART_RATE = "HEART_RATE"
    BODY_TEMPERATURE = "BODY_TEMPERATURE"
    WAIST_CIRCUMFERENCE = "WAIST_CIRCUMFERENCE"
    GLUCOSE = "GLUCOSE"
    STEPS_BY_DAY = "STEPS_BY_DAY"
    PAIN_SEVERITY = "PAIN_SEVERITY"
    HEAD_CIRCUMFERENCE = "HEAD_CIRCUMFERENCE"
    HBA1C = "HBA1C"


@dataclass(frozen=True)
class Component:
    """One value of a measure made of several (the two pressures of a blood pressure)."""

    key: str  # form field and model field: "value" or "diastolic"
    label: str
    loinc: str
    loinc_display: str
    minimum: Decimal
    maximum: Decimal


@dataclass(frozen=True)
class GlucoseMoment:
    code: str
    label: str  # what the citizen reads
    system: str
    display: str  # the display of the code in JDV_J157


@dataclass(frozen=True)
class InputUnit:
    """A unit the citizen may type a value in, converted to the canonical unit."""

    code: str
    label: str
    factor: Decimal  # canonical = typed × factor
    decimals: int  # decimals the citizen may type in this unit


@dataclass(frozen=True)
class MeasureType:
    code: MeasureCode
    label: str  # « Poids »
    short_label: str  # in sentences: « le poids »
    loinc: str
    loinc_display: str
    profile: str  # the profile's computable name (MesFrObservationBodyWeight)
    profile_id: str  # the last segment of its canonical URL
    ucum: str  # the canonical unit: values are stored in it
    unit_label: str  # « kg »
    unit_name: str  # « kilogrammes », for screen readers
    minimum: Decimal
    maximum: Decimal
    decimals: int
    hint: str = ""
    comment_placeholder: str = ""
    computed: bool = False  # never entered nor stored (BMI)
    children_only: bool = False
    components: tuple[Component, ...] = ()
    input_units: tuple[InputUnit, ...] = ()  # besides the canonical unit
    unit_select: bool = False  # the citizen picks the unit (glucose meters differ)
    needs_moment: bool = False
    profile_base: str = PROFILE_BASE

    @property
    def profile_url(self) -> str:
        return self.profile_base + self.profile_id

    @property
    def range_message(self) -> str:
        return range_message(self.minimum, self.maximum, self.unit_label, self.decimals)

    @property
    def slug(self) -> str:
        return self.code.value.lower().replace("_", "-")

    def quantize(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)

    def format(self, value: Decimal | None) -> str:
        """« 80,5 » : French decimal comma, the type's decimals (« 165 cm », not « 165,0 »)."""
        if value is None:
            return ""
        if self.ucum == "cm" and value == value.to_integral_value():
            return format_decimal(value, 0)
        return format_decimal(value, self.decimals)


def format_decimal(value: Decimal, decimals: int) -> str:
    q = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{q:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return text


def range_message(minimum: Decimal, maximum: Decimal, unit: str, decimals: int) -> str:
    lo, hi = (
        format_decimal(minimum, _shown(minimum, decimals)),
        format_decimal(maximum, _shown(maximum, decimals)),
    )
    suffix = f" {unit}" if unit else ""
    return f"La valeur doit être comprise entre {lo} et {hi}{suffix}."


def _shown(value: Decimal, decimals: int) -> int:
    # « entre 0,5 et 350 kg » rather than « entre 0,5 et 350,0 kg ».
    return 0 if value == value.to_integral_value() else decimals


D = Decimal

# JDV_J157-MomentGlucose-ENS, in its order. The JDV lists 16915-1 twice; it appears once here.
# « Au coucher » has no code of its own: the citizen picks « Autre » and says so in the comment.
GLUCOSE_MOMENTS: tuple[GlucoseMoment, ...] = (
    GlucoseMoment("53049-3", "À jeun", TRE_A04_LOINC, "Glucose à jeun"),
    GlucoseMoment("88365-2", "Avant un repas", TRE_A04_LOINC, "Avant repas"),
    GlucoseMoment("16915-1", "Après un repas", TRE_A04_LOINC, "Glucose post prandial"),
    GlucoseMoment("LA11865-5", "Après un effort physique", TRE_A04_LOINC, "Après exercice"),
    GlucoseMoment("A05", "Lors d'un malaise", TRE_R313_CISP2, "Lors d'un malaise"),
    GlucoseMoment("LA46-8", "Autre moment", TRE_A04_LOINC, "Autre"),
)
MOMENTS_BY_CODE = {m.code: m for m in GLUCOSE_MOMENTS}

# Glucose is stored in mg/dL (JDV_J163-GlucoseUnits-ENS allows mg/dL, and % for the GMI), as MES
# shows it. French meters and lab reports often say g/L, some mmol/L: both are accepted and
# converted (1 g/L = 100 mg/dL; 1 mmol/L = 18,016 mg/dL, glucose's molar mass 180,16 g/mol).
GLUCOSE_G_L = InputUnit("g/L", "g/L", D(100), 2)
GLUCOSE_MMOL_L = InputUnit("mmol/L", "mmol/L", D("18.016"), 2)

TYPES: tuple[MeasureType, ...] = (
    MeasureType(
        code=MeasureCode.WEIGHT,
        label="Poids",
        short_label="le poids",
        loinc="29463-7",
        loinc_display="Body weight",
        profile="MesFrObservationBodyWeight",
        profile_id="mesures-fr-observation-body-weight",
        ucum="kg",
        unit_label="kg",
        unit_name="kilogrammes",
        minimum=D("0.5"),
        maximum=D(350),
        decimals=1,
        hint="En kilogrammes, par exemple 72,5.",
    ),
    MeasureType(
        code=MeasureCode.HEIGHT,
        label="Taille",
        short_label="la taille",
        loinc="8302-2",
        loinc_display="Body height",
        profile="MesFrObservationBodyHeight",
        profile_id="mesures-fr-observation-bodyheight",
        ucum="cm",
        unit_label="cm",
        unit_name="centimètres",
        minimum=D(20),
        maximum=D(250),
        decimals=1,
        hint="En centimètres, par exemple 165. Une taille en mètres (1,65) est aussi comprise.",
        input_units=(InputUnit("m", "m", D(100), 2),),
    ),
    MeasureType(
        code=MeasureCode.BODY_MASS_INDEX,
        label="Indice de Masse Corporelle (IMC)",
        short_label="l'IMC",
        loinc="39156-5",
        loinc_display="Body mass index (BMI) [Ratio]",
        profile="MesFrObservationBmi",
        profile_id="mesures-fr-observation-bmi",
        ucum="kg/m2",
        unit_label="kg/m²",
        unit_name="kilogrammes par mètre carré",
        minimum=D(5),
        maximum=D(150),
        decimals=1,
        computed=True,
    ),
    MeasureType(
        code=MeasureCode.BLOOD_PRESSURE,
        label="Tension artérielle",
        short_label="la tension artérielle",
        loinc="85354-9",
        loinc_display="Blood pressure panel with all children optional",
        profile="MesFrObservationBp",
        profile_id="mesures-fr-observation-bp",
        ucum="mm[Hg]",
        unit_label="mmHg",
        unit_name="millimètres de mercure",
        minimum=D(20),
        maximum=D(300),
        decimals=0,
        comment_placeholder="Ex. : Au repos, à l'effort, palpitations cardiaques, malaise...",
        components=(
            Component("value", "Systolique", "8480-6", "Systolic blood pressure", D(50), D(300)),
            Component(
                "diastolic", "Diastolique", "8462-4", "Diastolic blood pressure", D(20), D(200)
            ),
        ),
    ),
    MeasureType(
        code=MeasureCode.HEART_RATE,
        label="Fréquence cardiaque",
        short_label="la fréquence cardiaque",
        loinc="8867-4",
        loinc_display="Heart rate",
        profile="MesFrObservationHeartrate",
        profile_id="mesures-fr-observation-heartrate",
        ucum="/min",
        unit_label="bpm",
        unit_name="battements par minute",
        minimum=D(20),
        maximum=D(250),
        decimals=0,
        hint="En battements par minute, par exemple 72.",
    ),
    MeasureType(
        code=MeasureCode.BODY_TEMPERATURE,
        label="Température",
        short_label="la température",
        loinc="8310-5",
        loinc_display="Body temperature",
        profile="MesFrObservationBodyTemperature",
        profile_id="mesures-fr-observation-body-temperature",
        ucum="Cel",
        unit_label="°C",
        unit_name="degrés Celsius",
        minimum=D(30),
        maximum=D(45),
        decimals=1,
        hint="En degrés Celsius, par exemple 37,8.",
    ),
    MeasureType(
        code=MeasureCode.WAIST_CIRCUMFERENCE,
        label="Tour de taille",
        short_label="le tour de taille",
        loinc="8280-0",
        loinc_display="Waist Circumference at umbilicus by Tape measure",
        profile="MesObservationWaistCircumference",
        profile_id="mesures-observation-waist-circumference",
        ucum="cm",
        unit_label="cm",
        unit_name="centimètres",
        minimum=D(30),
        maximum=D(250),
        decimals=1,
        hint="En centimètres, mesuré au niveau du nombril.",
    ),
    MeasureType(
        code=MeasureCode.GLUCOSE,
        label="Glycémie",
        short_label="la glycémie",
        loinc="2339-0",
        loinc_display="Glucose [Mass/volume] in Blood",
        profile="MesObservationGlucose",
        profile_id="mesures-observation-glucose",
        ucum="mg/dL",
        unit_label="mg/dL",
        unit_name="milligrammes par décilitre",
        minimum=D(10),
        maximum=D(1000),
        decimals=0,
        hint="Choisissez l'unité affichée par votre lecteur : mg/dL, g/L ou mmol/L.",
        comment_placeholder="Ex. : Diabète, surpoids, maladie du coeur…",
        input_units=(GLUCOSE_G_L, GLUCOSE_MMOL_L),
        unit_select=True,
        needs_moment=True,
    ),
    MeasureType(
        code=MeasureCode.STEPS_BY_DAY,
        label="Nombre de pas",
        short_label="le nombre de pas",
        loinc="41950-7",
        loinc_display="Number of steps in 24 hour Measured",
        profile="MesObservationStepsByDay",
        profile_id="mesures-observation-steps-by-day",
        ucum="/d",
        unit_label="pas",
        unit_name="pas par jour",
        minimum=D(0),
        maximum=D(100000),
        decimals=0,
        hint="Le nombre de pas de la journée.",
    ),
    MeasureType(
        code=MeasureCode.PAIN_SEVERITY,
        label="Niveau de douleur",
        short_label="le niveau de douleur",
        loinc="72514-3",
        loinc_display="Pain severity - 0-10 verbal numeric rating [Score] - Reported",
        profile="MesObservationPainSeverity",
        profile_id="mesures-observation-pain-severity",
        ucum="{score}",
        unit_label="/10",
        unit_name="sur 10",
        minimum=D(0),
        maximum=D(10),
        decimals=0,
        hint="De 0 (aucune douleur) à 10 (douleur maximale imaginable).",
    ),
    MeasureType(
        code=MeasureCode.HEAD_CIRCUMFERENCE,
        label="Périmètre crânien",
        short_label="le périmètre crânien",
        loinc="8287-5",
        loinc_display="Head Occipital-frontal circumference by Tape measure",
        profile="MesObservationHeadCircumference",
        profile_id="mesures-observation-head-circumference",
        ucum="cm",
        unit_label="cm",
        unit_name="centimètres",
        minimum=D(20),
        maximum=D(70),
        decimals=1,
        hint="En centimètres, par exemple 45,5.",
        children_only=True,
    ),
    # Hémoglobine glyquée: read from biology reports (portal.md §2.10, §5.4). The ANS IG has no
    # profile for it: its Observation follows FR Core's laboratory result profile.
    MeasureType(
        code=MeasureCode.HBA1C,
        label="Hémoglobine glyquée (HbA1c)",
        short_label="l'hémoglobine glyquée",
        loinc="4548-4",
        loinc_display="Hemoglobin A1c/Hemoglobin.total in Blood",
        profile="FRCoreObservationLaboratoryResultProfile",
        profile_id="fr-core-observation-laboratory-result",
        ucum="%",
        unit_label="%",
        unit_name="pour cent",
        minimum=D(3),
        maximum=D(20),
        decimals=1,
        hint="En pourcentage, par exemple 6,5.",
        profile_base="https://hl7.fr/ig/fhir/core/StructureDefinition/",
    ),
)

BY_CODE: dict[str, MeasureType] = {t.code.value: t for t in TYPES}
BY_SLUG: dict[str, MeasureType] = {t.slug: t for t in TYPES}
BY_LOINC: dict[str, MeasureType] = {t.loinc: t for t in TYPES}
BY_PROFILE: dict[str, MeasureType] = {t.profile_url: t for t in TYPES}
# The tiles shown until the holder chooses (brief of issue 4; children: their growth instead).
DEFAULT_TILES = (
    MeasureCode.WEIGHT,
    MeasureCode.HEIGHT,
    MeasureCode.BODY_MASS_INDEX,
    MeasureCode.BLOOD_PRESSURE,
    MeasureCode.GLUCOSE,
)
DEFAULT_CHILD_TILES = (
    MeasureCode.WEIGHT,
    MeasureCode.HEIGHT,
    MeasureCode.BODY_MASS_INDEX,
    MeasureCode.HEAD_CIRCUMFERENCE,
)
# A minor is a child for the measures (curves, head circumference); portal.md §2.10.
ADULT_AGE = 18


def get(code: str) -> MeasureType:
    """The type of this code; KeyError for an unknown code."""
    return BY_CODE[code]


@dataclass(frozen=True)
class BmiBand:
    """One adult interpretation band of the BMI (OMS; portal.md §2.10)."""

    below: Decimal | None  # upper bound, excluded; None for the last band
    label: str
    css: str = field(default="")


# OMS adult bands, as French health information presents them (« < 16,5 dénutrition … ≥ 40
# obésité massive »). Not valid before 18: a child's BMI is read on the corpulence curves.
BMI_BANDS: tuple[BmiBand, ...] = (
    BmiBand(D("16.5"), "Dénutrition", "danger"),
    BmiBand(D("18.5"), "Maigreur", "warning"),
    BmiBand(D(25), "Corpulence normale", "ok"),
    BmiBand(D(30), "Surpoids", "warning"),
    BmiBand(D(35), "Obésité modérée", "danger"),
    BmiBand(D(40), "Obésité sévère", "danger"),
    BmiBand(None, "Obésité massive", "danger"),
)


def bmi_band(bmi: Decimal) -> BmiBand:
    """The adult band of a BMI value (bounds: 18,5 is « corpulence normale »)."""
    for band in BMI_BANDS:
        if band.below is None or bmi < band.below:
            return band
    return BMI_BANDS[-1]


def bmi_band_range(band: BmiBand) -> str:
    """« de 18,5 à 25 », « moins de 16,5 », « 40 ou plus »: for the explanation table."""
    i = BMI_BANDS.index(band)
    lo = BMI_BANDS[i - 1].below if i else None
    hi = band.below

    def f(v: Decimal) -> str:
        return format_decimal(v, _shown(v, 1))

    if lo is None and hi is not None:
        return f"moins de {f(hi)}"
    if hi is None and lo is not None:
        return f"{f(lo)} ou plus"
    assert lo is not None and hi is not None
    return f"de {f(lo)} à moins de {f(hi)}"

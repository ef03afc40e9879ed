"""Every change to the measures. Each action checks its policy and writes its trace.

Bad input raises InvalidInput (a French message naming the field) and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from mes.access.actors import Actor, ActorKind
from mes.access.decision import decide_exchange
from mes.access.patients import patient_or_refused
from mes.audit import trace
from mes.audit.guard import Refused, traced_action
from mes.audit.models import TraceAction
from mes.identity.models import Citizen
from mes.lib.errors import InvalidInput

from . import profiles
from .models import COMMENT_MAX, Measurement, MeasureTilePreference
from .policies import access_measurement, access_measures, type_label
from .profiles import ADULT_AGE, MeasureType

# --- validation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanValues:
    value: Decimal
    diastolic: Decimal | None
    effective_at: datetime
    moment: str
    comment: str


def measure_type(type_code: str) -> MeasureType:
    """A type a value can be entered for (the BMI is computed: never entered)."""
    t = profiles.BY_CODE.get(type_code)
    if t is None:
        raise InvalidInput("Cette mesure n'existe pas.", field="type")
    if t.computed:
        raise InvalidInput(
            "L'IMC est calculé à partir du poids et de la taille : il ne se saisit pas.",
            field="type",
        )
    return t


def to_canonical(t: MeasureType, value: Decimal, unit: str | None, strict: bool = True) -> Decimal:
    """A value typed in one of the type's input units, in its canonical unit.

    The typed value may have as many decimals as its unit allows (strict: a person typed it);
    the result is rounded to the type's decimals (142 mg/dL for 7,88 mmol/L). A device's value
    (not strict) is rounded without complaint: a scale may weigh to 10 g.
    """
    if not unit or unit == t.ucum or unit == t.unit_label:
        if not strict:
            return t.quantize(value)
        _check_decimals(value, t.decimals, "value")
        return value
    for u in t.input_units:
        if u.code == unit:
            if strict:
                _check_decimals(value, u.decimals, "value")
            return t.quantize(value * u.factor)
    raise InvalidInput("Choisissez une unité de la liste.", field="unit")


def _check_decimals(value: Decimal, decimals: int, field: str) -> None:
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > decimals:
        if decimals == 0:
            raise InvalidInput("Saisissez un nombre entier.", field=field)
        raise InvalidInput(
            f"Saisissez au plus {decimals} décimale{'s' if decimals > 1 else ''}.", field=field
        )


def _as_decimal(value: object, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).replace(",", "."))
    except InvalidOperation as exc:
        raise InvalidInput("Saisissez un nombre, par exemple 72,5.", field=field) from exc
    if not d.is_finite():
        raise InvalidInput("Saisissez un nombre, par exemple 72,5.", field=field)
    return d


def clean(
    t: MeasureType,
    patient: Citizen,
    *,
    value: Decimal | str | None,
    diastolic: Decimal | str | None = None,
    unit: str | None = None,
    effective_at: datetime | None,
    moment: str = "",
    comment: str = "",
    strict: bool = True,
) -> CleanValues:
    """Check one value of a measure for this patient; InvalidInput names the first fault.

    strict: typed by a person (extra decimals refused); else sent by a device (rounded)."""
    v = _as_decimal(value, "value")
    if v is None:
        label = t.components[0].label.lower() if t.components else "la valeur"
        raise InvalidInput(
            f"Indiquez {'la tension ' + label if t.components else label}.", field="value"
        )
    v = to_canonical(t, v, unit, strict)
    dia: Decimal | None = None
    if t.components:
        systolic, diastolic_c = t.components
        dia = _as_decimal(diastolic, "diastolic")
        if dia is None:
            raise InvalidInput("Indiquez la tension diastolique.", field="diastolic")
        if strict:
            _check_decimals(dia, t.decimals, "diastolic")
        else:
            dia = t.quantize(dia)
        for comp, val, name in ((systolic, v, "value"), (diastolic_c, dia, "diastolic")):
            if not comp.minimum <= val <= comp.maximum:
                msg = profiles.range_message(comp.minimum, comp.maximum, t.unit_label, 0)
                raise InvalidInput(
                    msg.replace("La valeur", f"La tension {comp.label.lower()}"), field=name
                )
        if dia >= v:
            raise InvalidInput(
                "La tension systolique doit être supérieure à la tension diastolique.",
                field="diastolic",
            )
    elif not t.minimum <= v <= t.maximum:
        raise InvalidInput(t.range_message, field="value")
    elif diastolic not in (None, ""):
        raise InvalidInput("Cette mesure n'a qu'une valeur.", field="diastolic")

    if effective_at is None:
        raise InvalidInput("Indiquez la date de la mesure.", field="effective_at")
    if timezone.is_naive(effective_at):
        effective_at = timezone.make_aware(effective_at)
    if effective_at > timezone.now():
        raise InvalidInput(
            "La date de la mesure ne peut pas être dans le futur.", field="effective_at"
        )
    day = timezone.localtime(effective_at).date()
    if day < patient.birth_date:
        raise InvalidInput(
            "La date de la mesure ne peut pas être antérieure à la date de naissance.",
            field="effective_at",
        )
    if t.children_only and patient.age_on(day) >= ADULT_AGE:
        raise InvalidInput(
            f"{t.label} : cette mesure ne se suit que pendant l'enfance (avant 18 ans).",
            field="effective_at",
        )

    moment = (moment or "").strip()
    if t.needs_moment:
        if not moment:
            raise InvalidInput("Indiquez le moment de la mesure.", field="moment")
        if moment not in profiles.MOMENTS_BY_CODE:
            raise InvalidInput("Choisissez un moment de la liste.", field="moment")
    elif moment:
        raise InvalidInput("Le moment ne s'indique que pour la glycémie.", field="moment")

    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(
            f"Le commentaire ne doit pas dépasser {COMMENT_MAX} caractères.", field="comment"
        )
    return CleanValues(v, dia, effective_at, moment, comment)


# --- the citizen's own values --------------------------------------------------------------


@traced_action
def measurement_add(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    type_code: str,
    value: Decimal | str | None,
    diastolic: Decimal | str | None = None,
    unit: str | None = None,
    effective_at: datetime | None,
    moment: str = "",
    comment: str = "",
) -> Measurement:
    """The holder (or a legal representative) adds a value.

    Precondition: Action.MANAGE on the dossier. Side effects: one Measurement (source patient,
    « Par » the actor), an AJOUT_MESURE trace naming the measure.
    """
    patient = access_measures(
        actor,
        patient_id,
        trace_action=None,
        refused_as=TraceAction.ADD_MEASURE,
        type_code=type_code,
    )
    t = measure_type(type_code)
    c = clean(
        t,
        patient,
        value=value,
        diastolic=diastolic,
        unit=unit,
        effective_at=effective_at,
        moment=moment,
        comment=comment,
    )
    now = timezone.now()
    m = Measurement.objects.create(
        patient=patient,
        type_code=t.code.value,
        value=c.value,
        diastolic=c.diastolic,
        unit=t.ucum,
        effective_at=c.effective_at,
        moment=c.moment,
        comment=c.comment,
        source=Measurement.Source.PATIENT,
        author_label=actor.display_name,
        author_citizen_id=actor.citizen_id,
        created_at=now,
        updated_at=now,
    )
    trace.record(
        actor=actor, action=TraceAction.ADD_MEASURE, patient_id=patient.pk, document_title=t.label
    )
    return m


@traced_action
def measurement_update(
    *,
    actor: Actor,
    measurement_id: uuid.UUID,
    value: Decimal | str | None,
    diastolic: Decimal | str | None = None,
    unit: str | None = None,
    effective_at: datetime | None,
    moment: str = "",
    comment: str = "",
) -> Measurement:
    """Change a value the citizen side entered (a professional's or an app's is read only).

    Side effects: the row updated, a MODIF_MESURE trace naming the measure.
    """
    m = access_measurement(
        actor, measurement_id, trace_action=TraceAction.UPDATE_MEASURE, for_change=True
    )
    c = clean(
        m.measure_type,
        m.patient,
        value=value,
        diastolic=diastolic,
        unit=unit,
        effective_at=effective_at,
        moment=moment,
        comment=comment,
    )
    m.value, m.diastolic, m.effective_at = c.value, c.diastolic, c.effective_at
    m.moment, m.comment, m.updated_at = c.moment, c.comment, timezone.now()
    m.save(update_fields=["value", "diastolic", "effective_at", "moment", "comment", "updated_at"])
    return m


@traced_action
def measurement_delete(*, actor: Actor, measurement_id: uuid.UUID) -> str:
    """Delete a value the citizen side entered, for good. Returns its type code.

    Side effects: the row deleted, a SUPP_MESURE trace naming the measure.
    """
    m = access_measurement(
        actor, measurement_id, trace_action=TraceAction.DELETE_MEASURE, for_change=True
    )
    code = m.type_code
    m.delete()
    return code


@traced_action
def tiles_set(*, actor: Actor, patient_id: uuid.UUID, visible: set[str]) -> list[str]:
    """« Afficher les autres mesures »: the measures shown as tiles (the others stay reachable).

    Side effects: one preference per measure type, a MODIF_TUILES_MESURES trace.
    """
    patient = access_measures(actor, patient_id, trace_action=TraceAction.MEASURE_TILES)
    unknown = set(visible) - set(profiles.BY_CODE)
    if unknown:
        raise InvalidInput("Choisissez des mesures de la liste.", field="visible")
    for t in profiles.TYPES:
        MeasureTilePreference.objects.update_or_create(
            patient=patient, type_code=t.code.value, defaults={"visible": t.code.value in visible}
        )
    return [t.code.value for t in profiles.TYPES if t.code.value in visible]


def tiles_of(patient: Citizen, day: date | None = None) -> list[MeasureType]:
    """The measure types shown as tiles, in the profiles' order. Selector: the caller went
    through access_measures."""
    chosen = dict(
        MeasureTilePreference.objects.filter(patient=patient).values_list("type_code", "visible")
    )
    day = day or timezone.localdate()
    child = patient.age_on(day) < ADULT_AGE
    defaults = profiles.DEFAULT_CHILD_TILES if child else profiles.DEFAULT_TILES
    # A measure a document brought (the HbA1c of a biology report) shows its tile until the
    # holder hides it: the value came without their doing, they should see where it went.
    from_documents = set(
        Measurement.objects.filter(patient=patient, source=Measurement.Source.DOCUMENT)
        .values_list("type_code", flat=True)
        .distinct()
    )
    out = []
    for t in available_types(patient, day):
        shown = chosen.get(t.code.value)
        if shown is None:
            shown = t.code in defaults or t.code.value in from_documents
        if shown:
            out.append(t)
    return out


def available_types(patient: Citizen, day: date | None = None) -> list[MeasureType]:
    """Every measure this profile may follow: head circumference only for a child."""
    child = patient.age_on(day or timezone.localdate()) < ADULT_AGE
    return [t for t in profiles.TYPES if child or not t.children_only]


# --- values from outside the citizen's hands -----------------------------------------------


@traced_action
def measurement_import(
    *,
    actor: Actor,
    patient_id: uuid.UUID,
    type_code: str,
    value: Decimal | str,
    diastolic: Decimal | str | None = None,
    unit: str | None = None,
    effective_at: datetime,
    moment: str = "",
    comment: str = "",
    source: Measurement.Source,
    author_label: str,
    author_professional_id: uuid.UUID | None = None,
    device_identifier: str = "",
    source_document_id: uuid.UUID | None = None,
) -> Measurement:
    """Record a value that came from a professional's document or a paired app.

    Precondition: a system actor (the document import job), or a paired app whose pairing
    allows writing measures (decide_exchange: the purposes the holder consented to). The value
    is read only for the citizen. Side effects: one Measurement, an AJOUT_MESURE trace by that
    actor.
    """
    label = type_label(type_code)
    if actor.kind not in (ActorKind.SYSTEM, ActorKind.APP):
        raise Refused.because(
            actor,
            TraceAction.ADD_MEASURE,
            patient_id,
            "import réservé aux traitements",
            document_title=label,
        )
    patient = patient_or_refused(
        actor, patient_id, refused_as=TraceAction.ADD_MEASURE, document_title=label
    )
    if actor.kind is ActorKind.APP:
        decision = decide_exchange(actor, patient, "mesures", "ecriture")
        if not decision.allowed:
            raise Refused.because(
                actor, TraceAction.ADD_MEASURE, patient.pk, decision.reason, document_title=label
            )
    if source == Measurement.Source.PATIENT:
        raise InvalidInput("Une mesure importée vient d'un professionnel ou d'un service.")
    t = measure_type(type_code)
    c = clean(
        t,
        patient,
        value=value,
        diastolic=diastolic,
        unit=unit,
        effective_at=effective_at,
        moment=moment,
        comment=comment,
        strict=False,
    )
    now = timezone.now()
    m = Measurement.objects.create(
        patient=patient,
        type_code=t.code.value,
        value=c.value,
        diastolic=c.diastolic,
        unit=t.ucum,
        effective_at=c.effective_at,
        moment=c.moment,
        comment=c.comment,
        source=source,
        author_label=author_label,
        author_professional_id=author_professional_id,
        device_identifier=device_identifier,
        source_document_id=source_document_id,
        created_at=now,
        updated_at=now,
    )
    trace.record(
        actor=actor, action=TraceAction.ADD_MEASURE, patient_id=patient.pk, document_title=t.label
    )
    return m

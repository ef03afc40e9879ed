"""The whole prevention calendar (spec/prevention.md §2-§7), told with five people on a frozen
day, then the rules that move it: the carnet, what was said, appointments, the opposition of
décret n° 2024-468, the versions of the rules and the re-anchoring of screenings. Pure."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from mes.prevention.calendar import CalendarError, DoneVaccination
from mes.prevention.schedule import (
    ItemStatus,
    Planned,
    Record,
    default_rules,
    load_rules,
    prevention_calendar,
    reason_text,
)

TODAY = date(2026, 12, 7)
DTP = frozenset({"DIPHTERIE", "TETANOS", "POLIO"})


def calendar(birth, sex, **kwargs):
    kwargs.setdefault("today", TODAY)
    return {i.key: i for i in prevention_calendar(birth_date=birth, sex=sex, **kwargs)}


def test_every_rule_is_data_with_a_version_and_a_known_source():
    rules = default_rules()
    assert rules.version == "2025-12"
    for rule in rules.rules:
        assert rule.source and all(k in rules.sources for k in rule.source), rule.id
        assert rule.type in rules.types
    exams_2025 = [r for r in rules.rules if r.type == "CAR_SANTE" and r.valid_to is None]
    assert len(exams_2025) == 20  # the 20 mandatory examinations (R.2132-1, 2025 list)
    assert {r.id for r in rules.rules if r.type == "BILAN_AQ"} == {
        "BILAN_AQ_18_25",
        "BILAN_AQ_45_50",
        "BILAN_AQ_60_65",
        "BILAN_AQ_70_75",
    }


def test_a_rule_without_source_or_with_an_unknown_type_is_refused(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'version = "x"\ntitle = "x"\n[types]\nCAR_SANTE = "Examen"\n[sources]\n"S:1" = "s"\n'
        '[[rules]]\nid = "A"\nlabel = "A"\ntype = "AUTRE"\nlevel = "recommande"\n'
        'schedule = "window"\nfrom = "1y"\nto = "2y"\nreason = "r"\nsource = ["S:1"]\n'
    )
    with pytest.raises(CalendarError, match="codes inconnus"):
        load_rules(bad)


def test_a_newborn_has_the_first_examinations_and_the_infant_vaccines_ahead():
    items = calendar(date(2026, 12, 1), "M")
    first = items["EXAM_ENF_01"]
    assert first.status is ItemStatus.TO_DO and first.mandatory
    assert (first.window_start, first.last_day) == (date(2026, 12, 1), date(2026, 12, 9))
    assert items["EXAM_ENF_02"].status is ItemStatus.UPCOMING  # 6 days old: from 8 December
    assert items["EXAM_ENF_03"].status is ItemStatus.UPCOMING
    assert items["EXAM_ENF_03"].window_start == date(2027, 1, 1)
    assert "EXAM_ENF_1M_2019" not in items  # removed on 1 January 2025
    hexa = items["VAC_HEXA#1"]
    assert hexa.is_vaccination and hexa.mandatory and hexa.status is ItemStatus.UPCOMING
    assert hexa.level_label == "Vaccination obligatoire"
    assert "MTDENTS_ANNUEL@3" not in items  # beyond the horizon (1 January 2028)


def test_a_six_year_old_has_the_7th_year_exam_m_t_dents_and_the_dtcap_booster():
    items = calendar(date(2020, 6, 1), "F")
    assert items["EXAM_ENF_17"].status is ItemStatus.TO_DO  # new in 2025: [6 y, 7 y)
    assert items["EXAM_ENF_16"].status is ItemStatus.NOT_SPECIFIED  # window over, nothing said
    mtd = items["MTDENTS_ANNUEL@6"]
    assert mtd.label == "M'T dents des 6 ans" and mtd.status is ItemStatus.TO_DO
    assert items["VAC_DTCAP_6ANS#1"].status is ItemStatus.TO_DO
    assert not any(i.type == "BILAN_AQ" for i in items.values())


def test_an_eighteen_year_old_has_the_first_bilan_and_yearly_m_t_dents():
    items = calendar(date(2008, 5, 1), "M")
    bilan = items["BILAN_AQ_18_25"]
    assert bilan.status is ItemStatus.TO_DO
    assert (bilan.window_start, bilan.window_end) == (date(2026, 5, 1), date(2034, 5, 1))
    assert items["MTDENTS_ANNUEL@18"].status is ItemStatus.TO_DO
    assert "EXAM_ENF_20" not in items  # [15 y, 17 y) ended more than a year ago
    assert not any(i.key.startswith("DEPISTAGE") for i in items.values())


def test_a_45_year_old_woman_has_her_bilan_glaucoma_hpv_test_and_dtp_booster():
    items = calendar(date(1981, 3, 10), "F")
    for key in ("BILAN_AQ_45_50", "DEPISTAGE_GLAUCOME", "VAC_DTP_45ANS#1"):
        assert items[key].status is ItemStatus.TO_DO, key
    hpv = items["DEPISTAGE_COL_HPV@45"]
    assert hpv.status is ItemStatus.TO_DO and hpv.window_end == date(2031, 3, 10)
    assert items["DENT_ADULTE_ANNUEL@45"].status is ItemStatus.TO_DO
    assert "DEPISTAGE_SEIN@50" not in items  # from 50 only


def test_a_45_year_old_man_has_no_cervical_screening():
    items = calendar(date(1981, 3, 10), "M")
    assert not any(i.rule_id.startswith("DEPISTAGE_COL") for i in items.values())
    assert "BILAN_AQ_45_50" in items


def test_a_67_year_old_man_has_colorectal_screening_and_the_senior_vaccines():
    items = calendar(date(1959, 9, 1), "M")
    colo = items["DEPISTAGE_COLORECTAL@66"]
    assert colo.status is ItemStatus.TO_DO and colo.window_end == date(2027, 9, 1)
    assert items["VAC_GRIPPE_65@2026"].status is ItemStatus.TO_DO
    assert items["VAC_PNEUMO_65#1"].status is ItemStatus.TO_DO
    dtp = items["VAC_DTP_65ANS@65#1"]
    assert dtp.status is ItemStatus.TO_DO and dtp.overdue  # 65-year booster, caught up until 75
    assert not any(i.rule_id == "DEPISTAGE_SEIN" for i in items.values())
    assert "BILAN_AQ_60_65" not in items  # closed at 66, over a year ago


def test_a_vaccination_recorded_in_the_carnet_marks_its_item_done():
    dose = DoneVaccination(date(2026, 4, 2), DTP, ref="vac-1")
    item = calendar(date(1981, 3, 10), "F", vaccinations=[dose])["VAC_DTP_45ANS#1"]
    assert item.status is ItemStatus.DONE and item.done_on == date(2026, 4, 2)


def test_what_was_said_wins_and_an_appointment_plans_the_item():
    records = {
        "DEPISTAGE_GLAUCOME": Record(ItemStatus.DONE, date(2026, 5, 1)),
        "BILAN_AQ_45_50": Record(ItemStatus.IGNORED),
        "DENT_ADULTE_ANNUEL@45": Record(ItemStatus.NOT_CONCERNED),
    }
    planned = {"VAC_DTP_45ANS#1": Planned(datetime(2027, 1, 12, 9, 30), ref=7)}
    items = calendar(date(1981, 3, 10), "F", records=records, planned=planned)
    assert items["DEPISTAGE_GLAUCOME"].status is ItemStatus.DONE
    assert items["DEPISTAGE_GLAUCOME"].done_on == date(2026, 5, 1)
    assert items["BILAN_AQ_45_50"].status is ItemStatus.IGNORED
    assert items["DENT_ADULTE_ANNUEL@45"].status is ItemStatus.NOT_CONCERNED
    dtp = items["VAC_DTP_45ANS#1"]
    assert dtp.status is ItemStatus.PLANNED and dtp.planned and dtp.planned.ref == 7
    # Once the appointment is past (not cancelled), the item was done that day.
    later = calendar(date(1981, 3, 10), "F", planned=planned, today=date(2027, 1, 20))[
        "VAC_DTP_45ANS#1"
    ]
    assert later.status is ItemStatus.DONE and later.done_on == date(2027, 1, 12)


def test_a_screening_restarts_two_years_after_the_last_one_done():
    records = {"DEPISTAGE_COLORECTAL@66": Record(ItemStatus.DONE, date(2026, 2, 15))}
    items = calendar(date(1959, 9, 1), "M", records=records, horizon=date(2029, 1, 1))
    assert items["DEPISTAGE_COLORECTAL@66"].status is ItemStatus.DONE  # kept as history
    nxt = items["DEPISTAGE_COLORECTAL@2028-02-15"]
    assert nxt.status is ItemStatus.UPCOMING


def test_high_risk_people_leave_the_organised_programme():
    items = calendar(date(1959, 9, 1), "M", conditions=["risque_eleve_colorectal"])
    assert not any(i.rule_id == "DEPISTAGE_COLORECTAL" for i in items.values())


def test_rule_versions_follow_the_window_start():
    # Born in April 2019: the exam « avant la fin du 1er mois » of the 2019 list, M'T dents
    # every 3 years before April 2025 and every year after, and the 7th-year exam of 2025.
    items = calendar(date(2019, 4, 1), "F", since=date(2019, 1, 1), horizon=date(2026, 6, 1))
    assert "EXAM_ENF_1M_2019" in items
    assert "EXAM_ENF_17" in items  # [6 y, 7 y) starts on 2025-04-01
    assert "MTDENTS_TRIENNAL@3" in items and "MTDENTS_ANNUEL@3" not in items
    assert "MTDENTS_ANNUEL@6" in items and "MTDENTS_TRIENNAL@6" not in items
    # Born in June 2017: the 7th year ended in 2024, before the exam existed.
    older = calendar(date(2017, 6, 1), "M", since=date(2022, 1, 1), horizon=date(2026, 1, 1))
    assert "EXAM_ENF_16" in older and "EXAM_ENF_17" not in older


def test_opposing_personalised_prevention_keeps_only_the_statutory_calendar():
    items = calendar(date(2020, 6, 1), "F", personalised=False)
    assert "EXAM_ENF_17" in items
    assert not any(not i.mandatory for i in items.values())


def test_the_reason_says_why_in_plain_french():
    items = calendar(date(1981, 3, 10), "F")
    text = reason_text(items["DEPISTAGE_COL_HPV@45"])
    assert text.startswith("Proposé d'après votre date de naissance et le sexe")
    child = reason_text(calendar(date(2020, 6, 1), "F")["EXAM_ENF_17"], first_name="Léa")
    assert "la date de naissance de Léa" in child

"""The vaccination calendar engine, told with people of every age (spec/prevention.md §1, §7).

Pure: no database. Each story fixes « today » and the doses already given.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mes.prevention.calendar import (
    CalendarError,
    DoneVaccination,
    Span,
    Status,
    default_calendar,
    load_calendar,
    vaccination_status,
)

TODAY = date(2026, 11, 24)  # inside the 2026-2027 flu and Covid-19 autumn campaigns
HEXA = frozenset({"DIPHTERIE", "TETANOS", "COQUELUCHE", "POLIO", "HIB", "HEPB"})
DTCAP = frozenset({"DIPHTERIE", "TETANOS", "COQUELUCHE", "POLIO"})
DTP = frozenset({"DIPHTERIE", "TETANOS", "POLIO"})
ROR = frozenset({"ROUGEOLE", "OREILLONS", "RUBEOLE"})


def dose(day: date, *valences: str | frozenset[str]) -> DoneVaccination:
    codes: set[str] = set()
    for v in valences:
        codes |= {v} if isinstance(v, str) else set(v)
    return DoneVaccination(day, frozenset(codes), ref=f"{day}:{sorted(codes)}")


def status(birth, sex, done=(), today=TODAY, **kwargs):
    return {i.key: i for i in vaccination_status(birth, sex, today, list(done), **kwargs)}


# --- the data ------------------------------------------------------------------------------


def test_the_calendar_loads_with_its_version_and_every_rule_has_a_source():
    cal = default_calendar()
    assert cal.version == "2025-12" and "2025" in cal.title
    assert len(cal.rules) > 30
    for rule in cal.rules:
        assert rule.source and all(key in cal.sources for key in rule.source), rule.id
        assert rule.valences <= set(cal.valences), rule.id
        assert rule.level in ("obligatoire", "recommande")


def test_the_eleven_infant_obligations_of_2018_are_mandatory_rules():
    cal = default_calendar()
    mandatory = set().union(*(r.valences for r in cal.rules if r.mandatory))
    assert {
        "DIPHTERIE",
        "TETANOS",
        "POLIO",
        "COQUELUCHE",
        "HIB",
        "HEPB",
        "PNEUMO",
        "MENC",
        "ROUGEOLE",
        "OREILLONS",
        "RUBEOLE",
    } <= mandatory
    # 2025: ACWY replaces C and B becomes mandatory.
    assert {"MENB", "MENA", "MENW", "MENY"} <= mandatory


def test_dtp_boosters_repeat_every_ten_years_from_65():
    ages = sorted(
        r.doses[0].start.years for r in default_calendar().rules if r.id == "VAC_DTP_65ANS"
    )
    assert ages == [65, 75, 85, 95, 105]


def test_a_malformed_calendar_is_refused(tmp_path: Path):
    bad = tmp_path / "cal.toml"
    bad.write_text(
        'version = "x"\ntitle = "x"\n[valences]\nGRIPPE = "Grippe"\n[sources]\n"S:1" = "s"\n'
        '[[rules]]\nid = "R"\nlabel = "R"\nvalences = ["INCONNU"]\n'
        'level = "recommande"\nsource = ["S:1"]\ndoses = [{ label = "d", from = "1y" }]\n',
        encoding="utf-8",
    )
    with pytest.raises(CalendarError, match="INCONNU"):
        load_calendar(bad)


def test_spans_add_calendar_months_and_clamp_the_day():
    assert Span.parse("8w").after(date(2026, 1, 1)) == date(2026, 2, 26)
    assert Span.parse("1m").after(date(2026, 1, 31)) == date(2026, 2, 28)
    assert Span.parse("11y").after(date(2015, 6, 1)) == date(2026, 6, 1)
    assert Span.parse("2m").before(date(2026, 3, 31)) == date(2026, 1, 31)
    with pytest.raises(CalendarError):
        Span.parse("deux ans")


# --- a newborn -----------------------------------------------------------------------------


def test_a_newborn_has_every_infant_dose_to_come_with_its_date():
    items = status(date(2026, 11, 1), "M")
    hexa1 = items["VAC_HEXA#1"]
    assert hexa1.status is Status.UPCOMING and hexa1.mandatory
    assert hexa1.due_date == date(2026, 12, 27)  # 8 weeks
    assert hexa1.window_end == date(2027, 2, 1)  # before 3 months
    assert items["VAC_HEXA#2"].due_date == date(2027, 3, 1)
    assert items["VAC_HEXA#3"].due_date == date(2027, 10, 1)
    assert items["VAC_PNEUMO_NOURRISSON#1"].due_date == date(2026, 12, 27)
    assert items["VAC_MENB_NOURRISSON#1"].due_date == date(2027, 2, 1)  # 3 months
    assert items["VAC_MENACWY_NOURRISSON#1"].due_date == date(2027, 5, 1)  # 6 months
    assert items["VAC_ROR#1"].due_date == date(2027, 11, 1)
    assert items["VAC_ROR#2"].window_start == date(2028, 3, 1)  # 16 to 18 months
    # Recommended, not mandatory: rotavirus; the RSV antibody of the first season, due now.
    assert not items["VAC_ROTAVIRUS#1"].mandatory
    rsv = items["IMM_NIRSEVIMAB@2026"]
    assert rsv.status is Status.TO_DO and rsv.immunisation and rsv.due_date == date(2026, 11, 1)
    # Meningococcus C belongs to the 2018-2024 calendar; conditions are not guessed.
    assert not any(k.startswith(("VAC_MENC", "VAC_BCG", "VAC_HEPB_NOUVEAU_NE")) for k in items)
    assert all(i.status is not Status.DONE for i in items.values())


def test_a_newborn_with_risk_conditions_gets_bcg_and_hepatitis_b_at_birth():
    items = status(date(2026, 11, 20), "F", conditions={"risque_tuberculose", "mere_antigene_hbs"})
    assert items["VAC_HEPB_NOUVEAU_NE#1"].status is Status.OVERDUE  # within 24 hours
    assert items["VAC_BCG#1"].status is Status.UPCOMING
    assert items["VAC_HEPB_NOUVEAU_NE#2"].due_date == date(2026, 12, 20)


# --- a two-year-old with partial doses ------------------------------------------------------


def test_a_two_year_old_with_partial_doses_is_late_on_what_is_missing():
    birth = date(2024, 12, 1)
    done = [
        dose(date(2025, 1, 27), HEXA, "PNEUMO"),
        dose(date(2025, 3, 3), "MENB"),
        dose(date(2025, 4, 1), HEXA),
        dose(date(2025, 4, 1), "PNEUMO"),
        dose(date(2025, 5, 5), "MENB"),
        dose(date(2025, 6, 2), "MENA", "MENC", "MENW", "MENY"),
    ]
    items = status(birth, "F", done)
    assert items["VAC_HEXA#1"].status is Status.DONE
    assert items["VAC_HEXA#1"].done_on == date(2025, 1, 27)
    assert items["VAC_HEXA#2"].done_on == date(2025, 4, 1)
    assert items["VAC_PNEUMO_NOURRISSON#2"].done_on == date(2025, 4, 1)
    assert items["VAC_MENB_NOURRISSON#2"].status is Status.DONE
    # Missing: the 11-month boosters, the 12-month doses, both ROR doses.
    hexa3 = items["VAC_HEXA#3"]
    assert hexa3.status is Status.OVERDUE and hexa3.mandatory
    assert hexa3.due_date == date(2025, 11, 1) and hexa3.catch_up_until == date(2030, 12, 1)
    assert items["VAC_PNEUMO_NOURRISSON#3"].status is Status.OVERDUE
    assert items["VAC_MENB_NOURRISSON#3"].status is Status.OVERDUE
    assert items["VAC_MENACWY_NOURRISSON#2"].status is Status.OVERDUE
    assert items["VAC_ROR#1"].status is Status.OVERDUE
    assert items["VAC_ROR#2"].status is Status.OVERDUE
    # From 2 years: the yearly flu vaccine, from her birthday during the campaign.
    flu = items["VAC_GRIPPE_ENFANT@2026"]
    assert flu.status is Status.UPCOMING and flu.due_date == date(2026, 12, 1)


def test_one_shot_counts_for_every_valence_it_covers_but_once_per_group():
    # A hexavalent dose counts for the hexavalent series, not also for the 6-year booster.
    items = status(date(2020, 1, 10), "M", [dose(date(2020, 3, 7), HEXA)])
    assert items["VAC_HEXA#1"].status is Status.DONE
    assert items["VAC_DTCAP_6ANS#1"].status is Status.TO_DO


def test_a_measles_dose_before_12_months_does_not_count():
    items = status(date(2024, 1, 10), "F", [dose(date(2024, 10, 1), ROR)])
    assert items["VAC_ROR#1"].status is Status.OVERDUE  # the dose at 9 months is not enough


def test_a_late_dose_moves_the_next_one_by_the_minimal_interval():
    # MenB: 2nd dose at least 2 months after the 1st, given late at 4.5 months.
    items = status(date(2026, 1, 1), "M", [dose(date(2026, 5, 15), "MENB")], today=date(2026, 6, 1))
    assert items["VAC_MENB_NOURRISSON#2"].due_date == date(2026, 7, 15)
    assert items["VAC_MENB_NOURRISSON#2"].status is Status.UPCOMING


# --- eleven-year-olds: HPV for girls and boys -----------------------------------------------


@pytest.mark.parametrize("sex", ["F", "M"])
def test_an_eleven_year_old_girl_or_boy_is_due_for_hpv(sex):
    items = status(date(2015, 6, 1), sex)
    first = items["VAC_HPV_11_14#1"]
    assert first.status is Status.TO_DO and not first.mandatory
    assert first.window_start == date(2026, 6, 1) and first.window_end == date(2030, 6, 1)
    second = items["VAC_HPV_11_14#2"]
    assert second.status is Status.UPCOMING and second.due_date == date(2027, 5, 24)
    assert items["VAC_MENACWY_ADO#1"].status is Status.TO_DO
    assert items["VAC_DTCAP_11ANS#1"].status is Status.TO_DO


def test_hpv_second_dose_is_due_six_months_after_the_first():
    items = status(date(2014, 9, 3), "F", [dose(date(2026, 3, 2), "HPV")])
    assert items["VAC_HPV_11_14#1"].done_on == date(2026, 3, 2)
    second = items["VAC_HPV_11_14#2"]
    assert second.status is Status.TO_DO and second.due_date == date(2026, 9, 2)
    assert second.window_start == date(2026, 8, 2) and second.window_end == date(2027, 4, 2)


def test_hpv_catch_up_runs_to_26_years_with_three_doses_since_december_2025():
    items = status(date(2001, 2, 1), "M")  # 25 years old
    assert items["VAC_HPV_RATTRAPAGE#1"].status is Status.TO_DO
    assert items["VAC_HPV_RATTRAPAGE#1"].window_end == date(2028, 2, 1)
    assert "VAC_HPV_RATTRAPAGE#3" in items
    # Before the December 2025 update the catch-up stopped at 19 years, except for MSM.
    before = status(date(2001, 2, 1), "M", today=date(2025, 6, 1))
    assert not any(k.startswith("VAC_HPV") for k in before)
    msm = status(date(2001, 2, 1), "M", today=date(2025, 6, 1), conditions={"hsh"})
    assert msm["VAC_HPV_HSH_2019#1"].status is Status.TO_DO


def test_hpv_started_at_16_follows_the_three_dose_catch_up():
    items = status(date(2009, 1, 1), "F", [dose(date(2025, 12, 15), "HPV")])
    assert items["VAC_HPV_RATTRAPAGE#1"].status is Status.DONE
    assert items["VAC_HPV_RATTRAPAGE#2"].due_date == date(2026, 2, 15)
    assert items["VAC_HPV_RATTRAPAGE#2"].status is Status.OVERDUE
    assert items["VAC_HPV_RATTRAPAGE#3"].status is Status.UPCOMING
    assert not any(k.startswith("VAC_HPV_11_14") for k in items)


# --- a 26-year-old: the adult dTcaP booster -------------------------------------------------


def test_a_26_year_old_without_the_25_year_booster_is_late_until_40():
    items = status(date(2000, 6, 1), "M")
    booster = items["VAC_DTCAP_25ANS#1"]
    assert booster.status is Status.OVERDUE
    assert booster.due_date == date(2025, 6, 1)
    assert booster.catch_up_until == date(2040, 6, 1)
    assert items["VAC_DTP_45ANS#1"].status is Status.UPCOMING
    assert items["VAC_DTP_45ANS#1"].due_date == date(2045, 6, 1)
    # Born since 1980: two measles doses in total are recommended.
    assert items["VAC_ROR_RATTRAPAGE#1"].status is Status.TO_DO


def test_a_26_year_old_with_the_booster_done_waits_for_45():
    items = status(
        date(2000, 6, 1),
        "M",
        [dose(date(2025, 9, 10), DTCAP), dose(date(2001, 6, 20), ROR), dose(date(2005, 3, 1), ROR)],
    )
    assert items["VAC_DTCAP_25ANS#1"].status is Status.DONE
    assert items["VAC_ROR_RATTRAPAGE#1"].status is Status.DONE
    assert items["VAC_ROR_RATTRAPAGE#2"].done_on == date(2005, 3, 1)
    pending = [
        i for i in items.values() if i.pending and i.due_date and i.due_date < date(2030, 1, 1)
    ]
    assert [i.rule_id for i in pending] == [
        "VAC_HPV_RATTRAPAGE",
        "VAC_HPV_RATTRAPAGE",
        "VAC_HPV_RATTRAPAGE",
    ]


def test_a_dtp_without_pertussis_does_not_replace_the_25_year_dtcap():
    items = status(date(2000, 6, 1), "M", [dose(date(2025, 9, 10), DTP)])
    assert items["VAC_DTCAP_25ANS#1"].status is Status.OVERDUE
    # Given at 25, it is not the 45-year dTP booster either.
    assert items["VAC_DTP_45ANS#1"].status is Status.UPCOMING


# --- a 66-year-old: flu, Covid-19, zona, pneumococcus, RSV ----------------------------------


def test_a_66_year_old_is_due_for_the_senior_vaccinations():
    items = status(date(1960, 6, 1), "F")
    flu = items["VAC_GRIPPE_65@2026"]
    assert flu.status is Status.TO_DO and flu.campaign == "flu_season"
    assert flu.window_start == date(2026, 10, 14) and flu.window_end == date(2027, 2, 1)
    assert flu.dose_label == "Saison 2026-2027"
    assert items["VAC_COVID_65@2026"].status is Status.TO_DO
    assert items["VAC_ZONA_65#1"].status is Status.TO_DO
    assert items["VAC_ZONA_65#2"].status is Status.UPCOMING
    assert items["VAC_PNEUMO_65#1"].status is Status.TO_DO
    assert items["VAC_DTP_65ANS@65#1"].status is Status.OVERDUE
    assert items["VAC_DTP_65ANS@75#1"].status is Status.UPCOMING
    # RSV: from 75 years, or from 65 with a chronic respiratory or cardiac disease.
    assert items["VAC_VRS_75#1"].status is Status.UPCOMING
    assert items["VAC_VRS_75#1"].due_date == date(2035, 6, 1)
    assert "VAC_VRS_65_RISQUE#1" not in items
    sick = status(date(1960, 6, 1), "F", conditions={"maladie_respiratoire_ou_cardiaque"})
    assert sick["VAC_VRS_65_RISQUE#1"].status is Status.TO_DO


def test_this_seasons_flu_dose_is_done_and_last_years_does_not_count():
    items = status(date(1960, 6, 1), "M", [dose(date(2025, 10, 20), "GRIPPE")])
    assert items["VAC_GRIPPE_65@2026"].status is Status.TO_DO
    items = status(date(1960, 6, 1), "M", [dose(date(2026, 10, 20), "GRIPPE")])
    assert items["VAC_GRIPPE_65@2026"].status is Status.DONE
    assert items["VAC_GRIPPE_65@2026"].done_on == date(2026, 10, 20)


def test_after_the_campaign_the_next_season_is_to_come():
    items = status(date(1960, 6, 1), "M", today=date(2027, 3, 10))
    flu = items["VAC_GRIPPE_65@2027"]
    assert flu.status is Status.UPCOMING and flu.due_date == date(2027, 10, 14)
    # The 2025-2026 campaign has its announced dates.
    items = status(date(1955, 6, 1), "M", today=date(2025, 9, 1))
    assert items["VAC_GRIPPE_65@2025"].due_date == date(2025, 10, 14)


def test_covid_autumn_dose_waits_six_months_after_the_last_one():
    items = status(date(1950, 1, 1), "M", [dose(date(2026, 8, 1), "COVID")])
    autumn = items["VAC_COVID_65@2026"]
    assert autumn.status is Status.UPCOMING and autumn.due_date == date(2027, 2, 1)


def test_zona_two_doses_two_months_apart():
    items = status(date(1958, 3, 1), "F", [dose(date(2026, 10, 1), "ZONA")])
    assert items["VAC_ZONA_65#1"].status is Status.DONE
    assert items["VAC_ZONA_65#2"].status is Status.UPCOMING
    assert items["VAC_ZONA_65#2"].due_date == date(2026, 12, 1)
    # Late for the 2nd dose: still to give, whatever the delay.
    later = status(date(1958, 3, 1), "F", [dose(date(2025, 10, 1), "ZONA")])
    assert later["VAC_ZONA_65#2"].status is Status.OVERDUE


def test_an_adult_with_a_chronic_disease_is_offered_the_flu_vaccine():
    assert "VAC_GRIPPE_RISQUE@2026" not in status(date(1981, 3, 12), "F")
    sick = status(date(1981, 3, 12), "F", conditions={"maladie_chronique"})
    assert sick["VAC_GRIPPE_RISQUE@2026"].status is Status.TO_DO
    # Vaccinated last season: she belongs to a group the vaccine is recommended for.
    recalled = status(date(1981, 3, 12), "F", [dose(date(2025, 10, 30), "GRIPPE")])
    assert recalled["VAC_GRIPPE_RISQUE@2026"].status is Status.TO_DO


def test_a_pregnancy_brings_pertussis_and_flu():
    start = date(2026, 6, 1)  # first day of amenorrhoea
    items = status(date(1992, 4, 4), "F", pregnancy_start=start)
    pertussis = items["VAC_COQUELUCHE_GROSSESSE#1"]
    assert pertussis.window_start == date(2026, 10, 19)  # 20 weeks
    assert pertussis.status is Status.TO_DO
    rsv = items["VAC_VRS_GROSSESSE#1"]  # 32-36 weeks, in the September-January season
    assert rsv.window_start == date(2027, 1, 11) and rsv.window_end == date(2027, 2, 1)
    assert items["VAC_GRIPPE_RISQUE@2026"].status is Status.TO_DO


# --- children born before 2018 -------------------------------------------------------------


@pytest.mark.parametrize("sex", ["F", "M"])
def test_a_child_born_before_2018_has_no_infant_obligation_but_catch_ups(sex):
    items = status(date(2017, 3, 15), sex)
    assert not any(i.mandatory for i in items.values())
    assert not any(k.startswith(("VAC_HEXA", "VAC_PNEUMO_NOURRISSON", "VAC_ROR#")) for k in items)
    assert items["VAC_ROR_RATTRAPAGE#1"].status is Status.TO_DO
    assert items["VAC_DTCAP_6ANS#1"].status is Status.OVERDUE  # until 11 years
    assert items["VAC_HEPB_RATTRAPAGE_ENFANT#1"].status is Status.TO_DO
    assert items["VAC_HPV_11_14#1"].status is Status.UPCOMING
    born_2018 = status(date(2018, 1, 2), sex)
    assert born_2018["VAC_ROR#1"].mandatory


def test_a_child_born_in_2020_had_meningococcus_c_not_acwy():
    items = status(
        date(2020, 5, 17),
        "M",
        [dose(date(2020, 10, 20), "MENC"), dose(date(2021, 5, 20), "MENC")],
    )
    assert items["VAC_MENC_2018#1"].status is Status.DONE
    assert items["VAC_MENC_2018#2"].status is Status.DONE
    assert not any(k.startswith(("VAC_MENB_NOURRISSON", "VAC_MENACWY_NOURRISSON")) for k in items)


def test_items_carry_their_rule_sources_and_the_calendar_version():
    item = status(date(2015, 6, 1), "F")["VAC_HPV_11_14#1"]
    assert item.calendar_version == "2025-12"
    assert [s.key for s in item.sources] == ["S:16", "S:36"]
    assert "Santé publique France" in item.sources[0].label
    assert item.diseases == ("Papillomavirus (HPV)",)
    assert item.reason and item.age_label == "entre 11 et 14 ans"
    assert item.level_label == "Vaccination recommandée"

"""The charts are pictures: well-formed SVG with a title and a description, the points and the
lines, no style attribute (CSP), growth curves behind a child's points."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from mes.measures import charts, profiles

PARIS = ZoneInfo("Europe/Paris")
SVG = "{http://www.w3.org/2000/svg}"


def pts(*rows):
    return [
        charts.ChartPoint(datetime(*d, 9, tzinfo=PARIS), tuple(Decimal(str(v)) for v in vs))
        for d, *vs in rows
    ]


def parse(chart):
    root = ET.fromstring(str(chart.svg))
    assert root.tag == SVG + "svg"
    return root


def render(code, points, birth=date(1981, 3, 12), sex="F"):
    return charts.render(
        profiles.get(code), points, subject="Louise Dupont", birth_date=birth, sex=sex, chart_id="c"
    )


def test_weight_chart_has_its_points_line_axes_and_text_alternative():
    chart = render("WEIGHT", pts(((2025, 3, 1), 84), ((2025, 9, 1), 80.5), ((2026, 2, 1), 77)))
    root = parse(chart)
    assert root.get("viewBox") == "0 0 400 260" and root.get("width") == "100%"
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(SVG + "title").text == "Poids de Louise Dupont"
    assert root.find(SVG + "desc").text == (
        "Poids en kilogrammes : 3 valeurs du 01/03/2025 au 01/02/2026."
    )
    circles = root.findall(f".//{SVG}circle")
    assert len(circles) == 3
    assert [c.find(SVG + "title").text for c in circles] == [
        "01/03/2025 : 84,0 kg",
        "01/09/2025 : 80,5 kg",
        "01/02/2026 : 77,0 kg",
    ]
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 3
    # Higher weight, higher on the picture (smaller y).
    ys = [float(c.get("cy")) for c in circles]
    assert ys[0] < ys[1] < ys[2]
    texts = [t.text for t in root.iter(SVG + "text")]
    assert "kg" in texts and "avr. 2025" in texts
    assert "style=" not in str(chart.svg) and "<script" not in str(chart.svg)
    assert not chart.is_growth and chart.reference_source == ""
    assert chart.summary == (
        "Dernière valeur : 77,0 kg le 01/02/2026. Valeur la plus basse : 77,0 kg le 01/02/2026. "
        "Valeur la plus haute : 84,0 kg le 01/03/2025."
    )


def test_blood_pressure_draws_two_lines_with_a_legend():
    chart = render("BLOOD_PRESSURE", pts(((2025, 12, 1), 138, 88), ((2026, 1, 5), 132, 82)))
    root = parse(chart)
    series = [p.get("class") for p in root.findall(f".//{SVG}polyline")]
    assert (
        series.count("chart-line chart-series-1") == 1
        and series.count("chart-line chart-series-2") == 1
    )
    tips = [c.find(SVG + "title").text for c in root.findall(f".//{SVG}circle")]
    assert "Systolique, le 01/12/2025 : 138 mmHg" in tips
    assert "Diastolique, le 05/01/2026 : 82 mmHg" in tips
    assert [(s.css, s.label) for s in chart.legend] == [
        ("chart-series-1", "Systolique"),
        ("chart-series-2", "Diastolique"),
    ]
    assert chart.summary.startswith("Dernière valeur : 132/82 mmHg le 05/01/2026.")


def test_glucose_draws_one_line_per_moment_in_the_jdv_order():
    points = [
        charts.ChartPoint(
            datetime(2026, 1, d, 15, tzinfo=PARIS), (Decimal(160 + d),), "Après un repas"
        )
        for d in (4, 11)
    ] + [
        charts.ChartPoint(datetime(2026, 1, d, 7, tzinfo=PARIS), (Decimal(120 - d),), "À jeun")
        for d in (5, 7, 9)
    ]
    chart = charts.render(
        profiles.get("GLUCOSE"),
        points,
        subject="Louise Dupont",
        birth_date=date(1981, 3, 12),
        sex="F",
        chart_id="g",
        group_order=["À jeun", "Avant un repas", "Après un repas"],
    )
    root = parse(chart)
    assert [(s.label, len(s.points)) for s in chart.legend] == [
        ("À jeun", 3),
        ("Après un repas", 2),
    ]
    lines = root.findall(f".//{SVG}polyline")
    assert [len(p.get("points").split()) for p in lines] == [3, 2]
    assert "À jeun, le 05/01/2026 : 115 mg/dL" in [
        c.find(SVG + "title").text for c in root.iter(SVG + "circle")
    ]
    assert "chart-dense" not in root.get("class")


def test_many_points_make_a_dense_chart():
    many = pts(*(((2025, 1 + i // 28, 1 + i % 28), 70 + i % 5) for i in range(70)))
    root = parse(render("WEIGHT", many))
    assert root.get("class") == "mes-chart chart-dense"
    assert {c.get("r") for c in root.iter(SVG + "circle")} == {"2.5"}


def test_a_single_value_still_draws_a_point():
    root = parse(render("GLUCOSE", pts(((2026, 2, 1), 142))))
    assert len(root.findall(f".//{SVG}circle")) == 1 and not root.findall(f".//{SVG}polyline")


def test_nothing_to_draw():
    assert render("WEIGHT", []) is None


def test_a_childs_chart_draws_the_growth_reference_behind_the_points():
    leo = date(2020, 5, 17)
    chart = render(
        "HEIGHT",
        pts(((2024, 5, 20), 104), ((2025, 5, 20), 110.5), ((2026, 4, 1), 116)),
        birth=leo,
        sex="M",
    )
    root = parse(chart)
    assert chart.is_growth and chart.reference_source.startswith(
        "Organisation mondiale de la santé"
    )
    reference = root.find(f"{SVG}g[@class='chart-reference']")
    assert reference is not None
    centiles = [p.get("data-centile") for p in reference.findall(f"{SVG}polyline")]
    assert centiles == ["P3", "P50", "P97"]
    assert reference.find(f"{SVG}polygon[@class='chart-ref-band']") is not None
    # Drawn first: the reference is behind the child's own line.
    children = list(root)
    assert children.index(reference) < children.index(root.find(f"{SVG}polyline[@class]"))
    # The horizontal axis reads as the child's age.
    assert {"4 ans", "5 ans"} <= {t.text for t in root.iter(SVG + "text")}
    assert root.find(SVG + "desc").text.endswith(
        "Les courbes de référence (3e, 50e et 97e centiles) sont tracées en arrière-plan."
    )


def test_no_growth_reference_for_an_adult_or_beyond_the_table():
    adult = render("HEIGHT", pts(((2025, 1, 1), 165), ((2026, 1, 1), 165)))
    assert not adult.is_growth
    # A boy of 11 has no weight-for-age reference (the WHO stops at 10 years).
    boy = render(
        "WEIGHT", pts(((2026, 1, 1), 33), ((2026, 2, 1), 33.4)), birth=date(2015, 3, 2), sex="M"
    )
    assert not boy.is_growth
    # Head circumference has curves until 5 years only.
    baby = render(
        "HEAD_CIRCUMFERENCE",
        pts(((2020, 6, 17), 38), ((2020, 9, 17), 42)),
        birth=date(2020, 5, 17),
        sex="M",
    )
    assert baby.is_growth

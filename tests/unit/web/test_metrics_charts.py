"""The metrics page's time charts: axis labels in a unit that reads at a glance (never `0.006 min`
for 350 ms, which the gutter clipped to `006 min`), and every dot where its labels say it is."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest

from incident_response.services.metrics import IncidentFacts, report
from incident_response.web.console.charts import HEIGHT, time_unit
from incident_response.web.console.metrics_page import bucket_label, charts

SVG = "{http://www.w3.org/2000/svg}"
DAY1 = datetime(2026, 11, 2, tzinfo=UTC)
LABEL = re.compile(r"^(\d+(?:\.\d+)?) (ms|s|min|h|d)$")


def incident(
    day: datetime, *, ack: float, resolve: float, assemble: float = 0.004
) -> IncidentFacts:
    opened = day + timedelta(hours=9)
    return IncidentFacts(
        incident_id=f"inc-{day:%d}",
        opened_at=opened,
        acknowledged_at=opened + timedelta(seconds=ack),
        assembled_at=opened + timedelta(seconds=assemble),
        resolved_at=opened + timedelta(seconds=resolve),
    )


def chart(chart_id: str, *facts: IncidentFacts) -> ET.Element:
    metrics = report(facts, start=DAY1, end=DAY1 + timedelta(days=2), bucket=timedelta(days=1))
    labels = [bucket_label(b, metrics.bucket) for b in metrics.buckets]
    return ET.fromstring(str(charts(metrics, labels)[chart_id]))


def axis(svg: ET.Element) -> list[tuple[str, float]]:
    """The y axis labels, bottom to top, with the height each one marks."""
    found = [
        (text.text or "", float(text.get("y", "0")) - 4)
        for text in svg.iter(f"{SVG}text")
        if text.get("text-anchor") == "end"
    ]
    return sorted(found, key=lambda label: -label[1])


def points(svg: ET.Element) -> dict[str, float]:
    return {
        (c.find(f"{SVG}title").text or ""): float(c.get("cy", "0"))
        for c in svg.iter(f"{SVG}circle")
    }


@pytest.mark.parametrize(
    ("mtta", "mttr", "unit", "labels", "tooltips"),
    [
        (
            [0.181, 0.25],
            [0.33, 0.3],
            "milliseconds",
            ["0 ms", "100 ms", "200 ms", "300 ms", "400 ms"],
            [
                "First response, Nov 02: 181 ms",
                "First response, Nov 03: 250 ms",
                "Resolve, Nov 02: 330 ms",
            ],
        ),
        (
            [20.0, 12.0],
            [45.0, 30.0],
            "seconds",
            ["0 s", "20 s", "40 s", "60 s"],
            ["First response, Nov 02: 20 s", "Resolve, Nov 02: 45 s", "Resolve, Nov 03: 30 s"],
        ),
        (
            [180.0, 0.181],
            [2520.0, 1800.0],
            "minutes",
            ["0 min", "20 min", "40 min", "60 min"],
            [
                "First response, Nov 02: 3 min",
                "First response, Nov 03: 0.003 min",
                "Resolve, Nov 02: 42 min",
            ],
        ),
        (
            [600.0, 900.0],
            [5 * 3600.0, 2.5 * 3600.0],
            "hours",
            ["0 h", "2 h", "4 h", "6 h"],
            ["First response, Nov 02: 0.17 h", "Resolve, Nov 02: 5 h", "Resolve, Nov 03: 2.5 h"],
        ),
    ],
    ids=["milliseconds", "seconds", "minutes", "hours"],
)
def test_the_acknowledge_and_resolve_axis_reads_in_a_fitting_unit(
    mtta: list[float], mttr: list[float], unit: str, labels: list[str], tooltips: list[str]
) -> None:
    svg = chart(
        "response",
        incident(DAY1, ack=mtta[0], resolve=mttr[0]),
        incident(DAY1 + timedelta(days=1), ack=mtta[1], resolve=mttr[1]),
    )
    assert svg.find(f"{SVG}title").text == (f"Mean time to first response and to resolve ({unit})")
    assert [text for text, _ in axis(svg)] == labels
    assert set(tooltips) <= set(points(svg))


@pytest.mark.parametrize(
    ("mtta", "mttr"),
    [
        ([0.181, 0.25], [0.33, 0.3]),
        ([20.0, 12.0], [45.0, 30.0]),
        ([180.0, 0.181], [2520.0, 1800.0]),
        ([600.0, 900.0], [5 * 3600.0, 2.5 * 3600.0]),
        ([3600.0, 7200.0], [4 * 86400.0, 6 * 86400.0]),
    ],
)
def test_every_dot_sits_where_the_axis_labels_put_its_value(
    mtta: list[float], mttr: list[float]
) -> None:
    svg = chart(
        "response",
        incident(DAY1, ack=mtta[0], resolve=mttr[0]),
        incident(DAY1 + timedelta(days=1), ack=mtta[1], resolve=mttr[1]),
    )
    ticks = axis(svg)
    parsed = [LABEL.match(text) for text, _ in ticks]
    assert all(parsed), [text for text, _ in ticks]
    units = {m.group(2) for m in parsed if m}
    assert len(units) == 1
    (zero, zero_y), (top, top_y) = ticks[0], ticks[-1]
    assert zero.startswith("0 ")
    top_value = float(top.split()[0])
    assert all(len(text) <= len("100 min") for text, _ in ticks)  # fits the gutter
    seconds = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}[units.pop()]
    expected = {
        f"{name}, {day}": value
        for name, values in (("First response", mtta), ("Resolve", mttr))
        for day, value in zip(("Nov 02", "Nov 03"), values, strict=True)
    }
    for title, cy in points(svg).items():
        key = title.rsplit(":", 1)[0]
        read = top_value * (zero_y - cy) / (zero_y - top_y) * seconds
        assert read == pytest.approx(expected[key], rel=0.01, abs=top_value * seconds / HEIGHT)


def test_sub_second_war_rooms_are_charted_in_milliseconds() -> None:
    svg = chart(
        "assembled",
        incident(DAY1, ack=60, resolve=600, assemble=0.0034),
        incident(DAY1 + timedelta(days=1), ack=60, resolve=600, assemble=0.012),
    )
    assert "(milliseconds)" in (svg.find(f"{SVG}title").text or "")
    assert [text for text, _ in axis(svg)][-1] == "15 ms"
    assert "p50, Nov 02: 3.4 ms" in points(svg)
    description = svg.find(f"{SVG}desc").text or ""
    assert "p90 12 ms" in description  # the same words as the figures above the charts


@pytest.mark.parametrize(
    ("seconds", "unit"),
    [
        (0.0, "ms"),
        (0.999, "ms"),
        (1.0, "s"),
        (119.0, "s"),
        (120.0, "min"),
        (7199.0, "min"),
        (7200.0, "h"),
        (71 * 3600.0, "h"),
        (3 * 86400.0, "d"),
    ],
)
def test_the_unit_follows_the_longest_value(seconds: float, unit: str) -> None:
    assert time_unit(seconds).short == unit

"""The metrics charts are well-formed SVG with text alternatives and honest gaps."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from incident_response.web.console.charts import Series, bar_chart, line_chart, nice_step, share_bar

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_a_line_chart_is_named_described_and_has_a_point_per_value() -> None:
    svg = parse(
        line_chart(
            chart_id="c",
            title="Alert <to> assembled",
            description="p50 and p90",
            labels=["Nov 01", "Nov 02", "Nov 03"],
            series=[Series("p50", [1.0, None, 3.0]), Series("p90", [2.0, 4.0, 6.0])],
            fmt=lambda v: f"{v:g} s",
        )
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c-title c-desc"
    assert svg.find(f"{SVG}title").text == "Alert <to> assembled"
    assert svg.find(f"{SVG}desc").text == "p50 and p90"
    points = svg.findall(f".//{SVG}circle")
    assert len(points) == 5  # the missing value is not drawn as zero
    assert [p.find(f"{SVG}title").text for p in points][:2] == [
        "p50, Nov 01: 1 s",
        "p50, Nov 03: 3 s",
    ]
    # a gap breaks the p50 line, so only p90 has a polyline through three points
    lines = svg.findall(f".//{SVG}polyline")
    assert len(lines) == 1


def test_bars_grow_with_their_values() -> None:
    svg = parse(
        bar_chart(
            chart_id="b",
            title="Drafts",
            description="approved and rejected",
            labels=["a", "b"],
            series=[Series("Approved", [2.0, 4.0]), Series("Rejected", [1.0, 0.0])],
            fmt=lambda v: f"{v:g}",
        )
    )
    bars = svg.findall(f".//{SVG}rect")
    heights = {b.find(f"{SVG}title").text: float(b.get("height", "0")) for b in bars}
    assert set(heights) == {"Approved, a: 2", "Approved, b: 4", "Rejected, a: 1"}
    assert heights["Approved, b: 4"] == 2 * heights["Approved, a: 2"]


def test_a_share_bar_splits_the_width_by_share() -> None:
    svg = parse(
        share_bar(chart_id="s", title="Answered", parts=[("Yes", 3.0), ("No", 1.0)], fmt=str)
    )
    yes, no = (r for r in svg.findall(f"{SVG}rect") if r.get("class", "").startswith("bar"))
    assert float(yes.get("width", "0")) == 3 * float(no.get("width", "0"))
    assert svg.find(f"{SVG}desc").text == "Yes: 3.0; No: 1.0"


def test_gridlines_fall_on_round_numbers() -> None:
    assert nice_step(8) == 2
    assert nice_step(10) == 5
    assert nice_step(0.034) == 0.01
    assert nice_step(900) == 500
    assert nice_step(0) == 1

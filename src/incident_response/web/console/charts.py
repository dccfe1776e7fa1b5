"""Small charts drawn on the server as inline SVG: no script, no chart library.

Each chart is an `<svg role="img">` named by its `<title>` and summarised by its `<desc>`; every
point and bar carries its value in a `<title>` (a tooltip, read by screen readers), and the
metrics page shows the same numbers as a table. Series differ by line style as well as colour.
Colours come from the stylesheet (classes `series-1`, `series-2`, ...), so they follow the theme.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 68, 16, 16, 40  # LEFT: room for a 7-character label, "1000 ms"
MAX_X_LABELS = 8


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


Format = Callable[[float], str]


@dataclass(frozen=True)
class TimeUnit:
    """A unit for a time axis: values are divided by `seconds` and labelled `short`."""

    seconds: float
    short: str
    long: str


MILLISECONDS = TimeUnit(0.001, "ms", "milliseconds")
SECONDS = TimeUnit(1.0, "s", "seconds")
MINUTES = TimeUnit(60.0, "min", "minutes")
HOURS = TimeUnit(3600.0, "h", "hours")
DAYS = TimeUnit(86400.0, "d", "days")


def time_unit(longest_seconds: float) -> TimeUnit:
    """The unit a time axis reads best in: its labels stay short round numbers (`200 ms`,
    `40 s`, `90 min`, `6 h`) that fit beside the axis. A fraction of the unit instead, such as
    `0.006 min` for 350 ms, is both hard to read and too wide for the gutter."""
    if longest_seconds < 1:
        return MILLISECONDS
    if longest_seconds < 120:
        return SECONDS
    if longest_seconds < 7200:
        return MINUTES
    if longest_seconds < 3 * 86400:
        return HOURS
    return DAYS


def in_unit(seconds: Sequence[float | None], unit: TimeUnit) -> list[float | None]:
    return [None if s is None else s / unit.seconds for s in seconds]


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` gridlines."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _top(series: Sequence[Series]) -> float:
    values = [v for s in series for v in s.values if v is not None]
    highest = max(values, default=0.0)
    step = nice_step(highest)
    return max(step * math.ceil(highest / step), step)


def _frame(
    chart_id: str, title: str, description: str, top: float, fmt: Format, labels: Sequence[str]
) -> list[str]:
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    step = nice_step(top)
    for n in range(math.floor(top / step + 0.001) + 1):
        tick = n * step  # multiplied, not summed, so no float drift reaches the labels
        y = _y(tick, top)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(tick))}</text>"
        )
    every = max(math.ceil(len(labels) / MAX_X_LABELS), 1)
    for i, label in enumerate(labels):
        if (len(labels) - 1 - i) % every == 0:  # always label the newest
            parts.append(
                f'<text class="axis" x="{_x(i, len(labels)):.1f}" y="{HEIGHT - BOTTOM + 18}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return parts


def _x(i: int, n: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    if n <= 1:
        return LEFT + inner / 2
    return LEFT + inner * (i + 0.5) / n


def _y(value: float, top: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return TOP + inner * (1 - value / top)


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Format,
) -> Markup:
    """Lines over time; a gap (None) breaks the line rather than pretending to be zero."""
    top = _top(series)
    parts = _frame(chart_id, title, description, top, fmt, labels)
    for n, one in enumerate(series, start=1):
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(one.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append((_x(i, len(labels)), _y(value, top)))
        for run in runs:
            if len(run) > 1:
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline class="line series-{n}" points="{points}"/>')
        for i, value in enumerate(one.values):
            if value is None:
                continue
            x, y = _x(i, len(labels)), _y(value, top)
            parts.append(
                f'<circle class="point series-{n}" cx="{x:.1f}" cy="{y:.1f}" r="4">'
                f"<title>{escape(one.name)}, {escape(labels[i])}: {escape(fmt(value))}</title>"
                "</circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Format,
) -> Markup:
    """Grouped bars, one group per label, one bar per series."""
    top = _top(series)
    parts = _frame(chart_id, title, description, top, fmt, labels)
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    bar = max(min(slot * 0.8 / max(len(series), 1), 28.0), 2.0)
    for n, one in enumerate(series, start=1):
        for i, value in enumerate(one.values):
            if not value:
                continue
            x = _x(i, len(labels)) - bar * len(series) / 2 + bar * (n - 1)
            y = _y(value, top)
            height = HEIGHT - BOTTOM - y
            parts.append(
                f'<rect class="bar series-{n}" x="{x:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" '
                f'height="{height:.1f}"><title>{escape(one.name)}, {escape(labels[i])}: '
                f"{escape(fmt(value))}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bar(
    *, chart_id: str, title: str, parts: Sequence[tuple[str, float]], fmt: Format
) -> Markup:
    """One horizontal bar split into shares (e.g. reminders answered / unanswered)."""
    total = sum(v for _, v in parts)
    description = "; ".join(f"{name}: {fmt(value)}" for name, value in parts)
    out = [
        f'<svg class="chart share" viewBox="0 0 {WIDTH} 44" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description or "no data")}</desc>',
        f'<rect class="track" x="0" y="6" width="{WIDTH}" height="32" rx="4"/>',
    ]
    x = 0.0
    for n, (name, value) in enumerate(parts, start=1):
        if total <= 0 or value <= 0:
            continue
        width = WIDTH * value / total
        out.append(
            f'<rect class="bar series-{n}" x="{x:.1f}" y="6" width="{width:.1f}" height="32">'
            f"<title>{escape(name)}: {escape(fmt(value))}</title></rect>"
        )
        x += width
    out.append("</svg>")
    return Markup("".join(out))

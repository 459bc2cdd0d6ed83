"""Line charts as SVG text: series, a threshold line, shaded bands and labelled markers.

Hand-written SVG keeps the pictures dependency-free (the on-call CLI draws them too) and
deterministic (tests compare coordinates). x is any number (callers pass minutes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")
THRESHOLD_COLOUR = "#d62728"
BAND_COLOUR = "#d62728"
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 58  # plot margins in px (legend and x label below)


@dataclass(frozen=True)
class Line:
    """One series: (x, y) points; a None y breaks the line (missing data)."""

    label: str
    points: Sequence[tuple[float, float | None]]


@dataclass(frozen=True)
class Chart:
    """What to draw; `bands` are shaded x ranges (e.g. ALARM periods), `markers` vertical lines."""

    title: str
    lines: Sequence[Line]
    x_label: str = ""
    threshold: float | None = None
    threshold_label: str = "threshold"
    bands: Sequence[tuple[float, float]] = ()
    band_label: str = "ALARM"
    markers: Sequence[tuple[float, str]] = ()
    x_range: tuple[float, float] | None = None
    width: int = 640
    height: int = 240


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 5 × 10^n steps)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _fmt(value: float) -> str:
    if abs(value) >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


class _Scale:
    def __init__(self, chart: Chart) -> None:
        xs = [x for line in chart.lines for x, _ in line.points]
        xs += [x for band in chart.bands for x in band] + [x for x, _ in chart.markers]
        ys = [y for line in chart.lines for _, y in line.points if y is not None]
        if chart.threshold is not None:
            ys.append(chart.threshold)
        x0, x1 = chart.x_range or ((min(xs), max(xs)) if xs else (0.0, 1.0))
        self.x0, self.x1 = x0, x1 if x1 > x0 else x0 + 1
        self.y_ticks = nice_ticks(min([0.0, *ys]), max([1.0, *ys]))
        self.y0, self.y1 = self.y_ticks[0], self.y_ticks[-1]
        self.left, self.right = LEFT, chart.width - RIGHT
        self.top, self.bottom = TOP, chart.height - BOTTOM

    def x(self, value: float) -> float:
        span = self.x1 - self.x0
        return round(self.left + (value - self.x0) / span * (self.right - self.left), 1)

    def y(self, value: float) -> float:
        span = self.y1 - self.y0
        return round(self.bottom - (value - self.y0) / span * (self.bottom - self.top), 1)


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    out: list[list[tuple[float, float]]] = [[]]
    for x, y in sorted(points, key=lambda p: p[0]):
        if y is None:
            if out[-1]:
                out.append([])
            continue
        out[-1].append((x, y))
    return [seg for seg in out if seg]


def render(chart: Chart) -> str:
    """The chart as one `<svg>` element (valid XML, no external references)."""
    s = _Scale(chart)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{chart.width}" height="{chart.height}" '
        f'viewBox="0 0 {chart.width} {chart.height}" role="img" aria-label="{escape(chart.title)}" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(chart.title)}</title>",
        f'<text x="{s.left}" y="16" font-size="13" font-weight="bold">{escape(chart.title)}</text>',
    ]
    for a, b in chart.bands:
        x_a, x_b = s.x(max(a, s.x0)), s.x(min(b, s.x1))
        parts.append(
            f'<rect class="band" x="{x_a}" y="{s.top}" width="{round(max(x_b - x_a, 1), 1)}" '
            f'height="{s.bottom - s.top}" fill="{BAND_COLOUR}" fill-opacity="0.15"/>'
        )
    for tick in s.y_ticks:
        y = s.y(tick)
        parts.append(f'<line x1="{s.left}" x2="{s.right}" y1="{y}" y2="{y}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{s.left - 4}" y="{y + 4}" text-anchor="end">{_fmt(tick)}</text>')
    for tick in nice_ticks(s.x0, s.x1, 6):
        if s.x0 <= tick <= s.x1:
            x = s.x(tick)
            parts.append(f'<line x1="{x}" x2="{x}" y1="{s.bottom}" y2="{s.bottom + 4}" stroke="#555"/>')
            parts.append(f'<text x="{x}" y="{s.bottom + 16}" text-anchor="middle">{_fmt(tick)}</text>')
    parts.append(
        f'<rect x="{s.left}" y="{s.top}" width="{s.right - s.left}" height="{s.bottom - s.top}" '
        'fill="none" stroke="#555"/>'
    )
    if chart.x_label:
        parts.append(
            f'<text x="{(s.left + s.right) / 2}" y="{s.bottom + 29}" text-anchor="middle">'
            f"{escape(chart.x_label)}</text>"
        )
    for i, (x_value, label) in enumerate(sorted(chart.markers)):
        x = s.x(x_value)
        parts.append(
            f'<line class="marker" x1="{x}" x2="{x}" y1="{s.top}" y2="{s.bottom}" stroke="#333" '
            'stroke-dasharray="2,3"/>'
        )
        # labels step down so neighbours do not overlap; near the right edge they end at the line
        near_right = x > s.right - 6.2 * len(label) - 6
        anchor = f'x="{x - 3}" text-anchor="end"' if near_right else f'x="{x + 3}"'
        y = s.top + 11 + 12 * (i % 3)
        parts.append(f'<text class="marker-label" {anchor} y="{y}" fill="#333">{escape(label)}</text>')
    if chart.threshold is not None:
        y = s.y(chart.threshold)
        parts.append(
            f'<line class="threshold" x1="{s.left}" x2="{s.right}" y1="{y}" y2="{y}" '
            f'stroke="{THRESHOLD_COLOUR}" stroke-width="1.5" stroke-dasharray="6,4"/>'
        )
    for i, line in enumerate(chart.lines):
        colour = PALETTE[i % len(PALETTE)]
        inside = [(x, y) for x, y in line.points if s.x0 <= x <= s.x1]  # an x_range clips the line
        for seg in _segments(inside):
            if len(seg) == 1:
                (x, y) = seg[0]
                parts.append(f'<circle cx="{s.x(x)}" cy="{s.y(y)}" r="2" fill="{colour}"/>')
                continue
            points = " ".join(f"{s.x(x)},{s.y(y)}" for x, y in seg)
            parts.append(
                f'<polyline class="series" points="{points}" fill="none" stroke="{colour}" '
                'stroke-width="1.6"/>'
            )
    parts.extend(_legend(chart, s))
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(chart: Chart, s: _Scale) -> list[str]:
    entries = [(PALETTE[i % len(PALETTE)], line.label, "") for i, line in enumerate(chart.lines)]
    if chart.threshold is not None:
        entries.append((THRESHOLD_COLOUR, f"{chart.threshold_label} {_fmt(chart.threshold)}", "6,4"))
    if chart.bands:
        entries.append((BAND_COLOUR, chart.band_label, "band"))
    out, x = [], float(s.left)
    y = chart.height - 8
    for colour, label, kind in entries:
        if kind == "band":
            out.append(
                f'<rect x="{x}" y="{y - 8}" width="14" height="10" fill="{colour}" fill-opacity="0.15"/>'
            )
        else:
            dash = f' stroke-dasharray="{kind}"' if kind else ""
            out.append(
                f'<line x1="{x}" x2="{x + 14}" y1="{y - 3}" y2="{y - 3}" stroke="{colour}" '
                f'stroke-width="2"{dash}/>'
            )
        out.append(f'<text x="{x + 18}" y="{y}">{escape(label)}</text>')
        x += 26 + 6.2 * len(label)
    return out


def alarm_bands(transitions: Sequence[tuple[float, str]], end: float) -> list[tuple[float, float]]:
    """ALARM periods from (time, new state) transitions in time order; an open one ends at `end`."""
    bands, start = [], None
    for t, state in transitions:
        if state == "ALARM" and start is None:
            start = t
        elif state != "ALARM" and start is not None:
            bands.append((start, t))
            start = None
    if start is not None:
        bands.append((start, end))
    return bands

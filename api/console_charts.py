"""Bar charts of the console's 统计 page as inline SVG, drawn on the server (no script, no
library, no external asset).

Pure functions of their data. Every chart is an image to assistive technology (role="img",
named by its <title> and described by its <desc>), prints each value as text beside its bar,
and is shown next to a table of the same figures. Colours are SVG presentation attributes:
the console's Content-Security-Policy allows no inline style. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

INK = "#1f2328"
BAR = "#1f6feb"
AXIS = "#8c959f"
FONT = 'font-family="system-ui, sans-serif" font-size="13"'
LABEL_CHARS = 10  # a longer label is cut (with …) on the chart; its bar's tooltip has it whole


@dataclass(frozen=True)
class Bar:
    """One bar: `value` None draws none (a rate without a denominator), `text` is printed."""

    label: str
    value: float | None
    text: str


@dataclass(frozen=True)
class Chart:
    """`chart_id` is unique on the page (it names the title and description); a bar of value
    `scale` is drawn full length (1.0 for a rate)."""

    chart_id: str
    title: str
    desc: str
    bars: tuple[Bar, ...]
    scale: float


def bar_length(value: float | None, scale: float, full: float) -> float:
    """The length of a bar of `value` when `scale` is drawn `full` long (clamped to 0..full)."""
    if value is None or scale <= 0:
        return 0.0
    return round(max(0.0, min(full, full * value / scale)), 1)


def count_scale(values: Sequence[float]) -> float:
    """The scale of a chart of counts: its largest value (1 when all are 0)."""
    return max((*values, 1))


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _open(chart: Chart, width: float, height: float) -> str:
    ident = escape(chart.chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{ident}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" {FONT}>'
        f'<title id="{ident}-title">{escape(chart.title)}</title>'
        f'<desc id="{ident}-desc">{escape(chart.desc)}</desc>'
    )


def _empty(chart: Chart, width: float) -> Markup:
    return Markup(
        _open(chart, width, 40)
        + f'<text x="{width / 2:g}" y="24" text-anchor="middle" fill="{INK}">无数据</text></svg>'
    )


def horizontal_bar_chart(chart: Chart, *, label_width: float = 150, full: float = 320) -> Markup:
    """One row per bar: its label on the left, the bar, its value printed after it."""
    row, bar_height, top = 28.0, 18.0, 8.0
    width = label_width + full + 80
    if not chart.bars:
        return _empty(chart, width)
    height = top * 2 + row * len(chart.bars)
    parts = [_open(chart, width, height)]
    parts.append(
        f'<line x1="{label_width:g}" y1="{top:g}" x2="{label_width:g}" '
        f'y2="{height - top:g}" stroke="{AXIS}"/>'
    )
    for n, bar in enumerate(chart.bars):
        y = top + n * row
        middle = y + row / 2 + 4
        length = bar_length(bar.value, chart.scale, full)
        parts.append(
            f'<text x="{label_width - 8:g}" y="{middle:g}" text-anchor="end" fill="{INK}">'
            f"{escape(_short(bar.label))}</text>"
        )
        if bar.value is not None:
            parts.append(
                f'<rect class="bar" x="{label_width:g}" y="{y + (row - bar_height) / 2:g}" '
                f'width="{length:g}" height="{bar_height:g}" fill="{BAR}">'
                f"<title>{escape(bar.label)}：{escape(bar.text)}</title></rect>"
            )
        parts.append(
            f'<text class="value" x="{label_width + length + 6:g}" y="{middle:g}" '
            f'fill="{INK}">{escape(bar.text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(chart: Chart, *, column: float = 56, full: float = 160) -> Markup:
    """One column per bar, left to right: its value printed above it, its label below."""
    left, top, bottom, bar_width = 8.0, 24.0, 28.0, column * 0.6
    width = left * 2 + column * max(len(chart.bars), 1)
    if not chart.bars:
        return _empty(chart, max(width, 240))
    baseline = top + full
    height = baseline + bottom
    parts = [_open(chart, width, height)]
    parts.append(
        f'<line x1="{left:g}" y1="{baseline:g}" x2="{width - left:g}" y2="{baseline:g}" '
        f'stroke="{AXIS}"/>'
    )
    for n, bar in enumerate(chart.bars):
        centre = left + column * n + column / 2
        length = bar_length(bar.value, chart.scale, full)
        if bar.value is not None:
            parts.append(
                f'<rect class="bar" x="{centre - bar_width / 2:g}" y="{baseline - length:g}" '
                f'width="{bar_width:g}" height="{length:g}" fill="{BAR}">'
                f"<title>{escape(bar.label)}：{escape(bar.text)}</title></rect>"
            )
        parts.append(
            f'<text class="value" x="{centre:g}" y="{baseline - length - 6:g}" '
            f'text-anchor="middle" fill="{INK}">{escape(bar.text)}</text>'
        )
        parts.append(
            f'<text x="{centre:g}" y="{baseline + 18:g}" text-anchor="middle" '
            f'font-size="11" fill="{INK}">{escape(_short(bar.label))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))

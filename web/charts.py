"""Horizontal bar charts as server-rendered SVG: no chart library, no script, no inline
style (the CSP forbids `style=""`; colours come from classes in app.css, with presentation
attributes as the fallback so a chart still reads without the stylesheet).

Laid out for a phone first: the viewBox is 320 units wide, so at 360 px a 12-unit label is
about 12 px; each bar has its label on the line above it, so long kelurahan and agency
names never squeeze the bars. The chart is `role="img"` with a `<title>` and a `<desc>`;
the page shows the same numbers in a table, which is what screen readers should use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 320
LABEL_SIZE = 12
ROW_HEIGHT = 38
BAR_HEIGHT = 14
BAR_SPACE = 250  # leaves room for the value written after the longest bar
TOP = 4
MAX_LABEL = 46
DETAIL_SIZE = 11
CHAR_WIDTH = 0.55  # of the font size: an average letter of system-ui (≈ 46 letters per line)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: nothing to draw (e.g. no report judged yet)
    text: str  # the value as people read it: "87,5%", "3 jam"
    tone: str = ""  # "" | "bad" | "ok": a class for the bar
    detail: str = ""  # written after the label, never cut: "2 dari 3"


def _short(label: str, room: int = MAX_LABEL) -> str:
    return label if len(label) <= room else label[: room - 1].rstrip() + "…"


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    description: str = "",
    max_value: float | None = None,
    note: str = "",
) -> Markup:
    """A `<figure>`: the title as a visible caption (with an optional note), then the SVG.

    `max_value` fixes the full length (100 for percentages); else the largest value fills
    it. Values of None get their label and text but no bar."""
    values = [b.value for b in bars if b.value is not None]
    top = max_value if max_value is not None else max(values, default=0.0)
    height = TOP + ROW_HEIGHT * max(len(bars), 1) + 4
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    caption = f'<strong class="chart-title">{escape(title)}</strong>'
    if note:
        caption += f' <span class="chart-note">{escape(note)}</span>'
    parts = [
        f'<figure class="chart-figure"><figcaption>{caption}</figcaption>',
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}"'
        f' width="{WIDTH}" height="{height}" preserveAspectRatio="xMinYMin meet"'
        f' aria-labelledby="{escape(title_id)} {escape(desc_id)}"'
        f' font-size="{LABEL_SIZE}" font-family="system-ui, sans-serif"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    for index, bar in enumerate(bars):
        y = TOP + index * ROW_HEIGHT
        label_y = y + LABEL_SIZE
        bar_y = y + LABEL_SIZE + 5
        length = 0.0
        if bar.value is not None and top > 0:
            length = max(0.0, min(1.0, bar.value / top)) * BAR_SPACE
        tone = f" {bar.tone}" if bar.tone else ""
        parts.append('<g class="chart-row">')
        room = MAX_LABEL
        if bar.detail:
            # The name may be shortened to make room; the figures never are.
            detail_width = (len(bar.detail) + 3) * CHAR_WIDTH * DETAIL_SIZE
            room = min(room, int((WIDTH - detail_width) / (CHAR_WIDTH * LABEL_SIZE)))
        label = escape(_short(bar.label, room))
        if bar.detail:
            label += Markup(
                ' <tspan class="chart-detail" font-size="{}" fill="#4a4a4a">· {}</tspan>'
            ).format(DETAIL_SIZE, bar.detail)
        parts.append(f'<text class="chart-label" x="0" y="{label_y}" fill="#111">{label}</text>')
        if max_value is not None:
            parts.append(
                f'<rect class="chart-track" x="0" y="{bar_y}" width="{BAR_SPACE}"'
                f' height="{BAR_HEIGHT}" fill="#eef3fb"/>'
            )
        if bar.value is not None:
            fill = {"bad": "#a4161a", "ok": "#1b6e2d"}.get(bar.tone, "#0b3d91")
            parts.append(
                f'<rect class="chart-bar{tone}" x="0" y="{bar_y}" width="{length:.1f}"'
                f' height="{BAR_HEIGHT}" fill="{fill}"/>'
            )
        text_x = (BAR_SPACE if max_value is not None else length) + 4
        parts.append(
            f'<text class="chart-value" x="{text_x:.1f}" y="{bar_y + BAR_HEIGHT - 2}"'
            f' fill="#111">{escape(bar.text)}</text>'
        )
        parts.append("</g>")
    parts.append("</svg></figure>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute above is escaped

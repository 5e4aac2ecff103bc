"""Charts as inline SVG, drawn on the server: they render without scripts or internet access. Each
chart carries a <title> and <desc> for screen readers; pages show the same numbers in a table too.
Colours come from CSS classes (series-0 ... series-5) in bhum.css."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
ROW = 26  # height of one bar row
LABEL_WIDTH = 170
RIGHT_PAD = 60


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _open(title: str, description: str, height: int) -> str:
    uid = "c" + hashlib.sha1(title.encode("utf-8"), usedforsecurity=False).hexdigest()[:8]
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{uid}t {uid}d">'
        f'<title id="{uid}t">{escape(title)}</title><desc id="{uid}d">{escape(description)}</desc>'
    )


def stacked_bars(
    title: str, categories: Sequence[str], series: Sequence[Series], *, description: str
) -> Markup:
    """One horizontal bar per category, split by series (e.g. on time / late / open per clock rule)."""
    legend_height = 24
    height = legend_height + ROW * max(len(categories), 1) + 8
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    scale_max = max(totals, default=0) or 1
    plot = WIDTH - LABEL_WIDTH - RIGHT_PAD
    parts = [_open(title, description, height)]
    x = 0
    for index, s in enumerate(series):
        parts.append(
            f'<rect class="series-{index}" x="{x}" y="4" width="12" height="12"/>'
            f'<text class="legend" x="{x + 16}" y="15">{escape(s.name)}</text>'
        )
        x += 24 + 8 * len(s.name)
    if not categories:
        parts.append(f'<text class="empty" x="0" y="{legend_height + 18}">No data yet</text>')
    for row, category in enumerate(categories):
        y = legend_height + row * ROW
        parts.append(f'<text class="axis" x="0" y="{y + 17}">{escape(category)}</text>')
        offset = float(LABEL_WIDTH)
        for index, s in enumerate(series):
            value = s.values[row]
            width = plot * value / scale_max
            if width > 0:
                parts.append(
                    f'<rect class="series-{index}" x="{offset:.1f}" y="{y + 4}" '
                    f'width="{width:.1f}" height="{ROW - 8}"><title>{escape(category)}, '
                    f"{escape(s.name)}: {_fmt(value)}</title></rect>"
                )
            offset += width
        parts.append(f'<text class="value" x="{offset + 6:.1f}" y="{y + 17}">{_fmt(totals[row])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bars(title: str, items: Sequence[tuple[str, float]], *, description: str, suffix: str = "") -> Markup:
    """Horizontal bars, one per item (e.g. % approved, % denied)."""
    return stacked_bars(
        title,
        [label for label, _ in items],
        [Series(suffix or "value", [value for _, value in items])],
        description=description,
    )


def paired_bars(
    title: str, items: Sequence[tuple[str, float, float]], names: tuple[str, str], *, description: str
) -> Markup:
    """Two bars per item, the second drawn over the first (e.g. units used over units authorized)."""
    height = 24 + ROW * max(len(items), 1) + 8
    scale_max = max((max(a, b) for _, a, b in items), default=0) or 1
    plot = WIDTH - LABEL_WIDTH - RIGHT_PAD
    parts = [_open(title, description, height)]
    parts.append(
        f'<rect class="series-4" x="0" y="4" width="12" height="12"/>'
        f'<text class="legend" x="16" y="15">{escape(names[0])}</text>'
        f'<rect class="series-0" x="{24 + 8 * len(names[0])}" y="4" width="12" height="12"/>'
        f'<text class="legend" x="{40 + 8 * len(names[0])}" y="15">{escape(names[1])}</text>'
    )
    if not items:
        parts.append('<text class="empty" x="0" y="42">No data yet</text>')
    for row, (label, outer, inner) in enumerate(items):
        y = 24 + row * ROW
        outer_w = plot * outer / scale_max
        inner_w = plot * inner / scale_max
        parts.append(
            f'<text class="axis" x="0" y="{y + 17}">{escape(label)}</text>'
            f'<rect class="series-4" x="{LABEL_WIDTH}" y="{y + 4}" width="{outer_w:.1f}" height="{ROW - 8}">'
            f"<title>{escape(label)}, {escape(names[0])}: {_fmt(outer)}</title></rect>"
            f'<rect class="series-0" x="{LABEL_WIDTH}" y="{y + 8}" width="{inner_w:.1f}" height="{ROW - 16}">'
            f"<title>{escape(label)}, {escape(names[1])}: {_fmt(inner)}</title></rect>"
            f'<text class="value" x="{LABEL_WIDTH + max(outer_w, inner_w) + 6:.1f}" y="{y + 17}">'
            f"{_fmt(inner)} / {_fmt(outer)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(title: str, x_labels: Sequence[str], series: Sequence[Series], *, description: str) -> Markup:
    """A line per series over the x labels (e.g. flags per rule per month)."""
    height = 240
    left, top, bottom, right = 40, 30, 36, 20
    plot_w = WIDTH - left - right
    plot_h = height - top - bottom
    peak = max((v for s in series for v in s.values), default=0) or 1
    parts = [_open(title, description, height)]
    x = 0
    for index, s in enumerate(series[:6]):
        parts.append(
            f'<rect class="series-{index}" x="{x}" y="4" width="12" height="12"/>'
            f'<text class="legend" x="{x + 16}" y="15">{escape(s.name)}</text>'
        )
        x += 24 + 8 * len(s.name)
    parts.append(
        f'<line class="grid" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>'
        f'<text class="axis" x="0" y="{top + 10}">{_fmt(peak)}</text>'
        f'<text class="axis" x="0" y="{top + plot_h}">0</text>'
    )
    if not x_labels:
        parts.append(f'<text class="empty" x="{left}" y="{top + 40}">No data yet</text>')
    step = plot_w / max(len(x_labels) - 1, 1)
    every = max(1, len(x_labels) // 8)
    for i, label in enumerate(x_labels):
        if i % every == 0:
            parts.append(
                f'<text class="axis" x="{left + i * step:.1f}" y="{height - 12}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    for index, s in enumerate(series[:6]):
        points = " ".join(
            f"{left + i * step:.1f},{top + plot_h - plot_h * v / peak:.1f}" for i, v in enumerate(s.values)
        )
        parts.append(f'<polyline class="line series-{index}" points="{points}"/>')
        for i, v in enumerate(s.values):
            parts.append(
                f'<circle class="series-{index}" cx="{left + i * step:.1f}" '
                f'cy="{top + plot_h - plot_h * v / peak:.1f}" r="3">'
                f"<title>{escape(s.name)} {escape(x_labels[i])}: {_fmt(v)}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))

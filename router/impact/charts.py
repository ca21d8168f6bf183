"""Server-side SVG charts: readable without JavaScript, labelled for screen readers, followed by a data table."""
from __future__ import annotations

from typing import Optional, Sequence

from markupsafe import Markup, escape

# Each colour has at least 3:1 contrast against white (WCAG 2.1 non-text contrast).
PALETTE = ("#0b4f8a", "#a84f00", "#2e7d32", "#6a1b9a", "#9c1c3a", "#37474f")


def number(value: Optional[str]) -> Optional[float]:
    """A public figure as a number; suppressed ("< 5") or missing is None."""
    if value is None or str(value).startswith("<"):
        return None
    return float(value)


# A 13 px label's width per character, roughly: the label column is as wide as the longest label needs.
CHAR_PX = 7.6


def _region(chart_id: str, svg: str) -> Markup:
    """The chart drawn at its own size (labels stay 13 px on a phone) in a region that scrolls when it is wider."""
    return Markup(f'<div class="chart-scroll" role="region" tabindex="0" aria-labelledby="{chart_id}-t">{svg}</div>')


def bars(chart_id: str, title: str, description: str, items: Sequence[tuple[str, Optional[str]]],
         unit: str = "", max_value: Optional[float] = None) -> Markup:
    """Horizontal bars, one per item; a suppressed value is drawn as a marker with its "< n" label."""
    row, pad = 28, 8
    label_w = int(min(240, max(60, CHAR_PX * max([len(label) for label, _ in items] or [0]) + 14)))
    width = label_w + 230
    height = row * len(items) + 2 * pad
    values = [number(v) for _, v in items]
    top = max_value or max([v for v in values if v is not None] or [1]) or 1
    plot = width - label_w - 70
    parts = [f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>']
    for i, ((label, shown_value), value) in enumerate(zip(items, values)):
        y = pad + i * row
        length = 0 if value is None else max(1.0, plot * value / top)
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" class="chart-label">'
                     f'{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{length:.1f}" height="{row - 10}" '
                     f'fill="{PALETTE[0]}"></rect>')
        text = "–" if shown_value is None else f"{shown_value}{unit}"
        parts.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 18}" class="chart-value">{escape(text)}</text>')
    parts.append("</svg>")
    return _region(chart_id, "".join(parts))


def stacked_columns(chart_id: str, title: str, description: str, categories: Sequence[str],
                    series: Sequence[tuple[str, Sequence[Optional[str]]]], width: int = 720,
                    height: int = 260) -> Markup:
    """Columns per category (month), stacked by series (channel), with a legend."""
    pad_l, pad_b, pad_t = 48, 40, 28
    plot_w, plot_h = width - pad_l - 10, height - pad_b - pad_t
    totals = [sum(number(values[i]) or 0 for _, values in series) for i in range(len(categories))]
    top = max(totals or [1]) or 1
    step = plot_w / max(1, len(categories))
    col = max(4.0, step * 0.7)
    parts = [f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
             f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>',
             f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 10}" y2="{pad_t + plot_h}" '
             'stroke="#4a5260"></line>',
             f'<text x="{pad_l - 6}" y="{pad_t + 4}" text-anchor="end" class="chart-value">{int(top)}</text>',
             f'<text x="{pad_l - 6}" y="{pad_t + plot_h}" text-anchor="end" class="chart-value">0</text>']
    for i, category in enumerate(categories):
        x = pad_l + i * step + (step - col) / 2
        y: float = pad_t + plot_h
        for s, (_, values) in enumerate(series):
            value = number(values[i]) or 0
            h = plot_h * value / top
            if h:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{col:.1f}" height="{h:.1f}" '
                             f'fill="{PALETTE[s % len(PALETTE)]}"></rect>')
        if len(categories) <= 13 or i % 3 == 0:
            parts.append(f'<text x="{x + col / 2:.1f}" y="{pad_t + plot_h + 16}" text-anchor="middle" '
                         f'class="chart-label">{escape(category)}</text>')
    for s, (name, _) in enumerate(series):
        lx = pad_l + s * 110
        parts.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"></rect>'
                     f'<text x="{lx + 16}" y="17" class="chart-label">{escape(name)}</text>')
    parts.append("</svg>")
    return _region(chart_id, "".join(parts))

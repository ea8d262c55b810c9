"""Charts of a report as inline SVG (for the pdf): horizontal bars, no plotting library.

One row per label, one bar per series (two series get a legend), an axis at the bottom with "nice" ticks
whose labels are all distinct, the axis range from ``value_min``/``value_max`` (else from the data, with
0 in range), reference lines (a 99 % threshold) drawn dashed across the plot and labelled, the value at the
end of each bar and ``—`` for a value that is not measurable. Text uses the pdf's embedded font family.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

from infra_monitor.reports.document import Chart
from infra_monitor.reports.formatting import NOT_MEASURABLE, fmt_number, nfc, tr

WIDTH = 620.0
FONT_SIZE = 11.0
BAR_H = 12.0
ROW_GAP = 7.0
COLORS = ("#2f5f98", "#e0892b")
REF_COLOR = "#c0392b"
MAX_LABEL = 38


def with_unit(value: float, unit: str, lang: str, decimals: int) -> str:
    text = fmt_number(value, lang, decimals)
    if unit == "%":
        return f"{text}{' %' if lang == 'vi' else '%'}"
    return f"{text} {unit}" if unit else text


def nice_ticks(lo: float, hi: float, target: int = 5) -> tuple[list[float], int]:
    """Ticks covering ``[lo, hi]`` on a 1/2/5 step, and the decimals that make every tick label distinct."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks: list[float] = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        ticks.append(round(first + k * step, 10))
        k += 1
    decimals = 0
    while decimals < 6 and len({f"{v:.{decimals}f}" for v in ticks}) < len(ticks):
        decimals += 1
    return ticks, decimals


def _value_decimals(unit: str, values: list[float]) -> int:
    if unit == "%":
        return 2
    return 0 if all(float(v).is_integer() for v in values) else 1


def _short(label: str) -> str:
    label = nfc(label)
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: float = FONT_SIZE,
          fill: str = "#222", weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:.1f}" text-anchor="{anchor}" fill="{fill}"'
            f' font-weight="{weight}">{escape(content)}</text>')


def chart_svg(chart: Chart, lang: str, font_family: str = "serif") -> str:
    """The chart as an ``<svg>`` element (width 100 % of the column, height from the number of labels)."""
    series = chart.series[:2]
    values = [v for s in series for v in s.values if v is not None]
    refs = [(tr(label, lang), float(v)) for label, v in chart.references]
    lo = chart.value_min if chart.value_min is not None else min([0.0, *values])
    hi = chart.value_max if chart.value_max is not None else max([*values, *(v for _, v in refs), lo + 1.0])
    if hi <= lo:  # a flat or inverted range: widen it so bars have a scale
        hi = lo + 1.0
    ticks, tick_dec = nice_ticks(lo, hi)
    if chart.value_max is None:
        hi = max(hi, ticks[-1])
    if chart.value_min is None:
        lo = min(lo, ticks[0])
    ticks = [v for v in ticks if lo - 1e-9 <= v <= hi + 1e-9]
    dec = _value_decimals(chart.unit, values)

    labels = [_short(label) for label in chart.labels]
    label_w = min(230.0, max(60.0, max((len(lb) for lb in labels), default=4) * FONT_SIZE * 0.48))
    x0, x1 = label_w + 10.0, WIDTH - 80.0
    top = 8.0 + (18.0 if len(series) > 1 else 0.0) + 12.0 * len(refs)
    row_h = BAR_H * max(len(series), 1) + ROW_GAP
    plot_bottom = top + row_h * len(labels)
    height = plot_bottom + 30.0

    def x_of(v: float) -> float:
        v = min(max(v, lo), hi)
        return x0 + (x1 - x0) * (v - lo) / (hi - lo)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH:.0f} {height:.0f}"'
        f' width="100%" preserveAspectRatio="xMinYMin meet" style={quoteattr(f"font-family: {font_family}")}'
        f' role="img" aria-label={quoteattr(tr(chart.title, lang))}>'
    ]
    if len(series) > 1:
        x = x0
        for i, s in enumerate(series):
            name = tr(s.name, lang)
            out.append(f'<rect x="{x:.1f}" y="6" width="10" height="10" fill="{COLORS[i]}"/>')
            out.append(_text(x + 14, 15, name))
            x += 30 + len(name) * FONT_SIZE * 0.5
    for v in ticks:
        x = x_of(v)
        out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{plot_bottom:.1f}" stroke="#ddd"'
                   ' stroke-width="0.6"/>')
        out.append(f'<line x1="{x:.1f}" y1="{plot_bottom:.1f}" x2="{x:.1f}" y2="{plot_bottom + 4:.1f}"'
                   ' stroke="#444" stroke-width="0.8"/>')
        out.append(_text(x, plot_bottom + 15, fmt_number(v, lang, tick_dec), anchor="middle", size=9.5))
    out.append(f'<line x1="{x0:.1f}" y1="{plot_bottom:.1f}" x2="{x1:.1f}" y2="{plot_bottom:.1f}" stroke="#444"'
               ' stroke-width="0.8"/>')
    if chart.unit:
        out.append(_text(x1 + 18, plot_bottom + 15, f"({chart.unit})", size=9.5))

    for r, label in enumerate(labels):
        y = top + r * row_h + ROW_GAP / 2
        out.append(_text(x0 - 6, y + row_h / 2 - ROW_GAP / 2 + FONT_SIZE * 0.35, label, anchor="end"))
        for i, s in enumerate(series):
            val = s.values[r] if r < len(s.values) else None
            by = y + i * BAR_H
            if val is None:
                out.append(_text(x0 + 3, by + BAR_H - 2, NOT_MEASURABLE, size=9, fill="#666"))
                continue
            xv = x_of(val)
            out.append(f'<rect x="{x0:.1f}" y="{by:.1f}" width="{max(xv - x0, 0.0):.1f}" height="{BAR_H - 1:.1f}"'
                       f' fill="{COLORS[i]}"/>')
            out.append(_text(xv + 3, by + BAR_H - 2.5, with_unit(val, chart.unit, lang, dec), size=9.5))

    for i, (name, ref) in enumerate(refs):
        x = x_of(ref)
        out.append(f'<line x1="{x:.1f}" y1="{top - 2:.1f}" x2="{x:.1f}" y2="{plot_bottom:.1f}" stroke="{REF_COLOR}"'
                   ' stroke-width="1" stroke-dasharray="4 2"/>')
        text = f"{name} {with_unit(ref, chart.unit, lang, tick_dec)}".strip()
        out.append(_text(x, top - 4 - (len(refs) - 1 - i) * 12.0, text,
                         anchor="end" if x > WIDTH / 2 else "start", size=9.5, fill=REF_COLOR))
    out.append(f'<line x1="{x0:.1f}" y1="{top:.1f}" x2="{x0:.1f}" y2="{plot_bottom:.1f}" stroke="#444"'
               ' stroke-width="0.8"/>')
    out.append("</svg>")
    return "".join(out)

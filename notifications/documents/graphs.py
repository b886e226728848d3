"""Report charts as SVG (pygal) and as text bars for Markdown / Prefect artifacts.

SVG goes inline into the HTML report, so it must be self-contained: no
tooltip script fetched from the internet, and a chart id derived from the
data (pygal draws a random one), so the same figures give the same bytes
and a regenerated report keeps its digest.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .escaping import markdown_inline

__all__ = ["Series", "burn_down_svg", "rate_svg", "weekly_svg", "text_bars", "svg_for"]

_FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"


@dataclass(frozen=True)
class Series:
    """A chart's data: labels along x, one or more named value lists."""

    title: str
    labels: tuple[str, ...]
    values: tuple[tuple[str, tuple[float, ...]], ...]  # (name, values) per line/bar group


def _style():
    from pygal.style import Style

    return Style(font_family=_FONT, background="white", plot_background="white",
                 colors=("#c0392b", "#2c7fb8", "#e6a700", "#27ae60", "#7f8c8d"))


def _render(chart, series: Series) -> str:
    chart.title = series.title
    chart.x_labels = list(series.labels)
    for name, vals in series.values:
        chart.add(name, list(vals))
    svg = chart.render(is_unicode=True)
    stable = hashlib.blake2b(repr(series).encode(), digest_size=8).hexdigest()
    svg = re.sub(r"<script.*?</script>", "", svg, flags=re.S)  # tooltips only; a report is static
    svg = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", stable, svg)
    return svg.split("?>", 1)[1].strip() if svg.startswith("<?xml") else svg  # inline: no XML prolog


def _common(kind, **kw):
    return kind(width=900, height=360, style=_style(), js=[], explicit_size=True, disable_xml_declaration=False,
                legend_at_bottom=True, x_label_rotation=30 if kw.pop("rotate", False) else 0,
                truncate_label=-1, **kw)


def burn_down_svg(series: Series) -> str:
    import pygal

    return _render(_common(pygal.Line, show_dots=False, fill=False, rotate=True,
                           show_minor_x_labels=False, x_labels_major_every=max(1, len(series.labels) // 12)),
                   series)


def rate_svg(series: Series) -> str:
    import pygal

    chart = _common(pygal.HorizontalBar, range=(0, 100), value_formatter=lambda v: f"{v:.1f}%")
    return _render(chart, series)


def weekly_svg(series: Series) -> str:
    import pygal

    return _render(_common(pygal.Bar, rotate=True, show_minor_x_labels=False,
                           x_labels_major_every=max(1, len(series.labels) // 12)), series)


def svg_for(kind: str, series: Series) -> str:
    return {"burn_down": burn_down_svg, "rate": rate_svg, "weekly": weekly_svg}[kind](series)


def text_bars(series: Series, *, width: int = 24, unit: str = "", limit: int = 40) -> str:
    """A Markdown table with Unicode bars: readable in the Prefect UI and a terminal."""
    names = [n for n, _ in series.values]
    rows = list(zip(series.labels, *[v for _, v in series.values]))
    if len(rows) > limit:  # keep the shape: evenly spaced points, always the last
        step = len(rows) / limit
        rows = [rows[int(i * step)] for i in range(limit - 1)] + [rows[-1]]
    top = max([abs(x) for r in rows for x in r[1:]] + [1e-9])
    out = [f"**{markdown_inline(series.title)}**", "",
           "| | " + " | ".join(markdown_inline(n) for n in names) + " |", "|---|" + "---|" * len(names)]
    for label, *vals in rows:  # a label is a unit's name: text, never Markdown
        cells = [f"`{'█' * round(width * v / top):<{width}}` {v:g}{unit}" for v in vals]
        out.append(f"| {markdown_inline(label)} | " + " | ".join(cells) + " |")
    return "\n".join(out)

"""Report charts as SVG (pygal), as PNG (matplotlib) and as text bars for Markdown /
Prefect artifacts.

SVG goes inline into the HTML report, so it must be self-contained: no
tooltip script fetched from the internet, and a chart id derived from the
data (pygal draws a random one), so the same figures give the same bytes
and a regenerated report keeps its digest. Word and PDF show no SVG: the .docx
and the .pdf get the same charts as PNG, drawn with matplotlib in the CJK face
notifications/documents/fonts.py resolves for the PDFs (registered with
matplotlib from its file, so a Chinese label never falls to whatever font
matplotlib would pick and print as boxes; no such font: `Misconfigured`, one
line). The SVG names that face first. Counts start their axis at 0, so a chart
never makes 16 open items look like none.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from .escaping import markdown_inline

__all__ = ["Series", "burn_down_svg", "rate_svg", "weekly_svg", "text_bars", "svg_for", "png_for", "cjk_font"]

# after the resolved face: what a reader's browser may have when it lacks that one
_FALLBACK_FONTS = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"


def _svg_fonts() -> str:
    from statemachine.errors import Misconfigured

    from .fonts import cjk_fonts

    try:
        return f"'{cjk_fonts().family}',{_FALLBACK_FONTS}"
    except Misconfigured:  # the HTML is read where it is opened: the reader's fonts may do
        return _FALLBACK_FONTS


@dataclass(frozen=True)
class Series:
    """A chart's data: labels along x, one or more named value lists."""

    title: str
    labels: tuple[str, ...]
    values: tuple[tuple[str, tuple[float, ...]], ...]  # (name, values) per line/bar group


def _style():
    from pygal.style import Style

    return Style(font_family=_svg_fonts(), background="white", plot_background="white",
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

    return _render(_common(pygal.Line, show_dots=False, fill=False, rotate=True, include_x_axis=True,
                           show_minor_x_labels=False, x_labels_major_every=max(1, len(series.labels) // 12)),
                   series)


def rate_svg(series: Series) -> str:
    import pygal

    chart = _common(pygal.HorizontalBar, range=(0, 100), value_formatter=lambda v: f"{v:.1f}%")
    return _render(chart, series)


def weekly_svg(series: Series) -> str:
    import pygal

    return _render(_common(pygal.Bar, rotate=True, include_x_axis=True, show_minor_x_labels=False,
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


_COLOURS = ("#c0392b", "#2c7fb8", "#e6a700", "#27ae60", "#7f8c8d")


def cjk_font() -> str:
    """The family of the CJK face fonts.py resolves, registered with matplotlib from its
    file (every face of a collection; the SC one is asked for by name)."""
    from .fonts import cjk_fonts

    fonts = cjk_fonts()
    _register(str(fonts.regular), str(fonts.bold))
    return fonts.family


@lru_cache(maxsize=4)
def _register(*paths: str) -> None:
    from matplotlib import font_manager

    for path in paths:
        font_manager.fontManager.addfont(path)


def png_for(kind: str, series: Series, *, width_in: float = 6.3, height_in: float = 2.8, dpi: int = 150) -> bytes:
    """The chart as a PNG for Word: the burn-down and weekly counts from 0, rates 0–100 %."""
    import io

    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot
    from matplotlib.figure import Figure

    font = cjk_font()
    rc = {"font.family": [font], "axes.unicode_minus": False,
          "font.size": 8, "svg.hashsalt": "rectify"}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(width_in, height_in if kind != "rate" else max(height_in, 0.3 * len(series.labels) + 1)),
                     dpi=dpi)
        ax = fig.add_subplot()
        ax.set_title(series.title)
        labels = list(series.labels)
        x = range(len(labels))
        if kind == "rate":
            vals = series.values[0][1] if series.values else ()
            y = list(range(len(labels)))[::-1]
            ax.barh(y, vals, color=_COLOURS[1])
            ax.set_yticks(y, labels)
            ax.set_xlim(0, 108)  # room for the 100.0% label
            ax.set_xticks(range(0, 101, 20))
            ax.set_xlabel("%")
            for yy, v in zip(y, vals):
                ax.text(min(v, 100) + 1, yy, f"{v:.1f}%", va="center", fontsize=7)
        else:
            n = max(len(series.values), 1)
            for i, (name, vals) in enumerate(series.values):
                if kind == "weekly":
                    w = 0.8 / n
                    ax.bar([xx - 0.4 + w * (i + 0.5) for xx in x], vals, width=w, label=name, color=_COLOURS[i % 5])
                else:
                    ax.plot(list(x), vals, label=name, color=_COLOURS[i % 5])
            ax.set_ylim(bottom=0)
            step = max(1, len(labels) // 12)
            ax.set_xticks(list(x)[::step], labels[::step], rotation=30)
            ax.legend(loc="best", fontsize=7)
            ax.yaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()

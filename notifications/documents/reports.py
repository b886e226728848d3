"""Generated reports (周报, 月报, 阶段总结, 总结报告) rendered from one Jinja2
Markdown template: the Markdown is the Prefect artifact and the .md file; the
HTML is that Markdown converted (python-markdown, tables), in a print-ready A4
page with the charts inline as SVG; the .docx is the same Markdown walked into
Word (word.py `report_docx`) with the charts as PNG. One source, so they never disagree.

No emoji anywhere (a printer shows a box): the warning colours are words, and
coloured text in the HTML and Word tables.

Strict: a name the template uses but the data lacks is an error, not a blank.
Rendered in the sandbox (notifications/documents/sandbox.py). Every value the
template prints is user text unless marked `Markup` (the charts' text bars,
already Markdown): it is escaped by notifications/documents/escaping.py, so a
clue's summary can never become a link, an image, a heading or a table.
"""
from __future__ import annotations

import re
from dataclasses import asdict, is_dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import FileSystemLoader
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .escaping import Markup, html_text, markdown_inline
from .graphs import svg_for, text_bars
from .notices import TEMPLATES, _cn_datetime, chinese_date
from .sandbox import sandboxed_environment
from statemachine.warning import UNIT_COLOUR_MARKS

__all__ = ["render_markdown", "render_html", "markdown_html", "marked_markdown", "subtitle", "cn_date", "CHARTS_MARK", "COLOUR_MARKS",
           "suggestions"]

COLOUR_MARKS = UNIT_COLOUR_MARKS  # statemachine/warning.py
CHARTS_MARK = "@@CHARTS@@"  # the paragraph the charts replace (SVG here, PNG in word.py)
_CSS = """
@page{size:A4;margin:37mm 26mm 35mm 28mm}
@page wide{size:A4 landscape;margin:28mm 35mm 26mm 37mm}
body{font-family:'FangSong','STFangsong','Noto Serif CJK SC',serif;max-width:1100px;margin:2em auto;
line-height:1.7;color:#111;padding:0 1em}
body.final{page:wide}
h1{text-align:center;font-family:'FZXiaoBiaoSong-B05S','STSong','Noto Serif CJK SC',serif;font-size:1.6em}
h2,h3{font-family:'SimHei','Noto Sans CJK SC',sans-serif}
h2{page-break-after:avoid}h3{page-break-after:avoid}
table{border-collapse:collapse;width:100%;margin:1em 0;font-size:.92em}
thead{display:table-header-group}
tr{page-break-inside:avoid}
th,td{border:1px solid #888;padding:.25em .5em;vertical-align:top}
th{background:#eee}
p{text-indent:2em;margin:.3em 0}
p.flush{text-indent:0}
p.sub{text-align:center;text-indent:0}
p.sign{text-align:right;text-indent:0;margin-right:4em}
p.annex{text-indent:0;padding-left:5em}
hr{border:0;break-after:page}
td.red{color:#c00000;font-weight:bold}td.yellow{color:#b8860b;font-weight:bold}td.blue{color:#1f4e99;font-weight:bold}
.chart{margin:1em 0;page-break-inside:avoid}
@media print{body{margin:0;max-width:none;padding:0}.chart{max-width:100%}}
"""
_COLOUR_CELLS = {"red": "红色预警", "yellow": "黄色预警", "blue": "蓝色提示"}


def _pct(v) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _cell(v) -> Markup:
    """A value inside a Markdown table cell: one line, pipes escaped."""
    return Markup(markdown_inline(v))


def _escape(v):
    # every string printed is text (a clue's, written by the public), never Markdown
    # or HTML, unless it is Markup (escaped already, or the template's own)
    if isinstance(v, Markup):
        return v
    return markdown_inline(v) if isinstance(v, str) else v


@lru_cache(maxsize=1)
def _env() -> ImmutableSandboxedEnvironment:
    return sandboxed_environment(
        FileSystemLoader(str(TEMPLATES / "reports")), finalize=_escape,
        filters=dict(cn_date=chinese_date, cn_datetime=_cn_datetime, pct=_pct, cell=_cell),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def suggestions(data) -> list[str]:
    """有关建议, drawn from the figures rather than boilerplate alone."""
    out = []
    red = [u.name for u in data.units if u.colour == "red"]
    low = [u.name for u in data.units if u.colour == "yellow"]
    if red:
        out.append(f"对{('、'.join(red[:5]))}{'等' if len(red) > 5 else ''}{len(red)}个存在逾期未整改问题的单位，"
                   "继续挂账督办，逐项对账销号。")
    if low:
        out.append(f"{('、'.join(low[:5]))}{'等' if len(low) > 5 else ''}整改率低于平均水平，"
                   "应加大督促指导力度，必要时采取函询约谈等措施。")
    if data.figures.ongoing:
        out.append(f"对持续推进中的 {data.figures.ongoing} 件问题，明确现阶段成效和长期举措，纳入常态化监管。")
    out.append("总结专项整治经验，转化为制度成果，健全执法监督长效机制。")
    return out


def _context(data, charts_text: str) -> dict:
    ctx = {k: getattr(data, k) for k in data.__dataclass_fields__}
    ctx["span"] = asdict(data.span) if is_dataclass(data.span) else data.span
    ctx.update(figures_sentence=data.figures.sentence(), colour_marks=COLOUR_MARKS, subtitle=subtitle(data),
               suggestions=suggestions(data), charts_text=Markup(charts_text))
    return ctx


def render_markdown(data) -> str:
    charts = "\n\n".join(text_bars(s, unit="%" if name == "rate" else "")
                         for name, s in data.charts.items() if s.labels)
    return _env().get_template("report.md.j2").render(_context(data, charts or "（暂无数据）"))


def markdown_html(md: str) -> str:
    """The report's Markdown as HTML: the one conversion the .html and .docx share."""
    import markdown

    return markdown.markdown(md, extensions=["tables", "sane_lists"], output_format="html")


def marked_markdown(data) -> str:
    """The Markdown with a marker paragraph where the charts go (HTML: SVG, Word: PNG)."""
    return _env().get_template("report.md.j2").render(_context(data, CHARTS_MARK))


def render_html(data) -> str:
    body = markdown_html(marked_markdown(data))
    svgs = "\n".join(f'<div class="chart">{svg_for(name, s)}</div>'
                     for name, s in data.charts.items() if s.labels)
    body = body.replace(f"<p>{CHARTS_MARK}</p>", svgs or "<p>（暂无数据）</p>")
    # the period line under the title centred, 主送 flush left, 落款 and date to the right, as printed
    body = body.replace("<p>（", '<p class="sub">（', 1)
    body = body.replace("<p>校验码：", '<p class="flush">校验码：', 1)
    body = body.replace(f"<p>{html_text(data.addressee)}：</p>", f'<p class="flush">{html_text(data.addressee)}：</p>', 1)
    sign = f"<p>{html_text(data.signer)}</p>\n<p>{html_text(cn_date(data.dated))}</p>"
    body = body.replace(sign, sign.replace("<p>", '<p class="sign">'), 1)
    body = re.sub(r"<p>(\d．)", r'<p class="annex">\1', body)  # 附件说明's later lines under the first
    for colour, word in _COLOUR_CELLS.items():
        body = body.replace(f"<td>{word}", f'<td class="{colour}">{word}')
    title = html_text(data.title)
    cls = ' class="final"' if data.kind == "final" else ""
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_CSS}</style></head><body{cls}>\n{body}\n</body></html>\n")


def subtitle(data) -> str:
    """The period line under the title; a provisional report says so (临时)."""
    when = _cn_datetime(data.as_of)
    if data.provisional:
        return f"（{data.span.label}，临时报告：统计截至{when}，本期结束后重新生成）"
    return f"（{data.span.label}，统计截至{when}）"


def cn_date(value) -> str:
    return chinese_date(value) if value is not None else ""


def template_dir() -> Path:
    return TEMPLATES / "reports"

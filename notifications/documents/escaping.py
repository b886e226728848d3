"""User text escaped for the format it lands in: one function per format.

A clue's summary, a unit's note, a reason: written by the public or by a
unit, never markup. Whatever it contains must come out as the same text,
readable, and never as a link, an image, a heading, a table, a formula or
a raw tag of the document it is put in.

    markdown_inline  inside one line of Markdown (a paragraph, a list item, bold
                     text, a table's cell): also the .html and .docx of a report,
                     which are made from its Markdown (reports.py, word.py)
    html_text        text inside HTML (what the notices' autoescape does)
    xlsx_text        a spreadsheet cell that holds text: a string, never a formula

Every one of them shows control characters (a vertical tab, NUL, ESC …) as
their visible Unicode pictures (␋ ␀ ␛): a document cannot hold them (XML,
which .docx and .xlsx are, refuses them) and a reader should see that
something odd was typed rather than lose it.
"""
from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

from statemachine.limits import document_text

__all__ = ["markdown_inline", "html_text", "xlsx_text", "visible_controls", "Markup"]

# C0 controls but tab and line breaks, DEL; C1 controls; what XML 1.0 cannot hold
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# what Markdown gives meaning to inside a line: emphasis, code, links and images
# ([ ]), escapes, table pipes; & < > (raw HTML, autolinks, entities) become entities
_MD_INLINE = re.compile(r"([\\`*_\[\]|#!])")
# a text starting with one of these is a formula to a spreadsheet when typed (OWASP, CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CELL_CHARS = 32_767  # the most an Excel cell holds; Excel calls a longer one a corrupt file
_ORDERED = re.compile(r"^(\d+)\.(?=\s|$)")  # "1. " starts a list, "95.6%" does not


def visible_controls(text: str) -> str:
    """Control characters as their Unicode control pictures (␀ … ␟, ␡), others as U+FFFD."""
    def picture(m: re.Match) -> str:
        c = ord(m.group())
        return chr(0x2400 + c) if c < 0x20 else "\u2421" if c == 0x7f else "\ufffd"
    return _CONTROLS.sub(picture, text)


def markdown_inline(value: Any) -> str:
    """`value` as one line of Markdown that shows exactly its text: line breaks
    and runs of white space become one space (no blank line can end the
    paragraph and start a heading or a table), Markdown's punctuation is
    backslash-escaped, &, < and > are written as entities, and what would
    start a block at the beginning of a line (a list's `-`, `+`, `1.`, a
    heading's underline `=`) is escaped too."""
    text = " ".join(visible_controls(str(value)).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_INLINE.sub(r"\\\1", text)
    if text[:1] in ("-", "+"):
        return "\\" + text
    if text[:1] == "=":  # not one of Markdown's escapable characters: an entity
        return "&#61;" + text[1:]
    return _ORDERED.sub(r"\1\\.", text, count=1)


def html_text(value: Any) -> Markup:
    """`value` as text inside an HTML element or a quoted attribute."""
    return escape(visible_controls(str(value)))


def xlsx_text(cell, value: Any) -> None:
    """Write `value` into an openpyxl cell as text, never a formula: the cell is a
    string cell, and one starting as a formula would (= + - @, tab, CR) also
    carries Excel's quote prefix, so editing it in Excel keeps it text; the text
    itself is not changed. Control characters are shown, what else a document
    cannot hold (text stored before the door refused it) becomes U+FFFD, and a
    text longer than a cell holds is cut with "…", rather than failing the whole
    workbook."""
    text = document_text(visible_controls(str(value)))
    if len(text) > CELL_CHARS:
        text = text[:CELL_CHARS - 1] + "…"
    cell.value = text
    cell.data_type = "s"
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True
"""What a ledger cell means: numbered items, dates, aspect names. Pure functions,
shared by the export (so it writes what the import reads back) and the import."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Sequence

from statemachine.limits import shown

__all__ = ["numbered", "text_of", "parse_date", "match_aspect", "squash", "date_text"]

# an item number: "1." "1．" "1、" "（1）" "(1)", not the "1.5" of "1.5 吨"
_MARK = re.compile(r"(?:(\d{1,2})\s*[.．、](?!\d)|[（(](\d{1,2})[)）])")


def text_of(value: Any) -> str:
    """A cell as text; whole floats are the integers Excel stores them as."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _clean(text: str) -> str:
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(ln for ln in lines if ln)


def numbered(value: Any) -> str:
    """'1. a 2. b' on one line or several → '1. a\\n2. b'; the template's blank
    '1. 2. 3. 4.' → ''; text without numbering is kept (trimmed).

    Only the run 1, 2, 3 … starting at the very beginning counts as numbering,
    so a '2.' inside a sentence after item 3 stays text.
    """
    text = _clean(text_of(value))
    if not text:
        return ""
    marks = []
    expected = 1
    for m in _MARK.finditer(text):
        n = int(m.group(1) or m.group(2))
        if n != expected or (expected == 1 and m.start() != 0):
            continue
        marks.append(m)
        expected += 1
    if not marks:
        return text
    items = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        item = " ".join(text[m.end():end].split("\n")).strip(" ；;，,")
        if item:
            items.append(item)
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


_FULL = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?:前|之前|以前)?$")
_NO_YEAR = re.compile(r"^(\d{1,2})\s*月\s*(\d{1,2})\s*日?")


def parse_date(value: Any) -> date | None:
    """An Excel date cell or '2023-06-30', '2023/6/30', '2023.6.30', '2023年6月30日(前)'.

    Raises ValueError with the sentence a unit needs to fix the cell.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = text_of(value).strip()
    m = _FULL.match(text)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise ValueError(f"{shown(text)} is not a calendar date") from None
    if _NO_YEAR.match(text):
        raise ValueError(f"{shown(text)} has no year: write the full date, e.g. 2023年6月30日")
    raise ValueError(f"{shown(text)} is not a date (write e.g. 2023-06-30 or 2023年6月30日)")


def date_text(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# older wordings of the seeds' templates (003 附件3 says 趋利性执法 for 逐利执法)
_SYNONYMS = {"趋利性执法": "逐利执法", "趋利执法": "逐利执法"}
_QUOTES = re.compile(r"[\s“”\"'‘’「」『』《》]")


def squash(text: str) -> str:
    """An aspect name or a heading without quotes, blanks and line breaks (cells wrap)."""
    return _QUOTES.sub("", text or "")


def _core(text: str) -> str:
    s = squash(text)
    s = s[:-2] if s.endswith("问题") and len(s) > 2 else s
    return _SYNONYMS.get(s, s)


def match_aspect(text: str, aspects: Sequence[Any]) -> str:
    """The key of the aspect a cell names (objects with key, name, focus).

    Exact name or key; else one of the plan's aliases for it; else the name without quotes and the trailing 问题
    ('逐利执法' → '“逐利执法”问题'); else a unique partial name; else a wording
    found in exactly one aspect's focus (003 附件3's 选择性执法 → 执法不规范).
    Raises ValueError when none or several fit.
    """
    raw = (text or "").strip()
    if not raw:
        raise ValueError("empty")
    for a in aspects:
        if raw in (a.name, a.key):
            return a.key
    core = _core(raw)
    named = [a.key for a in aspects if core in (_core(x) for x in getattr(a, "aliases", ()))]
    if len(named) == 1:  # the plan's own word for it wins over guessing
        return named[0]
    names = {a.key: _core(a.name) for a in aspects}
    for pick in (lambda k: names[k] == core,
                 lambda k: core in names[k] or names[k] in core,
                 lambda k: core in squash(getattr(next(a for a in aspects if a.key == k), "focus", ""))):
        hits = [k for k in names if pick(k)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            which = "、".join(a.name for a in aspects if a.key in hits)
            raise ValueError(f"{shown(raw)} could be any of {which}: write the aspect's full name")
    known = "、".join(a.name for a in aspects)
    raise ValueError(f"unknown aspect {shown(raw)} (one of {known})")

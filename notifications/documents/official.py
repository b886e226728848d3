"""A notice's parts as GB/T 9704-2012 names them, read back from its HTML.

The PDF and Word renderings (notice_pdf.py, notice_docx.py) lay out these
parts; they are read from the stored HTML rather than rendered again, so a
campaign's template override, and every notice issued before, comes out in
every format as it was issued. The shipped layout marks each part with a class
(templates/_base.html.j2); an element an override adds without one is a
paragraph of the body.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["OfficialDocument", "Block", "parse_notice"]


@dataclass(frozen=True)
class Block:
    role: str   # para | fact | attachment
    text: str


@dataclass
class OfficialDocument:
    mark: str = ""            # 发文机关标志
    number: str = ""          # 发文字号
    title: str = ""
    addressee: str = ""       # 主送机关, with its colon
    body: list[Block] = field(default_factory=list)
    signatory: str = ""       # 发文机关署名
    date: str = ""            # 成文日期
    seal: bool = False        # the seal's place is marked
    note: str = ""            # 附注 (联系人)
    cc: str = ""              # 抄送…。
    printer: str = ""         # 印发机关
    printed_on: str = ""      # …印发
    check_code: str = ""      # 校验码


_ROLES = {"mark": "mark", "number": "number", "addressee": "addressee", "signatory": "signatory",
          "date": "date", "note": "note", "cc": "cc", "printer": "printer", "printed-on": "printed_on",
          "check-code": "check_code"}
_BLOCKS = {"p", "li", "h1", "h2", "h3", "div", "td", "blockquote", "pre"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doc = OfficialDocument()
        self.stack: list[tuple[str, str | None]] = []   # (tag, role) of the open elements
        self.text: list[str] = []
        self.skip = 0   # inside <head>, <style>, <script> or the seal's placeholder
        self.fact_no = 0

    def _role(self) -> str | None:
        for tag, role in reversed(self.stack):
            if role is not None:
                return role
        return None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in ("head", "style", "script", "title") or "seal" in classes:
            if "seal" in classes:
                self.doc.seal = True
            self.skip += 1
            self.stack.append((tag, "skip"))
            return
        role = next((_ROLES[c] for c in classes if c in _ROLES), None)
        if role is None and tag == "h1":
            role = "title"
        elif role is None and tag == "li":
            role = "fact"
        elif role is None and tag == "p" and "attachments" in {c for t, r in self.stack for c in [r]}:
            role = "attachment"
        elif role is None and "attachments" in classes:
            role = "attachments"
        if tag in ("p", "li", "h1") or role in _ROLES.values():
            self._flush()
        self.stack.append((tag, role))
        if tag == "br":
            self.stack.pop()
            self.text.append("\n")

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, role = self.stack.pop()
            if role == "skip":
                self.skip -= 1
            elif tag in _BLOCKS or role is not None:
                self._flush(role)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)

    def _flush(self, role: str | None = None) -> None:
        text = " ".join("".join(self.text).split()) if role != "printed" else "".join(self.text)
        self.text = []
        if not text:
            return
        role = role or self._role()
        d = self.doc
        if role in ("mark", "number", "title", "addressee", "signatory", "date", "note", "cc", "printer",
                    "printed_on", "check_code"):
            setattr(d, role, (getattr(d, role) + text) if role == "title" else text)
        elif role == "fact":
            self.fact_no += 1
            d.body.append(Block("fact", f"{self.fact_no}. {text}"))
        elif role in ("attachment", "attachments"):
            d.body.append(Block("attachment", text))
        else:
            d.body.append(Block("para", text))


def parse_notice(html: str) -> OfficialDocument:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reader._flush()
    return reader.doc

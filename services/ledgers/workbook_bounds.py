"""A ledger workbook checked before openpyxl opens it: one line, or nothing.

openpyxl spends what a workbook declares, not what it weighs: a merged range
over 200,000 rows becomes 200,000 cell objects (MemoryError), one cell at
XFD1 makes every row of the sheet 16,384 columns wide (minutes), a zipped
sheet inflates a thousandfold, and an XML part may carry a DTD whose entities
expand. So the zip's parts are streamed through expat first, counting as they
go (services/core/input_files.py has the bounds), and the workbook is refused
in one line when it declares a DTD, inflates too far, or puts a cell, a
comment, a merged range or a ranged hyperlink (openpyxl makes a cell object
for each cell of both) outside what a ledger can be.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from posixpath import join, normpath
from xml.parsers import expat

from statemachine.errors import InvalidInput

from services.core.input_files import (MAX_RANGE_CELLS, MAX_SHEET_CELLS, MAX_SHEET_COLUMNS, MAX_SHEET_ROWS,
                                       MAX_XLSX_XML_BYTES, size_text)

__all__ = ["check_workbook", "NOT_XLSX"]

NOT_XLSX = "cannot read: not an .xlsx workbook (save it as Excel 2007 or later .xlsx)"
_MAIN = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
         "http://purl.oclc.org/ooxml/spreadsheetml/main")
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_RELS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                "http://purl.oclc.org/ooxml/officeDocument/relationships")
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_ROW = re.compile(r"[0-9]{1,7}")
_MAX_PARTS = 10_000       # a ledger has a few dozen; each costs a ZipInfo and a pass
_CHUNK = 64 * 1024
_XML_NAMES = (".xml", ".rels")
_UTF16 = (b"\xff\xfe", b"\xfe\xff")


class _Refused(Exception):
    pass


def check_workbook(data: bytes, *, path: str) -> None:
    """Refuse (InvalidInput, one line) a workbook openpyxl must not be given."""
    try:
        _Scan(path).run(data)
    except _Refused as e:
        raise InvalidInput(f"{path}: {e}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError):
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
        raise InvalidInput(f"{path}: {NOT_XLSX}") from None


def _cell(ref: str) -> tuple[int, int] | None:
    """'XFD1' → (row 1, column 16384); None when it is not a cell reference."""
    m = _REF.fullmatch(ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


@dataclass
class _Scan:
    path: str
    inflated: int = 0
    cells: int = 0
    rows: int = 0
    ranged: int = 0   # cells of merged ranges and ranged hyperlinks, each an object in openpyxl
    sheet_names: dict[str, str] = field(default_factory=dict)  # part name → sheet name

    def run(self, data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = zf.infolist()
            if len(parts) > _MAX_PARTS:
                raise _Refused(f"{len(parts):,} parts in the zip: larger than any ledger")
            names = {p.filename for p in parts}
            if "xl/workbook.xml" in names and "xl/_rels/workbook.xml.rels" in names:
                self.sheet_names = self._sheets(zf)
            for part in parts:
                if not part.is_dir():
                    self._part(zf, part)

    def _sheets(self, zf: zipfile.ZipFile) -> dict[str, str]:
        """Worksheet part → its name on the tab, for messages people can act on."""
        ids: dict[str, str] = {}
        targets: dict[str, str] = {}

        def on_book(name, attrs):
            if name.split(" ")[-1] == "sheet":
                rid = next((v for k, v in attrs.items() if k in {f"{ns} id" for ns in _OFFICE_RELS}), None)
                if rid:
                    ids[rid] = attrs.get("name", "")

        def on_rels(name, attrs):
            if name == f"{_RELS} Relationship" and "Id" in attrs and "Target" in attrs:
                target = attrs["Target"]
                targets[attrs["Id"]] = normpath(target.lstrip("/") if target.startswith("/")
                                                else join("xl", target))

        self._parse(zf, zf.getinfo("xl/workbook.xml"), on_book)
        self._parse(zf, zf.getinfo("xl/_rels/workbook.xml.rels"), on_rels)
        return {targets[rid]: name for rid, name in ids.items() if rid in targets}

    def _part(self, zf: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
        sheet = self.sheet_names.get(part.filename)
        where = f"sheet '{sheet}'" if sheet else part.filename
        row, col = 0, 0

        def on_element(name, attrs):
            nonlocal row, col
            ns, _, local = name.rpartition(" ")
            if ns not in _MAIN:
                return
            if local == "row":
                self.rows += 1
                if self.rows > MAX_SHEET_CELLS:
                    raise _Refused(f"more than {MAX_SHEET_CELLS:,} rows written: larger than any ledger")
                r = attrs.get("r")
                if r is not None and not _ROW.fullmatch(r):
                    raise _Refused(f"{where}: '{r[:20]}' is not a row number")
                row, col = (int(r) if r is not None else row + 1), 0
            elif local == "c":
                self.cells += 1
                if self.cells > MAX_SHEET_CELLS:
                    raise _Refused(f"more than {MAX_SHEET_CELLS:,} cells: larger than any ledger")
                ref = attrs.get("r")
                at = _cell(ref) if ref else (row, col + 1)
                if at is None:
                    raise _Refused(f"{where}: '{ref}' is not a cell reference")
                row, col = at
                if row > MAX_SHEET_ROWS or col > MAX_SHEET_COLUMNS:
                    raise _Refused(f"{where} has a cell at {ref or f'row {row}, column {col}'}: a ledger "
                                   f"has at most {MAX_SHEET_ROWS:,} rows and {MAX_SHEET_COLUMNS} columns "
                                   f"(delete what lies beyond it)")
            elif local == "comment":  # openpyxl makes the cell a comment is on
                ref = attrs.get("ref", "")
                at = _cell(ref)
                if at is None or at[0] > MAX_SHEET_ROWS or at[1] > MAX_SHEET_COLUMNS:
                    raise _Refused(f"{where}: a comment on '{ref}', outside any ledger")
            elif local in ("mergeCell", "hyperlink"):  # openpyxl makes every cell of the range
                ref = attrs.get("ref", "")
                what = "merges" if local == "mergeCell" else "links"
                corners = [_cell(x) for x in ref.split(":")]
                if not 1 <= len(corners) <= 2 or None in corners:
                    raise _Refused(f"{where}: '{ref}' is not a range of cells")
                (r1, c1), (r2, c2) = corners[0], corners[-1]
                if max(r1, r2) > MAX_SHEET_ROWS or max(c1, c2) > MAX_SHEET_COLUMNS:
                    raise _Refused(f"{where} {what} {ref}: a ledger has at most {MAX_SHEET_ROWS:,} rows "
                                   f"and {MAX_SHEET_COLUMNS} columns")
                self.ranged += (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1)
                if self.ranged > MAX_RANGE_CELLS:
                    raise _Refused(f"{where} {what} {ref}: more than {MAX_RANGE_CELLS:,} cells in merged "
                                   f"or linked ranges in the workbook, larger than any ledger")

        self._parse(zf, part, on_element)

    def _parse(self, zf: zipfile.ZipFile, part: zipfile.ZipInfo, on_element) -> None:
        """Stream one part through expat, counting its inflated bytes. A part that is
        not XML (an image) is only counted; one that looks like XML but is not well
        formed (legacy VML, which Excel writes loosely) is searched for a DTD."""
        p = expat.ParserCreate(namespace_separator=" ")

        def dtd(*_):
            raise _Refused(f"{part.filename} declares a DTD (<!DOCTYPE …>): a workbook never needs "
                           f"one, and its entities can expand without bound")

        def parse(chunk: bytes, final: bool) -> str:
            try:
                p.Parse(chunk, final)
                return "xml"
            except expat.ExpatError:
                if strict:
                    raise _Refused(f"{NOT_XLSX.removesuffix(')')}; {part.filename} is not "
                                   f"well-formed XML)") from None
                return "loose"

        p.StartDoctypeDeclHandler = dtd
        p.EntityDeclHandler = dtd
        p.StartElementHandler = on_element
        strict = part.filename.lower().endswith(_XML_NAMES)
        mode, tail = "xml" if strict else "", b""
        with zf.open(part) as f:
            while chunk := f.read(_CHUNK):
                self.inflated += len(chunk)
                if self.inflated > MAX_XLSX_XML_BYTES:
                    raise _Refused(f"more than {size_text(MAX_XLSX_XML_BYTES)} unzipped: "
                                   f"larger than any ledger")
                if not mode:  # by another name, a part is XML when it starts like XML
                    mode = "xml" if chunk.startswith(_UTF16) or \
                        chunk.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") else "bytes"
                if mode == "xml":
                    mode = parse(chunk, False)
                if mode == "loose":
                    seen = (tail + chunk).upper()
                    if b"<!DOCTYPE" in seen or b"<!ENTITY" in seen:
                        dtd()
                    tail = chunk[-16:]
        if mode == "xml":
            parse(b"", True)

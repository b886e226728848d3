"""What an uploaded evidence file is, judged by its content alone (never by its name).

    kind   media type                                                    content
    pdf    application/pdf                                               %PDF- at byte 0, %%EOF at the end
    png    image/png                                                     the signature, IHDR first, every
                                                                         chunk's CRC, IEND last
    jpeg   image/jpeg                                                    FF D8 FF … FF D9
    docx   application/vnd.openxmlformats-officedocument.wordprocessingml.document
    xlsx   application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
                                                                         a zip whose [Content_Types].xml
                                                                         names a Word (Excel) main part,
                                                                         without macros or ActiveX
    zip    application/zip                                               any other sound zip archive

Refused, as UnsupportedType (415): anything else (an old .doc/.xls, an
executable, HTML, SVG, text); a polyglot — a file that is two things at once,
e.g. a PDF or image with a zip appended or inside it, data after an image's
end, markup in a binary header that a browser could sniff as a page; a zip
with data before it or after its directory, an encrypted member, a member
whose name would climb out of a folder or run a program (.exe, .js, …), more
than MAX_ZIP_ENTRIES members or more than MAX_ZIP_INFLATED bytes once
unpacked (a zip bomb); an Office file with macros. Nothing is ever executed,
rendered or unpacked to disk: the checks read bytes and a zip's directory.
"""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

from statemachine.errors import InvalidInput, UnsupportedType

__all__ = ["Kind", "KINDS", "sniff", "MAX_ZIP_ENTRIES", "MAX_ZIP_INFLATED", "ACCEPTED"]

MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_INFLATED = 1024 * 2**20  # unpacked; a real archive of photos and scans stays far below
MAX_CONTENT_TYPES_BYTES = 1 * 2**20
ACCEPTED = "PDF, PNG or JPEG images, Word (.docx) or Excel (.xlsx) documents, zip archives"


@dataclass(frozen=True)
class Kind:
    key: str
    media_type: str
    extensions: tuple[str, ...]  # the first is the one a download's name gets
    label: str

    @property
    def extension(self) -> str:
        return self.extensions[0]


_OOXML = "application/vnd.openxmlformats-officedocument."
KINDS = {k.key: k for k in (
    Kind("pdf", "application/pdf", ("pdf",), "PDF"),
    Kind("png", "image/png", ("png",), "PNG 图片"),
    Kind("jpeg", "image/jpeg", ("jpg", "jpeg"), "JPEG 图片"),
    Kind("docx", _OOXML + "wordprocessingml.document", ("docx",), "Word 文档"),
    Kind("xlsx", _OOXML + "spreadsheetml.sheet", ("xlsx",), "Excel 表格"),
    Kind("zip", "application/zip", ("zip",), "压缩包"),
)}
# [Content_Types].xml: the main part of each accepted Office kind
_MAIN_PARTS = {_OOXML + "wordprocessingml.document.main+xml": "docx",
               _OOXML + "spreadsheetml.sheet.main+xml": "xlsx"}
_PNG = b"\x89PNG\r\n\x1a\n"
_ZIP_LOCAL, _ZIP_END = b"PK\x03\x04", b"PK\x05\x06"
# what a browser's sniffer or an old viewer would take for a page or a script
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed)", re.I)
_SNIFFED = 512  # how far a browser's content sniffer looks
_RUNNABLE = re.compile(r"\.(?:exe|com|bat|cmd|scr|pif|msi|msp|dll|cpl|js|jse|vbs|vbe|wsf|wsh|ps1|psm1|"
                       r"hta|lnk|jar|sh|app|apk|reg|inf|docm|xlsm|pptm|dotm|xltm)$", re.I)


def _refuse(why: str) -> UnsupportedType:
    return UnsupportedType(f"{why}; accepted: {ACCEPTED}")


def sniff(data: bytes) -> Kind:
    """The kind of `data`, or UnsupportedType saying why not (InvalidInput when empty)."""
    if not data:
        raise InvalidInput("the file is empty")
    if data.startswith(_ZIP_LOCAL):
        return KINDS[_zip_kind(data)]
    if data.startswith(b"%PDF-"):
        kind = _pdf(data)
    elif data.startswith(_PNG):
        kind = _png(data)
    elif data.startswith(b"\xff\xd8\xff"):
        kind = _jpeg(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise _refuse("an old-format Office file (.doc/.xls, which can carry macros): save it as "
                      ".docx/.xlsx or PDF")
    elif data.startswith((b"MZ", b"\x7fELF", b"#!")):
        raise _refuse("a program, not evidence")
    else:
        raise _refuse("not a file type accepted as evidence")
    _not_also_a_zip(data)
    if _MARKUP.search(data[:_SNIFFED]):
        raise _refuse(f"a {KINDS[kind].label} with markup in its first bytes (a polyglot)")
    return KINDS[kind]


def _not_also_a_zip(data: bytes) -> None:
    # a zip is read from its end record, which may sit anywhere in the last 64 KiB
    if _ZIP_END in data[-(65_535 + 22):]:
        raise _refuse("a file that is also a zip archive (a polyglot)")


def _pdf(data: bytes) -> str:
    if not re.match(rb"%PDF-[12]\.\d", data):
        raise _refuse("a PDF without a version in its header")
    end = data.rfind(b"%%EOF")
    if end < 0 or data[end + 5:].strip(b"\r\n\t \x00"):
        raise _refuse("a PDF with data after its end (%%EOF) or without an end (a polyglot, or cut off)")
    return "pdf"


def _png(data: bytes) -> str:
    at, first = len(_PNG), True
    while True:
        if at + 12 > len(data):
            raise _refuse("a PNG image cut off before its end (IEND)")
        length, ctype = struct.unpack(">I4s", data[at:at + 8])
        chunk_end = at + 12 + length
        if chunk_end > len(data) or (first and ctype != b"IHDR"):
            raise _refuse("a damaged PNG image")
        crc = struct.unpack(">I", data[chunk_end - 4:chunk_end])[0]
        if zlib.crc32(data[at + 4:chunk_end - 4]) != crc:
            raise _refuse(f"a damaged PNG image (chunk {ctype!r} fails its checksum)")
        if ctype == b"IEND":
            if chunk_end != len(data):
                raise _refuse("a PNG image with data after its end (a polyglot)")
            return "png"
        at, first = chunk_end, False


def _jpeg(data: bytes) -> str:
    if not data.endswith(b"\xff\xd9"):
        raise _refuse("a JPEG image with data after its end, or cut off (a polyglot, or damaged)")
    return "jpeg"


def _zip_kind(data: bytes) -> str:
    """docx, xlsx or zip, after the archive's own checks."""
    end = data.rfind(_ZIP_END)
    if end < 0 or end + 22 > len(data):
        raise _refuse("a damaged zip archive (no end record)")
    comment = struct.unpack("<H", data[end + 20:end + 22])[0]
    if end + 22 + comment != len(data):
        raise _refuse("a zip archive with data after its end (a polyglot)")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, struct.error):
        raise _refuse("a damaged zip archive") from None
    if not infos:
        raise _refuse("an empty zip archive")
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _refuse(f"a zip archive of more than {MAX_ZIP_ENTRIES} files")
    if sum(i.file_size for i in infos) > MAX_ZIP_INFLATED:
        raise _refuse(f"a zip archive that unpacks to more than {MAX_ZIP_INFLATED // 2**20} MiB (a zip bomb)")
    if min(i.header_offset for i in infos) != 0 or \
            any(data[i.header_offset:i.header_offset + 4] != _ZIP_LOCAL for i in infos):
        raise _refuse("a zip archive with data before or between its files (a polyglot)")
    for i in infos:
        name = i.filename
        if i.flag_bits & 0x1:
            raise _refuse(f"a zip archive with an encrypted file ({_shown(name)}): its content cannot be checked")
        parts = re.split(r"[\\/]", name)
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts or "\x00" in name:
            raise _refuse(f"a zip archive with a file named outside its folder ({_shown(name)})")
        if _RUNNABLE.search(name.rstrip("/")):
            raise _refuse(f"a zip archive with a program or macro file in it ({_shown(name)})")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        return "zip"
    return _office_kind(zf, names)


def _shown(name: str) -> str:
    return repr(name[:80])


def _office_kind(zf: zipfile.ZipFile, names: set[str]) -> str:
    info = zf.getinfo("[Content_Types].xml")
    if info.file_size > MAX_CONTENT_TYPES_BYTES:
        raise _refuse("an Office file whose [Content_Types].xml is too large")
    try:
        with zf.open(info) as f:
            xml = f.read(MAX_CONTENT_TYPES_BYTES + 1)
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError, zlib.error):
        raise _refuse("a damaged Office file") from None
    if len(xml) > MAX_CONTENT_TYPES_BYTES or re.search(rb"<!(?:DOCTYPE|ENTITY)", xml, re.I):
        raise _refuse("an Office file with a malformed [Content_Types].xml")
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        raise _refuse("an Office file with a malformed [Content_Types].xml") from None
    types: list[tuple[str, str]] = []  # (part name or extension, content type)
    for el in root:
        tag = el.tag.rsplit("}", 1)[-1]
        if tag in ("Override", "Default"):
            types.append((el.get("PartName") or el.get("Extension") or "", el.get("ContentType") or ""))
    lowered = " ".join(t for _, t in types).lower()
    if "macroenabled" in lowered or "vbaproject" in lowered or \
            any(n.lower().endswith("vbaproject.bin") or "/activex/" in n.lower() for n in names):
        raise _refuse("an Office file with macros or ActiveX controls")
    mains = {_MAIN_PARTS[t]: part for part, t in types if t in _MAIN_PARTS}
    if len(mains) != 1:
        raise _refuse("an Office file that is not a Word (.docx) or Excel (.xlsx) document"
                      if not mains else "an Office file that claims to be both Word and Excel")
    (kind, part), = mains.items()
    if part.lstrip("/") not in names:
        raise _refuse(f"a damaged {KINDS[kind].label} (its main part {part!r} is missing)")
    return kind

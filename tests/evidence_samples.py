"""Small real files of every accepted kind, and the hostile ones an upload must refuse,
built in memory (python-docx and openpyxl write the Office files as Word and Excel do)."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

__all__ = ["pdf", "png", "jpeg", "docx", "xlsx", "zip_of", "ACCEPTED", "chunk"]


def pdf(text: str = "整改情况报告") -> bytes:
    body = text.encode("utf-8").hex().encode()
    return (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 /Note <" + body + b"> >>\nendobj\n"
            b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(extra_chunks: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra_chunks + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def jpeg() -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xda\x00\x02" + b"\x00" * 16 \
        + b"\xff\xd9"


def docx(text: str = "整改措施已落实") -> bytes:
    from docx import Document

    d = Document()
    d.add_paragraph(text)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["序号", "问题表现"])
    wb.active.append([1, "罚款不开票"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def zip_of(members: dict[str, bytes], *, encrypt_flag: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            z.writestr(info, data)
    raw = out.getvalue()
    if encrypt_flag:  # mark one member encrypted, as a password-protected archive does
        needle = encrypt_flag.encode()
        for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = raw.find(sig)
            while at >= 0:
                name_at = at + (30 if sig == b"PK\x03\x04" else 46)
                if raw[name_at:name_at + len(needle)] == needle:
                    flags = struct.unpack("<H", raw[at + flag_at:at + flag_at + 2])[0] | 1
                    raw = raw[:at + flag_at] + struct.pack("<H", flags) + raw[at + flag_at + 2:]
                at = raw.find(sig, at + 4)
    return raw


ACCEPTED = {"pdf": pdf, "png": png, "jpeg": jpeg, "docx": docx, "xlsx": xlsx,
            "zip": lambda: zip_of({"照片/现场1.jpg": jpeg(), "说明.pdf": pdf()})}

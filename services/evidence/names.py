"""An upload's file name, made fit to show and to offer as a download's name.

The name a browser or client sends is display text and nothing else: files are
stored under their SHA-256 (store.py), so no name ever reaches a path. Still,
it is shown on pages and sent back in Content-Disposition, so it is cleaned:

- only its last component is kept ('../../etc/passwd' → 'passwd', 'C:\\x\\a.pdf' → 'a.pdf');
- control and format characters go: NUL, line breaks, and the bidirectional
  overrides that make 'invoice\\u202efdp.exe' display as 'invoiceexe.pdf';
- characters a file system or a header would choke on ('"<>|:*?') become '_';
- leading dots and spaces go (no hidden names, no '..');
- at most MAX_NAME_CHARS characters, the extension kept;
- the extension is the one of the content's kind: a PDF named 'photo.jpg'
  downloads as 'photo.jpg.pdf', so what opens it is what it is.
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from .kinds import Kind

__all__ = ["clean_name", "content_disposition", "MAX_NAME_CHARS"]

MAX_NAME_CHARS = 120
_DROPPED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_UNSAFE = re.compile(r'["<>|:*?\\/]')


def clean_name(raw: str | None, kind: Kind) -> str:
    """The display name of an upload of `kind` (see the module's docstring)."""
    text = unicodedata.normalize("NFC", raw or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(" " if unicodedata.category(c) == "Zs" else c
                   for c in text if unicodedata.category(c) not in _DROPPED)
    text = _UNSAFE.sub("_", " ".join(text.split())).lstrip(". ").rstrip(". ")
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    if ext.lower() not in kind.extensions:
        stem, ext = text, kind.extension
    stem = stem.rstrip(". ") or "evidence"
    room = MAX_NAME_CHARS - len(ext) - 1
    return f"{stem[:room].rstrip('. ')}.{ext}"


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 5987)."""
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\%' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"

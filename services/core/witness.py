"""A witness of the audit head kept outside the database: a text file of `seq hash` lines.

    # rectify audit witness: campaign xinzhou-2023
    41 9c0e…(64 hex digits)
    57 3f2a…

`rectify audit head --append FILE` adds the head of the moment;
`rectify audit verify --witness FILE` holds the chain against every line, so
a tail cut off behind a lowered head (possible for whoever may drop the
database's triggers) shows as the first missing record. Keep the file where
that person cannot write: another machine, a mail archive, paper.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from statemachine.errors import InvalidInput

from .audit import Head

__all__ = ["read_witness", "append_witness", "MAX_WITNESS_BYTES"]

# a line a night for centuries; a bigger file is not a witness this program wrote
MAX_WITNESS_BYTES = 16 * 1024 * 1024
_HEADER = "# rectify audit witness: campaign "
_LINE = re.compile(r"(0|[1-9][0-9]{0,17}) ([0-9a-f]{64})")


def read_witness(path: Path, *, campaign: str, name: str = "--witness") -> dict[int, str]:
    """{seq: hash} of every head the file saw; InvalidInput naming the file and line
    when it cannot be read, is not a witness, or is another campaign's."""
    text = _read(path, name)
    seen: dict[int, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line.startswith(_HEADER):
            other = line.removeprefix(_HEADER).strip()
            if other != campaign:
                raise InvalidInput(f"{name}: {path} witnesses campaign '{other}', not '{campaign}'")
            continue
        if not line or line.startswith("#"):
            continue
        m = _LINE.fullmatch(line)
        if not m:
            raise InvalidInput(f"{name}: {path}:{n}: not a witness line 'SEQ HASH' (the record's "
                               f"number and its 64 hex digits)")
        seq, hash_ = int(m[1]), m[2]
        if seen.setdefault(seq, hash_) != hash_:
            raise InvalidInput(f"{name}: {path}:{n}: record {seq} has two hashes in this witness")
    return seen


def append_witness(path: Path, head: Head, *, campaign: str, name: str = "--append") -> None:
    """Add the head's line (the file and its header are created on first use),
    flushed to disk: a witness that a crash loses witnesses nothing."""
    new = not path.exists() or (path.is_file() and path.stat().st_size == 0)
    if not new:
        read_witness(path, campaign=campaign, name=name)  # refuse another campaign's, or garbage
    text = (f"{_HEADER}{campaign}\n" if new else "") + head.line() + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, text.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise InvalidInput(f"{name}: cannot write {path}: {e.strerror}") from None


def _read(path: Path, name: str) -> str:
    try:
        if not path.is_file():
            raise InvalidInput(f"{name}: {path} is not a file" if path.exists()
                               else f"{name}: {path} does not exist")
        if path.stat().st_size > MAX_WITNESS_BYTES:
            raise InvalidInput(f"{name}: {path} is larger than a witness ({MAX_WITNESS_BYTES} bytes)")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: {path} is not a text file") from None
    except OSError as e:
        raise InvalidInput(f"{name}: cannot read {path}: {e.strerror}") from None

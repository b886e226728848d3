"""How much of an input file Rectify reads: the bounds checked BEFORE parsing.

A plan, a round file, a clue CSV or a ledger workbook comes from people, and
may come from a careless or a hostile one. Parsers spend time and memory in
proportion to what a file declares, not to its size on disk (a YAML alias
expands, a zipped sheet inflates, one cell at XFD1 makes every row 16,384
columns wide), so each kind of file is bounded by what a real one needs, many
times over, and anything beyond is refused in one line before it is parsed.

    bound                     value       a real file
    MAX_PLAN_BYTES            4 MiB       10,000 units with liaisons: 1.5 MiB, read in 6 s
    MAX_YAML_DEPTH            32          a plan nests 5 deep; anchors and aliases: none
    MAX_CSV_BYTES             64 MiB      100,000 clues of 300 characters: ~40 MiB
    MAX_CSV_FIELD_CHARS       131,072     one clue's summary: hundreds of characters
    MAX_XLSX_BYTES            32 MiB      a county's ledger: tens of KiB
    MAX_XLSX_XML_BYTES        256 MiB     the workbook unzipped (a zip bomb inflates 1000×)
    MAX_SHEET_ROWS            20,000      a ledger: hundreds of rows
    MAX_SHEET_COLUMNS         256         a ledger template: 16 columns
    MAX_SHEET_CELLS           500,000     cells written in one workbook
    MAX_RANGE_CELLS           200,000     cells of merged ranges and ranged hyperlinks in one workbook
"""
from __future__ import annotations

import os
from pathlib import Path

from statemachine.errors import InvalidInput

__all__ = ["MAX_PLAN_BYTES", "MAX_YAML_DEPTH", "MAX_CSV_BYTES", "MAX_CSV_FIELD_CHARS", "MAX_XLSX_BYTES",
           "MAX_XLSX_XML_BYTES", "MAX_SHEET_ROWS", "MAX_SHEET_COLUMNS", "MAX_SHEET_CELLS",
           "MAX_RANGE_CELLS", "read_input", "size_text"]

MAX_PLAN_BYTES = 4 * 2**20
MAX_YAML_DEPTH = 32
MAX_CSV_BYTES = 64 * 2**20
MAX_CSV_FIELD_CHARS = 131_072  # csv.field_size_limit()'s default: one clue never comes near
MAX_XLSX_BYTES = 32 * 2**20
MAX_XLSX_XML_BYTES = 256 * 2**20
MAX_SHEET_ROWS = 20_000
MAX_SHEET_COLUMNS = 256
MAX_SHEET_CELLS = 500_000
MAX_RANGE_CELLS = 200_000


def size_text(n: int) -> str:
    """A byte count as people read it: 8 MiB, 512 KiB, 300 bytes."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def read_input(path: str | Path, *, max_bytes: int, what: str) -> bytes:
    """The file's bytes, or one InvalidInput line: missing, unreadable, not a
    regular file, or larger than `max_bytes` (never read past the bound: a FIFO
    or /dev/zero says nothing true about its size beforehand)."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            st = os.fstat(f.fileno())
            if not _regular(st.st_mode):
                raise InvalidInput(f"{path}: not a regular file")
            if st.st_size > max_bytes:
                raise InvalidInput(_too_large(path, what, st.st_size, max_bytes))
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: cannot read: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: not a regular file") from None
    except OSError as e:
        raise InvalidInput(f"{path}: cannot read: {e.strerror or e}") from None
    if len(data) > max_bytes:
        raise InvalidInput(_too_large(path, what, len(data), max_bytes, at_least=True))
    return data


def _regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def _too_large(path, what: str, size: int, limit: int, *, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    return f"{path}: {more}{size_text(size)}, larger than any {what} (at most {size_text(limit)} is read)"

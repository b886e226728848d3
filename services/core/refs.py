"""What a reference typed by a person may be as a row id: one rule for every lookup.

Ids, versions and counts end where the schema's integers end: its Integer
columns are PostgreSQL's int4, 2^31 − 1 (SQLite would hold more). A bigger
number reached the driver and ended in an OverflowError (SQLite, beyond
2^63) or "integer out of range" (PostgreSQL); `str.isdigit` also says yes to
'²', which `int()` refuses. The command line bounds its integer options with
the same MAX_INT (app/cli/params.py).
"""
from __future__ import annotations

__all__ = ["MAX_INT", "as_id"]

MAX_INT = 2**31 - 1


def as_id(ref: str) -> int | None:
    """`ref` as a row id when it is one (ASCII digits, 1..MAX_INT), else None: a
    reference that is not an id may still be a key or a number of another kind."""
    ref = ref.strip()
    if not (ref.isascii() and ref.isdigit()) or len(ref) > len(str(MAX_INT)):
        return None
    n = int(ref)
    return n if 1 <= n <= MAX_INT else None

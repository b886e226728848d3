"""A column in a set of ids, written so that a chunk's statement stays one statement.

SQLAlchemy expands `col IN (...)` into one placeholder per value, so each
chunk of 200 ids is a new, long SQL text: psycopg caches the parsing of a
query only up to 4 KiB and prepares only a text it has seen before, so every
chunk paid for splitting and planning its query afresh (about a tenth of the
escalation pass, bench/escalation.py). On PostgreSQL the set travels as one
array parameter (`col = ANY(%s)`): one short text, parsed once, prepared
after five runs. SQLite keeps the IN list (it has no arrays, and its parsing
is cheap).
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import ColumnElement, Connection, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

__all__ = ["one_of"]


def one_of(conn: Connection, column: ColumnElement, values: Iterable) -> ColumnElement[bool]:
    values = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)

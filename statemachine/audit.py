"""Hash chaining of audit records (docs/architecture.md decision 6).

Each record's hash covers its canonical content and the previous record's
hash, per campaign, so editing, deleting or reordering any row breaks the
chain from that row on. Pure: the services layer stores and re-reads rows.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

__all__ = ["GENESIS", "FIELDS", "record_hash", "first_break"]

GENESIS = "0" * 64
FIELDS = ("campaign_id", "seq", "at", "actor", "unit_id", "entity", "entity_id",
          "from_state", "to_state", "trigger", "reason", "detail")


def _norm(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # stored naive in UTC (SQLite drops the offset)
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def record_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    body = json.dumps({k: _norm(record.get(k)) for k in FIELDS}, ensure_ascii=False,
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + "\n" + body).encode("utf-8")).hexdigest()


def first_break(rows: Iterable[Mapping[str, Any]]) -> tuple[int, str] | None:
    """(seq, why) of the first row whose chain does not hold, or None if intact."""
    prev = GENESIS
    expected_seq = 1
    for row in rows:
        if row["seq"] != expected_seq:
            return row["seq"], f"sequence gap: expected {expected_seq}, found {row['seq']}"
        if row["prev_hash"] != prev:
            return row["seq"], "prev_hash does not match the previous record"
        if record_hash(prev, row) != row["hash"]:
            return row["seq"], "content does not match its hash (row altered)"
        prev = row["hash"]
        expected_seq += 1
    return None

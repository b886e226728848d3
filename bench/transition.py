"""Benchmark: one clue transition through the service layer, against a SQL floor.

    .venv/bin/python bench/transition.py [--db URL] [--clues N]

Runs on a fresh SQLite file and on PostgreSQL (--db, else a throwaway
cluster). For each: N clues of the 忻州 plan are registered, then each is
verified once by its unit's officer through `services.clues.lifecycle.transition`
(load, permission check, the transitions Machine, versioned UPDATE, one
hash-chained audit record, commit). The floor is the same writes by hand:
a versioned UPDATE and the audit INSERT plus head UPDATE in one
transaction. Prints the medians; the last line reads
`transition_vs_floor=<worst ratio> median_ms_sqlite=<a> median_ms_postgresql=<b>`.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pg import database_url  # noqa: E402

START = datetime.fromisoformat("2023-03-20T09:00:00+08:00")

FLOOR_UPDATE = ("UPDATE clues SET state = 'verifying', version = version + 1, updated_at = :at, "
                "updated_by = :who WHERE id = :id AND version = :v")
FLOOR_AUDIT = ("INSERT INTO audit_log (campaign_id, seq, at, actor, unit_id, entity, entity_id, "
               "from_state, to_state, trigger, prev_hash, hash) VALUES (:cid, :seq, :at, :who, "
               ":unit, 'clue', :id, 'verifying', 'verifying', 'verify', :h, :h)")


def _setup(url: str, n: int):
    from models.db import make_engine, upgrade
    from services.campaigns.load import campaign_id, load_plan
    from services.clues.lifecycle import NewClue, add_clues
    from services.campaigns.plans import read_plan
    from statemachine.time.calendar import WorkingCalendar

    engine = make_engine(url)
    upgrade(engine)
    plan = read_plan("003-xinzhou-2023")
    load_plan(engine, plan, source="003", now=START)
    officers = {p.unit: p.username for p in plan.people if p.role == "officer"}
    units = sorted(officers)
    items = [NewClue(channel="12345", aspect=plan.aspects[0].key, summary=f"线索 {i}",
                     unit=units[i % len(units)]) for i in range(n)]
    numbers = add_clues(engine, plan.campaign.code, items, actor="sup.xinzhou", now=START,
                        calendar=WorkingCalendar())
    owners = [officers[units[i % len(units)]] for i in range(n)]
    return engine, plan.campaign.code, campaign_id(engine, plan.campaign.code), numbers, owners


def _service_ms(engine, code, numbers, owners) -> list[float]:
    from services.clues.lifecycle import transition

    out = []
    for i, (number, who) in enumerate(zip(numbers, owners)):
        t0 = time.perf_counter()
        transition(engine, code, number, "verify", actor=who, now=START + timedelta(seconds=i))
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _floor_ms(engine, cid: int) -> list[float]:
    """Hand-written: the same row updates again (verifying → verifying) and audit rows."""
    from sqlalchemy import bindparam, text

    from models.types import UTCDateTime

    upd = text(FLOOR_UPDATE).bindparams(bindparam("at", type_=UTCDateTime()))
    aud = text(FLOOR_AUDIT).bindparams(bindparam("at", type_=UTCDateTime()))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, unit_id, version FROM clues WHERE campaign_id = :c "
                                 "ORDER BY id"), dict(c=cid)).all()
        seq = conn.execute(text("SELECT seq FROM audit_heads WHERE campaign_id = :c"),
                           dict(c=cid)).scalar_one()
    out = []
    for r in rows:
        seq += 1
        at = START + timedelta(days=1)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(upd, dict(at=at, who="bench", id=r.id, v=r.version))
            conn.execute(aud, dict(cid=cid, seq=seq, at=at, who="bench", unit=r.unit_id, id=r.id,
                                   h="0" * 64))
            conn.execute(text("UPDATE audit_heads SET seq = :s, hash = :h WHERE campaign_id = :c"),
                         dict(s=seq, h="0" * 64, c=cid))  # the head moves only to the newest record
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure(url: str, n: int) -> tuple[str, float, float]:
    engine, code, cid, numbers, owners = _setup(url, n)
    service = _service_ms(engine, code, numbers, owners)
    floor = _floor_ms(engine, cid)
    name = engine.dialect.name
    engine.dispose()
    s, f = statistics.median(service), statistics.median(floor)
    p95 = sorted(service)[int(len(service) * 0.95)]
    print(f"{name}: service median {s:.2f} ms (p95 {p95:.2f} ms), floor median {f:.2f} ms, "
          f"ratio {s / f:.2f} over {n} clues", flush=True)
    return name, s, f


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="PostgreSQL URL (default: a throwaway cluster)")
    ap.add_argument("--clues", type=int, default=500)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="rectify-bench-") as tmp:
        name, s, f = measure(f"sqlite:///{tmp}/bench.db", args.clues)
        results[name] = (s, f)
    with database_url(args.db) as url:
        from models.db import normalize_url

        name, s, f = measure(normalize_url(url), args.clues)
        results[name] = (s, f)
    worst = max(s / f for s, f in results.values())
    print(f"transition_vs_floor={worst:.2f} "
          + " ".join(f"median_ms_{k}={s:.2f}" for k, (s, _) in results.items()))


if __name__ == "__main__":
    main()

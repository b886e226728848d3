"""Benchmark: one escalation pass over 10,000 lapsed units / 100,000 overdue clues.

    .venv/bin/python bench/escalation.py [--db URL] [--units N] [--clues-per-unit K]

Without --db a throwaway PostgreSQL cluster is started. A campaign with N
participating units gets K overdue clues each (rectifying, past their
deadline); the sweep records the N·K lapses. Then, timed:

- round: the real `escalation_pass` Prefect flow: N cases proposed
  (set-based), N·K lapses linked, N 通报批评 issued automatically: each one
  numbered, rendered from its template, audited twice, queued to the file channel;
- floor: hand-written SQL making the same rows (cases, links, notices of the
  same size, outbox messages, audit rows) without rendering or hashing.

Last line: `escalation_vs_floor=<ratio> task_runs=<n> peak_rss_mb=<m>`.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.flowruns import bench_home, task_runs  # noqa: E402
from bench.pg import database_url  # noqa: E402

START = datetime.fromisoformat("2023-03-15T09:00:00+08:00")
AS_OF = datetime.fromisoformat("2023-06-15T00:05:00+08:00")
PAST = datetime.fromisoformat("2023-05-01T12:00:00+08:00")


def plan(units: int):
    from statemachine.plan import Plan

    return Plan.model_validate({
        "campaign": {"code": "bench-2023", "title": "基准专项整治", "doc_number": "基准发〔2023〕1号",
                     "issuing_unit": "基准市交通运输局", "period": {"start": "2023-03-15", "end": "2023-10-31"}},
        "aspects": [{"key": "profit", "name": "逐利执法"}],
        "units": [{"code": "root", "name": "基准市交通运输局", "level": "prefecture"}]
        + [{"code": f"u{i:05d}", "name": f"第{i}县交通运输局", "level": "county", "parent": "root"}
           for i in range(units)],
        "people": [{"username": "sup", "name": "李明远", "unit": "root", "role": "supervisor"}],
        "stages": [{"key": "work", "name": "集中整治", "ongoing": True}],
        "escalation": {"issuer_code": "基准督", "rules": [{"cause": "rectify_overdue", "level": 1}],
                       "auto_levels": [1], "channels": ["file"]},
    })


def generate(engine, cid: int, per_unit: int) -> None:
    from sqlalchemy import bindparam, text

    from models.types import UTCDateTime

    series = ("SELECT k FROM generate_series(1, :k) AS k" if engine.dialect.name == "postgresql" else
              "WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < :k) SELECT k FROM s")
    sql = f"""
    INSERT INTO clues (campaign_id, number, kind, channel, aspect_key, summary, unit_id, owner, state,
                       received_at, verify_due_at, measures, deadline_at, reopen_count, reject_count,
                       updated_at, updated_by, version)
    SELECT :cid, 'BE-' || u.id || '-' || s.k, 'clue', '12345', 'profit', '基准线索', u.id, '测试员',
           'rectifying', :past, :past, '整改措施', :past, 0, 0, :as_of, 'bench', 1
      FROM units u CROSS JOIN ({series}) AS s
     WHERE u.campaign_id = :cid AND u.participates"""
    ts = UTCDateTime()
    stmt = text(sql).bindparams(bindparam("past", type_=ts), bindparam("as_of", type_=ts))
    with engine.begin() as conn:
        conn.execute(stmt, dict(cid=cid, k=per_unit, past=PAST, as_of=AS_OF))
    with engine.begin() as conn:  # committed: an ANALYZE rolled back leaves no statistics
        conn.exec_driver_sql("ANALYZE")


FLOOR = [
    # cases, one per unit with lapses, already issued
    """INSERT INTO escalation_cases (campaign_id, unit_id, level, state, cause, key, open_key, automatic,
           reason, proposed_by, proposed_at, issued_by, issued_at, response_due_at, updated_at,
           updated_by, version)
       SELECT l.campaign_id, l.unit_id, 1, 'issued', l.kind, 'floor:' || min(l.id),
              CAST(l.unit_id AS VARCHAR) || chr(58) || l.kind, TRUE, '问题整改逾期', 'system', :now,
              'system', :now, :now, :now, 'system', 3
         FROM lapses l WHERE l.campaign_id = :cid GROUP BY l.campaign_id, l.unit_id, l.kind""",
    """INSERT INTO case_lapses (lapse_id, case_id)
       SELECT l.id, c.id FROM lapses l JOIN escalation_cases c
         ON c.campaign_id = l.campaign_id AND c.open_key = CAST(l.unit_id AS VARCHAR) || chr(58) || l.kind
        WHERE l.campaign_id = :cid""",
    """INSERT INTO doc_counters (issuer, year, last) VALUES ('floor', 2023, 0)""",
    """INSERT INTO notices (campaign_id, case_id, kind, key, issuer, year, seq, doc_number,
           addressee_unit_id, title, html, text, created_at)
       SELECT c.campaign_id, c.id, 'criticism', 'floor:' || c.id, 'floor', 2023, c.id,
              'floor〔2023〕' || c.id || '号', c.unit_id, '关于对' || u.name || '的通报批评',
              :html, :text, :now
         FROM escalation_cases c JOIN units u ON u.id = c.unit_id WHERE c.campaign_id = :cid""",
    """UPDATE doc_counters SET last = (SELECT count(*) FROM notices WHERE issuer = 'floor')
        WHERE issuer = 'floor'""",
    """INSERT INTO outbox (campaign_id, key, notice_id, channel, recipient, subject, body_text, body_html,
           state, attempts, next_attempt_at, created_at)
       SELECT n.campaign_id, n.key || '-file', n.id, 'file', 'unit', n.title, n.text, n.html,
              'pending', 0, :now, :now FROM notices n WHERE n.campaign_id = :cid AND n.issuer = 'floor'""",
    """INSERT INTO audit_log (campaign_id, seq, at, actor, unit_id, entity, entity_id, from_state,
           to_state, trigger, reason, detail, prev_hash, hash)
       SELECT c.campaign_id, 1000000 + 2 * c.id + k.k, :now, 'system', c.unit_id, 'case', c.id,
              'proposed', 'issued', 'issue', NULL, '{"level": 1}', :hash, :hash
         FROM escalation_cases c CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1) AS k
        WHERE c.campaign_id = :cid""",
]


def floor(engine, cid: int, html: str, text_: str) -> float:
    from sqlalchemy import bindparam, text

    from models.types import UTCDateTime

    t0 = time.perf_counter()
    with engine.begin() as conn:
        for sql in FLOOR:
            stmt = text(sql)
            if ":now" in sql:
                stmt = stmt.bindparams(bindparam("now", type_=UTCDateTime()))
            names = set(re.findall(r":(\w+)", sql))
            conn.execute(stmt, {k: v for k, v in dict(cid=cid, now=AS_OF, html=html, text=text_,
                                                       hash="0" * 64).items() if k in names})
    return time.perf_counter() - t0


def clear_cases(engine) -> None:
    with engine.begin() as conn:
        for t in ("outbox", "notices", "case_lapses", "escalation_cases", "doc_counters"):
            conn.exec_driver_sql(f"DELETE FROM {t}")
        conn.exec_driver_sql("DELETE FROM audit_log WHERE seq >= 1000000")




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db")
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--clues-per-unit", type=int, default=10)
    args = ap.parse_args()
    bench_home()
    with database_url(args.db) as url:
        from models.db import make_engine, normalize_url, upgrade
        from services.campaigns.load import campaign_id, load_plan

        url = normalize_url(url)
        os.environ["RECTIFY_DB"] = url
        engine = make_engine(url)
        upgrade(engine)
        t0 = time.perf_counter()
        load_plan(engine, plan(args.units), source="bench", now=START)
        cid = campaign_id(engine, "bench-2023")
        generate(engine, cid, args.clues_per_unit)
        print(f"{args.units:,} units, {args.units * args.clues_per_unit:,} overdue clues on "
              f"{engine.dialect.name} in {time.perf_counter() - t0:.1f}s", flush=True)

        from app.flow_runner import quiet_flows
        from flows.deadline_sweep import deadline_sweep
        from flows.ladder import escalation_pass

        quiet_flows()
        swept = deadline_sweep(campaign="bench-2023", as_of=AS_OF)
        print(f"sweep: {swept.total:,} lapses", flush=True)
        t0 = time.perf_counter()
        state = escalation_pass(campaign="bench-2023", as_of=AS_OF, return_state=True)
        round_s = time.perf_counter() - t0
        result = state.result()
        with engine.connect() as conn:
            n = dict(conn.exec_driver_sql(
                "SELECT 'cases', count(*) FROM escalation_cases UNION ALL SELECT 'links', count(*) "
                "FROM case_lapses UNION ALL SELECT 'notices', count(*) FROM notices UNION ALL "
                "SELECT 'outbox', count(*) FROM outbox").all())
            sample = conn.exec_driver_sql("SELECT html, text FROM notices LIMIT 1").one()
        assert n["cases"] == args.units and n["links"] == swept.total == n["outbox"] * args.clues_per_unit, n
        print(f"round: {result.actions} in {round_s:.2f}s; rows {n}", flush=True)
        clear_cases(engine)
        floor_s = floor(engine, cid, sample.html, sample.text)
        tasks = task_runs(state.state_details.flow_run_id, at_least=4)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"floor {floor_s:.2f}s; escalation pass flow {round_s:.2f}s")
        print(f"escalation_vs_floor={round_s / floor_s:.2f} task_runs={tasks} peak_rss_mb={rss:.0f}")
        engine.dispose()


if __name__ == "__main__":
    main()

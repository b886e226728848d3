"""Benchmark: the supervisor's roll-up report over 1,000,000 clues in 3,000 units.

    .venv/bin/python bench/report.py [--db URL] [--units N] [--clues M]

Without --db a throwaway PostgreSQL cluster is started (bench/pg.py). A
province with 12 prefectures and N units in all (counties spread over the
prefectures) gets M items: clues and self-inspection problems in every
state, some overdue. Then, in one run:

- floor: one hand-written SQL statement computing the docs/domain.md §6 figures per
  prefecture, rolled up from the counties (best of two, around the flow);
- report: the real `generate-report` Prefect flow (monthly roll-up of the
  province: figures per unit rolled up the tree, overdue items, escalations,
  reports owed, burn-down and charts, Markdown + HTML written, artifact).

Both must agree on the province's totals. The last line reads
`report_vs_floor=<ratio> task_runs=<n> peak_rss_mb=<m>`.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.flowruns import bench_home, task_runs  # noqa: E402
from bench.pg import database_url  # noqa: E402

START = datetime.fromisoformat("2023-03-15T09:00:00+08:00")
PAST = datetime.fromisoformat("2023-04-20T09:00:00+08:00")
FUTURE = datetime.fromisoformat("2023-09-30T23:59:59+08:00")
NOW = datetime.fromisoformat("2023-07-05T09:00:00+08:00")
PREFECTURES = 12


def plan(units: int):
    from statemachine.plan import Plan

    counties = units - 1 - PREFECTURES
    return Plan.model_validate({
        "campaign": {"code": "bench-2023", "title": "基准专项整治", "doc_number": "基准发〔2023〕1号",
                     "issuing_unit": "基准省交通运输厅", "period": {"start": "2023-03-15", "end": "2023-10-31"}},
        "aspects": [{"key": "profit", "name": "逐利执法"}, {"key": "rough", "name": "执法粗暴"}],
        "units": [{"code": "root", "name": "基准省交通运输厅", "level": "province"}]
        + [{"code": f"p{i:02d}", "name": f"第{i}市交通运输局", "level": "prefecture", "parent": "root"}
           for i in range(PREFECTURES)]
        + [{"code": f"c{i:05d}", "name": f"第{i}县交通运输局", "level": "county", "parent": f"p{i % PREFECTURES:02d}"}
           for i in range(counties)],
        "people": [{"username": "sup", "name": "李明远", "unit": "root", "role": "supervisor"}],
        "stages": [{"key": "work", "name": "集中整治", "ongoing": True}],
        "reporting": [{"key": "monthly", "name": "工作简报", "schedule": {"kind": "monthly", "day": 25}}],
        "escalation": {"issuer_code": "基准督", "channels": ["file"]},
    })


def generate(engine, cid: int, n: int) -> None:
    """g % 20: 0–9 clues (0 received, 1 verifying, 2–3 rectifying (2 overdue), 4 long-term,
    5–9 closed), 10–19 self-inspection (10–11 rectifying, 12–19 closed)."""
    from sqlalchemy import bindparam, text

    from models.types import UTCDateTime

    sql = """
    WITH u AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i, count(*) OVER () AS k
                 FROM units WHERE campaign_id = :cid AND participates)
    INSERT INTO clues (campaign_id, number, kind, channel, aspect_key, summary, unit_id, owner, state,
                       received_at, verify_due_at, measures, deadline_at, resolution, closed_at,
                       reopen_count, reject_count, updated_at, updated_by, version)
    SELECT :cid, 'BR-' || g, CASE WHEN g % 20 < 10 THEN 'clue' ELSE 'self_inspection' END, '12345',
           CASE WHEN g % 2 = 0 THEN 'profit' ELSE 'rough' END, '基准问题', u.id, '测试员',
           CASE WHEN g % 20 = 0 THEN 'received' WHEN g % 20 = 1 THEN 'verifying'
                WHEN g % 20 IN (2, 3, 10, 11) THEN 'rectifying' WHEN g % 20 = 4 THEN 'long_term'
                ELSE 'closed' END,
           :past + (g % 60) * interval '1 day', :future, '整改措施',
           CASE WHEN g % 20 = 2 THEN :past + interval '30 days' ELSE :future END,
           CASE WHEN g % 20 >= 5 AND g % 20 <> 10 AND g % 20 <> 11 THEN 'approved' END,
           CASE WHEN g % 20 >= 5 AND g % 20 <> 10 AND g % 20 <> 11 THEN :past + (60 + g % 40) * interval '1 day' END,
           0, 0, :past, 'bench', 1
      FROM generate_series(1, :n) AS g JOIN u ON u.i = g % u.k"""
    ts = UTCDateTime()
    stmt = text(sql).bindparams(*(bindparam(x, type_=ts) for x in ("past", "future")))
    with engine.begin() as conn:
        conn.execute(stmt, dict(cid=cid, n=n, past=PAST, future=FUTURE))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


FLOOR = """
SELECT p.code,
       sum(CASE WHEN c.kind = 'clue' THEN 1 ELSE 0 END) AS clues,
       sum(CASE WHEN c.kind = 'clue' AND c.state IN ('closed', 'transferred') THEN 1 ELSE 0 END) AS concluded,
       sum(CASE WHEN c.kind = 'clue' AND c.state = 'long_term' THEN 1 ELSE 0 END) AS ongoing,
       sum(CASE WHEN c.kind = 'self_inspection' THEN 1 ELSE 0 END) AS self_inspection,
       sum(CASE WHEN c.kind = 'self_inspection' AND c.state IN ('closed', 'transferred', 'long_term')
                THEN 1 ELSE 0 END) AS self_rectified,
       sum(CASE WHEN c.state = 'rectifying' AND c.deadline_at < :now THEN 1 ELSE 0 END) AS overdue
  FROM clues c JOIN units u ON u.id = c.unit_id
  JOIN units p ON p.campaign_id = c.campaign_id AND p.parent_id = :root AND u.path LIKE p.path || '%'
 WHERE c.campaign_id = :cid
 GROUP BY p.code"""


def floor(engine, cid: int, root: int) -> tuple[float, dict]:
    from sqlalchemy import bindparam, text

    from models.types import UTCDateTime

    stmt = text(FLOOR).bindparams(bindparam("now", type_=UTCDateTime()))
    t0 = time.perf_counter()
    with engine.connect() as conn:
        rows = conn.execute(stmt, dict(cid=cid, root=root, now=NOW)).all()
    took = time.perf_counter() - t0
    totals = {k: sum(getattr(r, k) for r in rows) for k in ("clues", "concluded", "ongoing",
                                                           "self_inspection", "self_rectified")}
    return took, totals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="PostgreSQL URL (default: a throwaway cluster)")
    ap.add_argument("--units", type=int, default=3_000)
    ap.add_argument("--clues", type=int, default=1_000_000)
    args = ap.parse_args()

    bench_home()
    with database_url(args.db) as url:
        from sqlalchemy import text

        from models.db import make_engine, normalize_url, upgrade

        url = normalize_url(url)
        os.environ["RECTIFY_DB"] = url
        os.environ["RECTIFY_REPORTS_DIR"] = tempfile.mkdtemp(prefix="rectify-bench-reports-")
        engine = make_engine(url)
        upgrade(engine)
        from services.campaigns.load import campaign_id, load_plan

        load_plan(engine, plan(args.units), source="bench", now=START)
        cid = campaign_id(engine, "bench-2023")
        with engine.connect() as conn:
            root = conn.execute(text("SELECT id FROM units WHERE campaign_id = :c AND parent_id IS NULL"),
                                dict(c=cid)).scalar_one()
        t0 = time.perf_counter()
        generate(engine, cid, args.clues)
        print(f"{args.units:,} units, {args.clues:,} items on {engine.dialect.name} "
              f"in {time.perf_counter() - t0:.1f}s", flush=True)

        from app.flow_runner import quiet_flows
        from flows.reports import generate_report

        quiet_flows()
        warm = generate_report(campaign="bench-2023", kind="monthly", period="2023-04", as_of=NOW)  # starts the API
        assert warm.created
        f1, totals = floor(engine, cid, root)
        t0 = time.perf_counter()
        g = generate_report(campaign="bench-2023", kind="monthly", period="2023-06", as_of=NOW)
        report_s = time.perf_counter() - t0
        f2, _ = floor(engine, cid, root)
        want = (f"共受理问题线索 {totals['clues']} 件，已办结 {totals['concluded']} 件，"
                f"持续推进中 {totals['ongoing']} 件")
        if want not in g.markdown:
            sys.exit(f"bench: the report does not say '{want}'")
        best = min(f1, f2)
        with engine.connect() as conn:
            run_id = conn.execute(text("SELECT flow_run_id FROM generated_reports WHERE period = '2023-06'")).scalar()
        tasks = task_runs(run_id, at_least=1) if run_id else 0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"floor {best:.3f}s (runs {f1:.3f}s, {f2:.3f}s); report flow {report_s:.3f}s "
              f"({len(g.markdown):,} chars of Markdown)")
        print(f"report_vs_floor={report_s / best:.2f} task_runs={tasks} peak_rss_mb={rss:.0f}")
        engine.dispose()


if __name__ == "__main__":
    main()

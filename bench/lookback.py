"""Benchmark: opening a look-back round over 1,000,000 closed items in 3,000 units.

    .venv/bin/python bench/lookback.py [--db URL] [--units N] [--items-per-unit K] [--share S]

Without --db a throwaway PostgreSQL cluster is started. A campaign with N
participating units gets K closed items each. Nine inspection teams (000:
nine 督察组). Then, timed, each against a floor measured in the same run:

- all: the real `open-round` Prefect flow taking every closed item: counts
  per unit, teams assigned (回避, balanced), N round-unit rows, N·K checks
  (one INSERT … SELECT), the digest of the drawn items, one numbered notice
  and a message per unit and team;
- sample: the same flow drawing a risk-weighted share S per unit (the
  candidates streamed once, keyed from the seed, kept for the re-draw);
- floor: hand-written SQL writing the same rows (round units with a team
  by modulo, checks, a message per unit) with no drawing, balancing, digest
  or rendering; for the sample floor, every 1/S-th item.

Last line: `lookback_open_vs_floor=<all ratio> sample_vs_floor=<ratio> task_runs=<n> peak_rss_mb=<m>`.
"""
from __future__ import annotations

import argparse
import os
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
RECEIVED = datetime.fromisoformat("2023-04-10T09:00:00+08:00")
CLOSED = datetime.fromisoformat("2023-06-20T15:00:00+08:00")
OPENS = datetime.fromisoformat("2023-08-24T10:00:00+08:00")
TEAMS = 9


def plan(units: int):
    from statemachine.plan import Plan

    return Plan.model_validate({
        "campaign": {"code": "bench-2023", "title": "基准专项整治", "doc_number": "基准发〔2023〕1号",
                     "issuing_unit": "基准市交通运输局", "period": {"start": "2023-03-15", "end": "2023-10-31"}},
        "aspects": [{"key": "profit", "name": "逐利执法"}],
        "units": [{"code": "root", "name": "基准市交通运输局", "level": "prefecture"}]
        + [{"code": f"u{i:05d}", "name": f"第{i}县交通运输局", "level": "county", "parent": "root"}
           for i in range(units)],
        "people": [{"username": "sup", "name": "李明远", "unit": "root", "role": "supervisor"}]
        + [{"username": f"insp{i}", "name": f"督察员{i}", "unit": "root", "role": "inspector"}
           for i in range(TEAMS)],
        "stages": [{"key": "work", "name": "集中整治", "ongoing": True}],
        "escalation": {"issuer_code": "基准督", "channels": ["file"]},
    })


def spec(code: str, selection: dict):
    from statemachine.lookback.spec import RoundSpec

    return RoundSpec.model_validate({
        "code": code, "title": "专项整治问题整改“回头看”", "scope": "root", "deadline": "2023-09-30",
        "visits": {"start": "2023-09-18", "end": "2023-09-25"}, "selection": selection,
        "teams": [{"code": f"t{i}", "name": f"第{i + 1}督察组", "members": [f"insp{i}"]} for i in range(TEAMS)]})


def generate(engine, cid: int, per_unit: int) -> None:
    from sqlalchemy import bindparam, text

    from models.types import UTCDateTime

    sql = """
    INSERT INTO clues (campaign_id, number, kind, channel, aspect_key, summary, unit_id, owner, state,
                       received_at, verify_due_at, measures, deadline_at, evidence, resolution, closed_at,
                       reopen_count, reject_count, updated_at, updated_by, version)
    SELECT :cid, 'BE-' || u.id || '-' || s.k, 'clue', '12345', 'profit', '基准线索', u.id, '测试员',
           'closed', :received, :received, '整改措施', :closed,
           CASE WHEN s.k % 7 = 0 THEN '照片' ELSE '整改报告、现场照片及制度文件' END,
           'approved', :closed - (s.k % 60) * interval '1 day', 0, 0, :closed, 'bench', 1
      FROM units u CROSS JOIN generate_series(1, :k) AS s(k)
     WHERE u.campaign_id = :cid AND u.participates"""
    ts = UTCDateTime()
    stmt = text(sql).bindparams(*(bindparam(n, type_=ts) for n in ("received", "closed")))
    with engine.begin() as conn:
        conn.execute(stmt, dict(cid=cid, k=per_unit, received=RECEIVED, closed=CLOSED))
    # the items accumulated over months: vacuumed and analysed, so that autovacuum
    # catching up on a million fresh rows does not run beside the timed flows
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


FLOOR = [
    """INSERT INTO inspection_rounds (campaign_id, code, title, kind, state, organiser_unit_id, scope_unit_id,
           spec_json, seed, deadline, deadline_at, candidates, selected, created_by, created_at, updated_at,
           updated_by, version)
       SELECT campaign_id, 'floor', title, kind, 'open', organiser_unit_id, scope_unit_id, spec_json, seed,
              deadline, deadline_at, 0, 0, created_by, created_at, updated_at, updated_by, 1
         FROM inspection_rounds WHERE code = :template""",
    """INSERT INTO round_units (round_id, unit_id, team_id, candidates, selected)
       SELECT r.id, c.unit_id, (SELECT min(id) FROM inspection_teams) + c.unit_id % 9, count(*), count(*)
         FROM clues c, inspection_rounds r
        WHERE r.code = 'floor' AND c.campaign_id = :cid AND c.state = 'closed' {sample}
        GROUP BY r.id, c.unit_id""",
    """INSERT INTO inspection_checks (round_id, clue_id, unit_id, team_id, state, version)
       SELECT ru.round_id, c.id, c.unit_id, ru.team_id, 'pending', 1
         FROM clues c JOIN round_units ru ON ru.unit_id = c.unit_id
         JOIN inspection_rounds r ON r.id = ru.round_id AND r.code = 'floor'
        WHERE c.campaign_id = :cid AND c.state = 'closed' {sample}""",
    """INSERT INTO outbox (campaign_id, key, channel, recipient, subject, body_text, state, attempts,
           next_attempt_at, created_at)
       SELECT :cid, 'floor:' || ru.unit_id, 'file', u.code, '关于开展回头看的通知', :text, 'pending', 0,
              now(), now()
         FROM round_units ru JOIN units u ON u.id = ru.unit_id
         JOIN inspection_rounds r ON r.id = ru.round_id AND r.code = 'floor'""",
]


def floor(engine, cid: int, template: str, text_: str, every: int | None) -> float:
    from sqlalchemy import text

    sample = f"AND c.id % {every} = 0" if every else ""
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for sql in FLOOR:
            conn.execute(text(sql.format(sample=sample)), dict(cid=cid, template=template, text=text_))
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        rid = conn.exec_driver_sql("SELECT id FROM inspection_rounds WHERE code = 'floor'").scalar()
        for t in ("inspection_checks", "round_units"):
            conn.exec_driver_sql(f"DELETE FROM {t} WHERE round_id = {rid}")
        conn.execute(text("DELETE FROM outbox WHERE key LIKE 'floor:%'"))
        conn.exec_driver_sql(f"DELETE FROM inspection_rounds WHERE id = {rid}")
    return elapsed


def analyze(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")




def open_timed(engine, code: str, selection: dict):
    from flows.lookback import open_round
    from services.lookback.rounds import plan_round

    plan_round(engine, "bench-2023", spec(code, selection), actor="sup", now=OPENS)
    t0 = time.perf_counter()
    result = open_round(campaign="bench-2023", code=code, actor="sup", as_of=OPENS)
    return result, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db")
    ap.add_argument("--units", type=int, default=3_000)
    ap.add_argument("--items-per-unit", type=int, default=334)
    ap.add_argument("--share", type=float, default=0.1)
    args = ap.parse_args()
    bench_home()
    with database_url(args.db) as url:
        from models.db import make_engine, normalize_url, upgrade
        from services.campaigns.load import campaign_id, load_plan

        url = normalize_url(url)
        if not url.startswith("postgresql"):
            sys.exit("bench/lookback.py needs PostgreSQL (generate_series); omit --db for a throwaway cluster")
        os.environ["RECTIFY_DB"] = url
        engine = make_engine(url)
        upgrade(engine)
        t0 = time.perf_counter()
        load_plan(engine, plan(args.units), source="bench", now=START)
        cid = campaign_id(engine, "bench-2023")
        generate(engine, cid, args.items_per_unit)
        items = args.units * args.items_per_unit
        print(f"{args.units:,} units, {items:,} closed items on {engine.dialect.name} "
              f"in {time.perf_counter() - t0:.1f}s", flush=True)

        from app.flow_runner import quiet_flows

        quiet_flows()
        from flows.deadline_sweep import deadline_sweep

        deadline_sweep(campaign="bench-2023", as_of=OPENS)  # warm-up: the first flow starts the local API
        sample, sample_s = open_timed(engine, "lb-sample", {"mode": "sample", "share": args.share,
                                                            "risk_weighted": True, "seed": 1})
        print(f"sample: {sample.drawn.selected:,} of {sample.drawn.candidates:,} drawn in {sample_s:.2f}s",
              flush=True)
        analyze(engine)  # what autovacuum does after a bulk write; the next round should not pay for it
        every, all_s = open_timed(engine, "lb-all", {"mode": "all"})
        assert every.drawn.selected == items and every.notified.state == "open", every
        print(f"all: {every.drawn.selected:,} checks in {every.drawn.units:,} units, "
              f"{every.notified.messages:,} messages, in {all_s:.2f}s", flush=True)
        analyze(engine)
        with engine.connect() as conn:
            body = conn.exec_driver_sql("SELECT body_text FROM outbox LIMIT 1").scalar()
        floor_all = floor(engine, cid, "lb-all", body, None)
        floor_sample = floor(engine, cid, "lb-all", body, round(1 / args.share))
        tasks = task_runs(every.flow_run_id, at_least=2)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"floor all {floor_all:.2f}s, sample {floor_sample:.2f}s; open-round flow all {all_s:.2f}s, "
              f"sample {sample_s:.2f}s")
        print(f"lookback_open_vs_floor={all_s / floor_all:.2f} sample_vs_floor={sample_s / floor_sample:.2f} "
              f"task_runs={tasks} peak_rss_mb={rss:.0f}")


if __name__ == "__main__":
    main()

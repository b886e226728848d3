"""Benchmark: the deadline-sweep flow over N clues against a hand-written SQL floor.

    .venv/bin/python bench/sweep.py [--db URL] [--clues N]

Without --db a throwaway PostgreSQL cluster is started (bench/pg.py); a
`sqlite:///…` URL works too. The 忻州 plan (seed 003) is loaded and N clues
are generated server-side, 10 % of them overdue (5 % unverified past their
verification due, 5 % rectifying past their deadline), and 10 % suspended or
extended (issue 16): 5 % with their clock suspended (挂账; among them 1 % that
would be verify-overdue and 1 % rectify-overdue, which no sweep may lapse), 4 %
extended (延期; 1 % of them past deadlines moved beyond the sweep's instant)
and 1 % rectify-overdue with an extension request waiting (held).
Then, in one run:

- floor: one hand-written `INSERT … SELECT … ON CONFLICT DO NOTHING` making
  the same lapse rows the sweep makes (best of two, around the sweep);
- sweep: the real `deadline_sweep` Prefect flow (local API unless
  PREFECT_API_URL is set), after one warm-up run that finds nothing.

Both must write the same rows (compared row by row). The last line reads
`sweep_vs_floor=<ratio> task_runs=<n> peak_rss_mb=<m>`.
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

AS_OF = "2023-06-15T09:00:00+08:00"
# of g % 100 (the g % 20 = 1 ones are rectifying past their deadline, g % 20 = 6 rectifying in time):
EXTENDED_PAST = "21"           # 延期 granted before the old deadline: now due after AS_OF
EXTENDED_RUNNING = "6, 26, 46"  # 延期 granted, due after AS_OF anyway
WAITING = "41"                 # past the deadline while a timely request waits: no lapse yet
# so 61 and 81 stay rectify-overdue (2 %), and 20, 40, 60, 80 verify-overdue (4 %)
# g % 100 < 5: the clock suspended (挂账), whatever the state
PAST, FUTURE = "2023-05-01T12:00:00+08:00", "2023-09-01T12:00:00+08:00"

FLOOR_SQL = """
INSERT INTO lapses (campaign_id, unit_id, clue_id, kind, key, subject, due_at, detected_at, run_key)
SELECT u.campaign_id, u.id, NULL, 'stage_deadline', 'stage:' || CAST(u.id AS VARCHAR) || ':' || s.key,
       s.key, s.due_at, :as_of, 'floor'
  FROM units u JOIN stages s ON s.campaign_id = u.campaign_id AND s.key = u.stage_key
 WHERE u.campaign_id = :cid AND u.participates AND s.due_at IS NOT NULL AND s.due_at < :as_of
{owing}UNION ALL
SELECT c.campaign_id, c.unit_id, c.id, 'verify_overdue', 'verify:' || CAST(c.id AS VARCHAR),
       c.number, c.verify_due_at, :as_of, 'floor'
  FROM clues c
 WHERE c.campaign_id = :cid AND c.state IN ('received', 'verifying') AND c.verify_due_at < :as_of
   AND c.clock = 'running'
UNION ALL
SELECT c.campaign_id, c.unit_id, c.id, 'rectify_overdue',
       'rectify:' || CAST(c.id AS VARCHAR) || ':' || CAST(c.reopen_count AS VARCHAR),
       c.number, c.deadline_at, :as_of, 'floor'
  FROM clues c
 WHERE c.campaign_id = :cid AND c.state = 'rectifying' AND c.deadline_at < :as_of AND c.clock = 'running'
   AND NOT EXISTS (SELECT 1 FROM extension_requests e WHERE e.clue_id = c.id AND e.state = 'requested')
UNION ALL
SELECT c.campaign_id, c.unit_id, c.id, 'repeated_reject', 'rejects:' || CAST(c.id AS VARCHAR),
       c.number, c.updated_at, :as_of, 'floor'
  FROM clues c
 WHERE c.campaign_id = :cid AND c.state IN ('received', 'verifying', 'rectifying', 'rectified', 'long_term')
   AND c.reject_count >= :rejects
UNION ALL
SELECT :cid, i.unit_id, NULL, 'no_progress', 'idle:' || CAST(i.unit_id AS VARCHAR) || ':' || CAST(i.last AS VARCHAR),
       'no_progress', i.last, :as_of, 'floor'
  FROM (SELECT c.unit_id, max(c.updated_at) AS last FROM clues c
         WHERE c.campaign_id = :cid AND c.state IN ('received', 'verifying', 'rectifying', 'rectified')
         GROUP BY c.unit_id HAVING max(c.updated_at) < :idle_before) AS i
UNION ALL
SELECT :cid, COALESCE(t.unit_id, r.organiser_unit_id), NULL, 'check_overdue',
       'checks:' || CAST(r.id AS VARCHAR) || ':' || COALESCE(CAST(t.id AS VARCHAR), '0'),
       r.code || '/' || COALESCE(t.code, '-'), r.deadline_at, :as_of, 'floor'
  FROM inspection_checks k JOIN inspection_rounds r ON r.id = k.round_id
  LEFT JOIN inspection_teams t ON t.id = k.team_id
 WHERE r.campaign_id = :cid AND r.state = 'open' AND r.deadline_at < :as_of AND k.state = 'pending'
 GROUP BY r.id, r.code, r.deadline_at, r.organiser_unit_id, t.id, t.code, t.unit_id
UNION ALL
SELECT c.campaign_id, c.unit_id, c.id, 'sign_for_overdue',
       'sign:' || CAST(c.id AS VARCHAR) || ':' || CAST(c.assign_count AS VARCHAR),
       c.number, c.sign_due_at, :as_of, 'floor'
  FROM clues c
 WHERE c.campaign_id = :cid AND c.sign_due_at IS NOT NULL AND c.sign_due_at < :as_of
   AND (c.signed_at > c.sign_due_at
        OR (c.signed_at IS NULL AND c.signing = 'unsigned'
            AND c.state IN ('received', 'verifying', 'rectifying', 'rectified', 'long_term')
            AND NOT EXISTS (SELECT 1 FROM clue_returns r WHERE r.clue_id = c.id AND r.state = 'requested'
                               AND r.requested_at <= c.sign_due_at)))
UNION ALL
SELECT c.campaign_id, COALESCE(u.parent_id, c.unit_id), c.id, 'callback_overdue',
       'callback:' || CAST(c.id AS VARCHAR) || ':' || CAST(c.reopen_count AS VARCHAR),
       c.number, c.callback_due_at, :as_of, 'floor'
  FROM clues c JOIN units u ON u.id = c.unit_id
 WHERE c.campaign_id = :cid AND c.state = 'closed' AND c.callback = 'owed' AND c.callback_due_at < :as_of
{reports}ON CONFLICT (campaign_id, key) DO NOTHING
"""
# an ongoing stage whose deliverables were owed by now (statemachine/charts/unit_stage.stage_lapse);
# PostgreSQL types a UNION pairwise, and NULL with NULL is text, which no clue id matches
OWING_SQL = """UNION ALL
SELECT u.campaign_id, u.id, CAST(NULL AS INTEGER), 'deliverables_overdue', 'deliverables:' || CAST(u.id AS VARCHAR) || ':' || :stage{i},
       :stage{i}, :owed{i}, :as_of, 'floor'
  FROM units u
 WHERE u.campaign_id = :cid AND u.participates AND u.stage_key = :stage{i}
   AND (SELECT count(*) FROM deliverables d WHERE d.unit_id = u.id AND d.stage_key = :stage{i}
           AND d.key IN ({keys})) < {n}
"""
# reports past due that a unit owing them has not submitted; the due ones travel as literal
# rows (a bench's few dozen: SQLite allows 500 terms in a compound SELECT)
REPORTS_SQL = """UNION ALL
SELECT :cid, u.id, NULL, 'missed_report', 'report:' || CAST(u.id AS VARCHAR) || ':' || o.duty || ':' || o.period,
       o.duty || '/' || o.period, o.due_at, :as_of, 'floor'
  FROM units u JOIN ({rows}) AS o
    ON (o.owed_by = 'participants' AND u.participates) OR (o.owed_by = 'lead' AND u.parent_id IS NULL)
 WHERE u.campaign_id = :cid AND NOT EXISTS (
       SELECT 1 FROM report_submissions rs WHERE rs.campaign_id = :cid AND rs.unit_id = u.id
          AND rs.duty_key = o.duty AND rs.period = o.period)
"""


def floor_statement(p):
    """The floor's one INSERT for the sweep's parameters `p` (the plan's due reports
    and owed deliverables travel as literals, as in the sweep)."""
    from sqlalchemy import bindparam, text

    from models.types import UTCDateTime

    binds: dict = {}
    typed = [bindparam("as_of", type_=UTCDateTime()), bindparam("idle_before", type_=UTCDateTime())]
    owing = ""
    for i, (stage, due_at, keys) in enumerate(p.deliverables_due):
        names = [f"k{i}_{j}" for j in range(len(keys))]
        owing += OWING_SQL.format(i=i, keys=", ".join(f":{n}" for n in names), n=len(keys))
        binds |= {f"stage{i}": stage, f"owed{i}": due_at} | dict(zip(names, keys))
        typed.append(bindparam(f"owed{i}", type_=UTCDateTime()))
    reports = ""
    if p.reports_due:
        reports = REPORTS_SQL.format(rows=" UNION ALL ".join(
            f"SELECT :rk{i} AS duty, :rp{i} AS period, :rd{i} AS due_at, :ro{i} AS owed_by"
            for i in range(len(p.reports_due))))
        for i, (duty, period, due_at, owed_by) in enumerate(p.reports_due):
            binds |= {f"rk{i}": duty, f"rp{i}": period, f"rd{i}": due_at, f"ro{i}": owed_by}
            typed.append(bindparam(f"rd{i}", type_=UTCDateTime()))
    return text(FLOOR_SQL.format(owing=owing, reports=reports)).bindparams(*typed), binds


def _series(dialect: str) -> str:
    if dialect == "postgresql":
        return "SELECT g FROM generate_series(1, :n) AS g"
    return ("WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n) "
            "SELECT g FROM s")


def generate_clues(engine, cid: int, unit_ids: list[int], aspect: str, n: int) -> None:
    """N clues in one statement; g % 20 decides state and whether it is overdue, g % 100
    the clock (挂账) and 延期 (see the module); then the waiting requests in one more."""
    from sqlalchemy import Date, bindparam, text

    from models.types import UTCDateTime

    pick = "CASE g % {k} {whens} END".format(
        k=len(unit_ids), whens=" ".join(f"WHEN {i} THEN {u}" for i, u in enumerate(unit_ids)))
    sql = f"""
    INSERT INTO clues (campaign_id, number, kind, channel, aspect_key, summary, unit_id, owner,
                       state, received_at, verify_due_at, measures, deadline, deadline_at,
                       resolution, closed_at, reopen_count, updated_at, updated_by, version,
                       clock, extension_count)
    SELECT :cid, 'BX-' || g, 'clue', '12345', :aspect, 'benchmark clue', {pick}, '测试员',
           CASE WHEN g % 20 = 0 THEN 'received' WHEN g % 20 = 1 THEN 'rectifying'
                WHEN g % 20 < 5 THEN 'verifying' WHEN g % 20 < 10 THEN 'rectifying'
                ELSE 'closed' END,
           :past, CASE WHEN g % 20 = 0 THEN :past ELSE :future END, 'measures',
           NULL, CASE WHEN g % 20 = 1 AND g % 100 NOT IN ({EXTENDED_PAST}) THEN :past ELSE :future END,
           CASE WHEN g % 20 >= 10 THEN 'approved' END, CASE WHEN g % 20 >= 10 THEN :past END,
           0, :past, 'bench', 1,
           CASE WHEN g % 100 < 5 THEN 'suspended' ELSE 'running' END,
           CASE WHEN g % 100 IN ({EXTENDED_PAST}, {EXTENDED_RUNNING}) THEN 1 ELSE 0 END
      FROM ({_series(engine.dialect.name)}) AS series"""
    waiting = f"""
    INSERT INTO extension_requests (campaign_id, clue_id, unit_id, state, reason, asked, previous,
                                    requested_by, requested_at, updated_at, updated_by, version)
    SELECT c.campaign_id, c.id, c.unit_id, 'requested', 'benchmark 延期', :asked, :previous,
           'bench', :past, :past, 'bench', 1
      FROM clues c
     WHERE c.campaign_id = :cid AND c.state = 'rectifying'
       AND CAST(substr(c.number, 4) AS INTEGER) % 100 IN ({WAITING})"""
    ts = UTCDateTime()
    stmt = text(sql).bindparams(bindparam("past", type_=ts), bindparam("future", type_=ts))
    asks = text(waiting).bindparams(bindparam("past", type_=ts), bindparam("asked", type_=Date()),
                                    bindparam("previous", type_=Date()))
    past, future = datetime.fromisoformat(PAST), datetime.fromisoformat(FUTURE)
    with engine.begin() as conn:
        conn.execute(stmt, dict(cid=cid, aspect=aspect, n=n, past=past, future=future))
        conn.execute(asks, dict(cid=cid, past=past, asked=future.date(), previous=past.date()))
        conn.exec_driver_sql(f"UPDATE campaigns SET clue_seq = {n} WHERE id = {cid}")
    with engine.begin() as conn:  # committed: an ANALYZE rolled back leaves no statistics
        conn.exec_driver_sql("ANALYZE")


def floor(engine, cid: int, as_of: datetime) -> tuple[float, int]:
    from services.ladder.sweep import parameters
    from statemachine.time.calendar import WorkingCalendar

    p = parameters(engine, cid, as_of, WorkingCalendar())
    stmt, binds = floor_statement(p)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        rows = conn.execute(stmt.execution_options(preserve_rowcount=True),
                            dict(cid=cid, as_of=as_of, rejects=p.reject_threshold,
                                 idle_before=p.idle_before, **binds)).rowcount
    return time.perf_counter() - t0, rows


def lapse_rows(engine) -> set[tuple]:
    """The lapses as written, but for the run that wrote them."""
    from sqlalchemy import select

    from models.tables import Lapse

    L = Lapse.__table__
    with engine.connect() as conn:
        return set(conn.execute(select(L.c.campaign_id, L.c.unit_id, L.c.clue_id, L.c.kind, L.c.key, L.c.subject,
                                       L.c.due_at, L.c.detected_at)).all())


def clear_lapses(engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE lapses CASCADE")  # case_lapses refers to it
        else:
            conn.exec_driver_sql("DELETE FROM lapses")




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="database URL (default: a throwaway PostgreSQL cluster)")
    ap.add_argument("--clues", type=int, default=1_000_000)
    args = ap.parse_args()

    bench_home()
    with database_url(args.db) as url:
        from models.db import make_engine, normalize_url, upgrade

        url = normalize_url(url)
        os.environ["RECTIFY_DB"] = url  # what the flow's process reads (flows/deps.py)
        engine = make_engine(url)
        upgrade(engine)
        from services.campaigns.load import campaign_id, load_plan
        from services.campaigns.plans import read_plan
        from sqlalchemy import text

        plan = read_plan("003-xinzhou-2023")
        load_plan(engine, plan, source="003-xinzhou-2023",
                  now=datetime.fromisoformat("2023-03-15T09:00:00+08:00"))
        cid = campaign_id(engine, plan.campaign.code)
        with engine.connect() as conn:
            unit_ids = [r[0] for r in conn.execute(
                text("SELECT id FROM units WHERE campaign_id = :c AND participates ORDER BY id"),
                dict(c=cid))]
        t0 = time.perf_counter()
        generate_clues(engine, cid, unit_ids, plan.aspects[0].key, args.clues)
        print(f"generated {args.clues:,} clues over {len(unit_ids)} units "
              f"on {engine.dialect.name} in {time.perf_counter() - t0:.1f}s", flush=True)
        with engine.connect() as conn:
            held = conn.execute(text(
                "SELECT sum(CASE WHEN clock = 'suspended' THEN 1 ELSE 0 END), "
                "sum(CASE WHEN extension_count > 0 THEN 1 ELSE 0 END), "
                "(SELECT count(*) FROM extension_requests WHERE campaign_id = :c AND state = 'requested') "
                "FROM clues WHERE campaign_id = :c"), dict(c=cid)).one()
        print(f"suspended {held[0]:,}, extended {held[1]:,}, waiting on a request {held[2]:,} "
              f"({sum(held) / args.clues:.0%} of the items)", flush=True)

        from app.flow_runner import quiet_flows
        from flows.deadline_sweep import deadline_sweep

        quiet_flows()
        as_of = datetime.fromisoformat(AS_OF)
        warm = deadline_sweep(campaign=plan.campaign.code,
                              as_of=datetime.fromisoformat("2023-03-16T09:00:00+08:00"))
        assert warm.total == 0, warm
        f1, floor_rows = floor(engine, cid, as_of)
        made_by_floor = lapse_rows(engine)
        clear_lapses(engine)
        t0 = time.perf_counter()
        result = deadline_sweep(campaign=plan.campaign.code, as_of=as_of)
        sweep_s = time.perf_counter() - t0
        made_by_sweep = lapse_rows(engine)
        clear_lapses(engine)
        f2, again = floor(engine, cid, as_of)
        if result.total != floor_rows or again != floor_rows:
            sys.exit(f"bench: the sweep wrote {result.total} lapses, the floor {floor_rows}/{again}")
        if made_by_sweep != made_by_floor:
            sys.exit(f"bench: the sweep and the floor wrote different lapses, e.g. "
                     f"{sorted(made_by_sweep ^ made_by_floor)[:3]}")
        best_floor = min(f1, f2)
        tasks = task_runs(result.run_key, at_least=6)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"lapses {floor_rows:,} ({', '.join(f'{k} {v:,}' for k, v in result.new_lapses.items())})")
        print(f"floor {best_floor:.3f}s (runs {f1:.3f}s, {f2:.3f}s); sweep flow {sweep_s:.3f}s")
        print(f"sweep_vs_floor={sweep_s / best_floor:.2f} task_runs={tasks} peak_rss_mb={rss_mb:.0f}")
        engine.dispose()


if __name__ == "__main__":
    main()

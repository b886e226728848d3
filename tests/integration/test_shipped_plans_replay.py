"""Every shipped plan (deploy/plans/*.yaml) replayed as a supervisor runs it.

Loaded on the first day of its period. One participating unit does everything
on time (deliverables, advancing, every report it owes); one walks the stages
and reports on time but never delivers what an ongoing stage owes by its
stated date (003's 长效机制, "10月25日前阶段性完成，长期推进"); the others, and
the lead office, do nothing. The nightly job — the sweep, the escalation
round and the roll-ups whose duty fell due, as `rectify enforce` runs them,
without Prefect — runs the day after each stage deadline and after the
period's end; then `duty owed` and the final report.

What must come out: each idle unit late in its first stage once, each report
it owed missing once, and nothing against the diligent unit; the stage owed
by a date lapses once and stays open; every lapse with a rule answered by
one case; `duty owed` and the report saying what the lapses say.
"""
from __future__ import annotations

import re

import itertools
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.tables import CaseLapse, EscalationCase, GeneratedReport, Lapse, Unit
from services.campaigns import units
from services.campaigns.load import campaign_id, load_plan
from services.campaigns.plans import read_plan
from services.ladder import automatic as rnd
from services.ladder import sweep
from services.ladder.cases import CAUSE_LABELS
from services.reports import duties as reporting, generate as reports
from services.reports.status import campaign_status
from statemachine.charts.unit_stage import stage_deadline
from statemachine.plan import Plan
from statemachine.reports.duties import all_occurrences
from statemachine.time.calendar import TZ, local_date

PLANS = sorted((Path(__file__).resolve().parents[2] / "deploy" / "plans").glob("*.yaml"))
L, U, E, CL, G = (Lapse.__table__, Unit.__table__, EscalationCase.__table__, CaseLapse.__table__,
                  GeneratedReport.__table__)
CHANNELS = ("file",)
# plans with an ongoing stage owing deliverables by a date: 001 (10-01), 003 (10-25), default (10-20)
OWED_BY_A_DATE = {"001-etuokeqianqi-2023": "summary", "003-xinzhou-2023": "summary",
                  "default-five-stage": "summary"}
# "每阶段一总结": a stage_end duty without a stage owes one summary per stage
EACH_STAGE = {"000-neimenggu-2023": ["deploy", "self_check", "rectify", "summary"],
              "default-five-stage": ["deploy", "self_check", "rectify", "inspect", "summary"]}


def _at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)


@dataclass(frozen=True)
class Cast:
    diligent: str   # does everything on time
    laggard: str    # everything on time but an ongoing stage's deliverables, never
    idle: tuple[str, ...]
    officer: dict   # unit -> username


def cast_of(plan: Plan) -> Cast:
    parts = [u.code for u in plan.participants()]
    officer = {p.unit: p.username for p in plan.people if p.role == "officer"}
    return Cast(parts[-1], parts[-2], tuple(parts[:-2]), officer)


def script(plan: Plan, cast: Cast) -> list[tuple[datetime, int, str, tuple]]:
    """What the two working units do, and when the nightly job runs: (when, order, what, args)."""
    out = []
    for who in (cast.diligent, cast.laggard):
        for i, stage in enumerate(plan.stages):
            due = stage_deadline(stage)
            owed = due.due_at or due.deliverables_due_at
            if owed is None:
                continue
            day = local_date(owed)
            if not (stage.ongoing and who == cast.laggard):
                out += [(_at(day, 10), 0, "deliver", (who, stage.key, d.key)) for d in stage.deliverables]
            if not stage.ongoing:
                out.append((_at(day, 10), 1 + i, "advance", (who,)))
        out += [(o.due_at - timedelta(hours=1), 0, "submit", (who, o.duty, o.period))
                for o in all_occurrences(plan) if o.owed_by == "participants"]
    nights = {local_date(d) + timedelta(days=1) for d in
              (stage_deadline(s).due_at or stage_deadline(s).deliverables_due_at for s in plan.stages) if d}
    nights.add(plan.campaign.period.end + timedelta(days=1))
    out += [(_at(day, 0, 5), 0, "nightly", ()) for day in sorted(nights)]
    return sorted(out, key=lambda e: (e[0], e[1]))


_runs = itertools.count()


def nightly(engine, code: str, as_of: datetime, calendar, out_dir: Path) -> None:
    """flows/enforce.py's steps as services: sweep, escalation pass, the due roll-ups."""
    cid = campaign_id(engine, code)
    params = sweep.parameters(engine, cid, as_of, calendar)
    run_key = f"replay-{next(_runs)}"
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key=run_key, params=params)
    kw = dict(now=as_of, calendar=calendar)
    rnd.propose_for_lapses(engine, code, **kw)
    for step in (rnd.issue_automatic, rnd.escalate_unanswered, rnd.chase_overdue):
        step(engine, code, channels=CHANNELS, **kw)
    for kind, period in reports.due_reports(engine, code, now=as_of):
        reports.generate(engine, code, kind=kind, period=period, formats=("md",), out_dir=out_dir,
                         actor=None, now=as_of)  # None: the nightly job


def replay(engine, plan: Plan, calendar, out_dir: Path) -> tuple[str, Cast, datetime]:
    code = plan.campaign.code
    load_plan(engine, plan, source=plan.campaign.code, now=_at(plan.campaign.period.start, 9))
    cast = cast_of(plan)
    last = None
    for when, _, what, args in script(plan, cast):
        if what == "deliver":
            who, stage, key = args
            units.record_deliverable(engine, code, who, key, attachment=f"{who}/{stage}/{key}.pdf",
                                     actor=cast.officer[who], now=when, stage=stage)
        elif what == "advance":
            units.advance(engine, code, args[0], actor=cast.officer[args[0]], now=when)
        elif what == "submit":
            who, duty, period = args
            reporting.submit(engine, code, unit=who, duty=duty, period=period, attachment=f"{who}/{duty}.pdf",
                             actor=cast.officer[who], now=when)
        else:
            nightly(engine, code, when, calendar, out_dir)
            last = when
    return code, cast, last


def lapses_of(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(U.c.code, L.c.kind, L.c.subject, L.c.key, L.c.detected_at, L.c.id)
                            .join(U, U.c.id == L.c.unit_id).order_by(L.c.id)).all()


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.stem)
def test_a_shipped_plan_replayed_records_each_missed_deadline_once_and_reports_it(path, sqlite_url, calendar,
                                                                                  tmp_path):
    from models.db import make_engine

    engine = make_engine(sqlite_url)
    try:
        _replay_and_check(engine, path, calendar, tmp_path)
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("stem", ["003-xinzhou-2023", "default-five-stage"])
def test_a_shipped_plan_replays_alike_on_postgresql(stem, pg_template, calendar, tmp_path):
    from models.db import make_engine

    from ..conftest import fresh_pg_url

    engine = make_engine(fresh_pg_url(pg_template))
    try:
        _replay_and_check(engine, next(p for p in PLANS if p.stem == stem), calendar, tmp_path)
    finally:
        engine.dispose()


def _replay_and_check(engine, path: Path, calendar, out: Path) -> None:
    plan = read_plan(path)
    code, cast, end = replay(engine, plan, calendar, out)
    first = plan.stages[0].key
    found = lapses_of(engine)
    by_unit: dict[str, list] = {}
    for r in found:
        by_unit.setdefault(r.code, []).append(r)

    # the diligent unit: nothing against it
    assert cast.diligent not in by_unit
    # the idle ones: late in their first stage, once, however many nights ran
    for unit in cast.idle:
        stage_lapses = [(r.kind, r.subject) for r in by_unit[unit] if r.kind != "missed_report"]
        assert stage_lapses == [("stage_deadline", first)], unit
    # the stage owed by a date: the laggard lapses once, and is not late in the stage itself
    laggard = [(r.kind, r.subject) for r in by_unit.get(cast.laggard, [])]
    owed = OWED_BY_A_DATE.get(path.stem)
    assert laggard == ([("deliverables_overdue", owed)] if owed else [])

    # every report a unit owed and did not send: one missed_report lapse, and duty owed agrees
    missed = {(r.code, r.subject) for r in found if r.kind == "missed_report"}
    assert len(missed) == sum(r.kind == "missed_report" for r in found)
    expected = {(u, f"{o.duty}/{o.period}") for o in all_occurrences(plan) if o.due_at < end
                for u in (cast.idle if o.owed_by == "participants" else (plan.root.code,))}
    assert missed == expected and expected
    owed_lines = reporting.owed(engine, code, as_of=end, upcoming=0)
    assert {(ln.unit, f"{ln.duty}/{ln.period}") for ln in owed_lines if ln.status == "missing"} == missed
    assert {ln.status for ln in owed_lines if ln.unit in (cast.diligent, cast.laggard)} == {"submitted"}
    if path.stem in EACH_STAGE:
        periods = {s.split("/")[1] for u, s in missed if u == cast.idle[0] and s.startswith("stage_summary/")}
        assert periods == set(EACH_STAGE[path.stem])

    # the ladder: every lapse of a cause the plan answers is linked to exactly one case of that cause
    rules = plan.escalation.levels()
    with engine.connect() as conn:
        links = conn.execute(select(CL.c.lapse_id, E.c.cause, E.c.level, E.c.state)
                             .join(E, E.c.id == CL.c.case_id)).all()
        made = conn.execute(select(G.c.kind, G.c.period)).all()
    linked = {}
    for lk in links:
        linked.setdefault(lk.lapse_id, []).append(lk)
    for r in found:
        assert len(linked.get(r.id, [])) == (1 if r.kind in rules else 0), r
        assert all(lk.cause == r.kind for lk in linked.get(r.id, []))
    if owed:
        lag = next(r for r in found if r.code == cast.laggard)
        assert (linked[lag.id][0].level, linked[lag.id][0].state) == (1, "issued")  # 通报批评, automatic

    # the supervisor's status says, unit by unit, what the sweep found
    status = {u.code: u for u in campaign_status(engine, code, as_of=end).units}
    assert {u: status[u].stage_lapse for u in cast.idle} == dict.fromkeys(cast.idle, "stage_deadline")
    assert status[cast.laggard].stage_lapse == ("deliverables_overdue" if owed else None)
    assert status[cast.diligent].stage_lapse is None

    # the nightly roll-ups: each stage's summary drafted under its stage key, the owed
    # deliverables' lapse counted in the stage's own with its label
    if path.stem in EACH_STAGE:
        assert {p for k, p in made if k == "stage"} == set(EACH_STAGE[path.stem])
    if path.stem in EACH_STAGE and owed:
        md = (out / code / plan.root.code / f"stage-{owed}.md").read_text(encoding="utf-8")
        assert f"{CAUSE_LABELS['deliverables_overdue']} 1" in md

    # the final report, written in every format, once; `force`: a duty with typical cases due
    # before the end (003's 9-10 summary) had the nightly draft it then
    final = reports.generate(engine, code, kind="final", out_dir=out, actor=None, now=end, force=True)
    assert final.created and set(final.files) == set(reports.DEFAULT_FORMATS)
    assert all(Path(f).stat().st_size > 0 for f in final.files.values())
    assert plan.campaign.title in final.markdown
    sent = sum(1 for o in all_occurrences(plan) if o.owed_by == "participants") * 2
    assert f"报送材料：按时 {sent} 份，逾期 0 份，未报送 {len(missed)} 份。" in final.markdown
    assert re.search(rf"各单位所处阶段：[^。]*{re.escape(plan.stages[0].name)} {len(cast.idle)} 个[，。]", final.markdown)
    again = reports.generate(engine, code, kind="final", out_dir=out, actor=None, now=end)
    assert not again.created and again.digest == final.digest
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(G).where(G.c.kind == "final")).scalar() == 1

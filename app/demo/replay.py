"""`rectify demo`: the 忻州 campaign (seed 003) replayed from 2023-03-15 to
10-31 in compressed time, through the real services and the real Prefect
deadline-sweep flow (one run per campaign day, at 00:05 Asia/Shanghai)."""
from __future__ import annotations

import random
import sys
import time as clock
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

from statemachine.errors import InvalidInput, RectifyError
from statemachine.masking import masked_url
from statemachine.time.calendar import TZ

from app.cli import output as out
from app.cli.context import AppContext
from app.cli.params import out_folder
from .data import script_campaign

__all__ = ["run_demo"]

PLAN = "003-xinzhou-2023"
SUPERVISOR = "sup.xinzhou"
LIAISON = "off.ningwu"  # 宁武县交通运输局's liaison: a county the demo gives work to


def _at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour, 0), TZ)


def _fresh_db(out_dir: Path) -> str:
    db = out_dir / "demo.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db}"


class _Progress:
    """A live bar on a terminal; a line per month in a log or a pipe."""

    def __init__(self, total: int):
        self.total, self.tty = total, sys.stdout.isatty()
        self.bar = None
        if self.tty:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                transient=True)
            self.task = self.bar.add_task("", total=total)
            self.bar.start()

    def update(self, day: date, text: str) -> None:
        if self.bar:
            self.bar.update(self.task, advance=1, description=f"{day} {text}")
        elif day.day == 1 or day == day.replace(month=3, day=15):
            out.say(f"  {day}  {text}")

    def close(self) -> None:
        if self.bar:
            self.bar.stop()


def _last_day(until: str | None, start: date, end: date) -> date:
    if until is None:
        return end
    try:
        day = date.fromisoformat(until)
    except ValueError:
        raise InvalidInput(f"--until: '{until}' is not a date (YYYY-MM-DD)") from None
    if not start <= day <= end:
        raise InvalidInput(f"--until: {day} is outside the campaign period {start} – {end}")
    return day


def _ladder_table(engine, code: str) -> None:
    from services.ladder.cases import list_cases

    rows = Counter((c.measure, c.state) for c in list_cases(engine, code, limit=100000))
    measures = sorted({m for m, _ in rows}, key=["通报批评", "函询约谈", "挂牌督办", "追责问责", "移交纪检监察"].index)
    states = ["proposed", "issued", "awaiting_response", "responded", "resolved", "escalated", "withdrawn"]
    out.table(["measure", *states], [(m, *(rows.get((m, st), 0) for st in states)) for m in measures],
              title="escalation cases (督办) by measure and state")


def _rounds_summary(engine, code: str, script, as_of: datetime) -> None:
    from services.lookback.findings import round_report
    from services.lookback.rounds import list_rounds
    from statemachine.charts.lookback import ROUND_KINDS

    rounds = list_rounds(engine, code)
    if not rounds:
        return
    rows = []
    for r in rounds:
        t = round_report(engine, code, r.code, now=as_of).tally
        tot = t["totals"]
        worst = sorted((u for u in t["units"] if u["relapsed"] + u["faked"]),
                       key=lambda u: -(u["relapsed"] + u["faked"]))[:3]
        rows.append((f"{ROUND_KINDS[r.kind]} {r.code}", r.state, tot["selected"], tot["checked"],
                     tot["relapsed"], tot["faked"], tot["missed"],
                     "—" if tot["relapse_rate"] is None else f"{tot['relapse_rate']:.1%}", len(t["reopened"]),
                     "、".join(u["name"] for u in worst) or "—"))
    out.table(["round", "state", "drawn", "checked", "relapsed", "faked", "missed", "relapse rate",
               "reopened", "most found at"], rows, title="look-back (回头看) and field inspection (实地督察)")
    done = {k: v for k, v in script.done.items() if not k.startswith("checks ")}
    out.say("look-back: " + ", ".join(f"{k} {v}" for k, v in sorted(done.items())))


def _ranking_lines(engine, code: str, start: date, end: date) -> None:
    """考核排名 over the campaign's whole period (its year holds it) and its last month."""
    from services.ranking.table import ranking

    for period, what in ((str(start.year), "the campaign's whole period"), (f"{end:%Y-%m}", "its last month")):
        t = ranking(engine, code, period)
        out.say(f"考核排名 {t.period.label} ({what}, {t.ranked} units): "
                f"红榜 {'、'.join(f'{r.name} {r.score}' for r in t.red) or '—'}; "
                f"黑榜 {'、'.join(f'{r.name} {r.score}' for r in t.black) or '—'}")


def run_demo(c: AppContext, *, clues: int, seed: int, out_dir: str | None,
             until: str | None = None) -> None:
    from services.core.runtime import use

    started = clock.monotonic()
    folder = out_folder(out_dir or "rectify-demo").resolve()
    url = c.settings.db or _fresh_db(folder)
    # notices leave through the outbox into a folder (the file-drop channel)
    ctx = AppContext(c.runtime.but(db=url, file_drop=folder / "outbox", reports_dir=folder / "reports"))
    with use(ctx.runtime):
        _replay(ctx, folder, url, started=started, clues=clues, seed=seed, until=until)


def _replay(ctx: AppContext, folder: Path, url: str, *, started: float, clues: int, seed: int,
            until: str | None) -> None:
    from services.clues import lifecycle as clue_svc
    from services.campaigns import units as unit_svc
    from services.campaigns.load import load_plan
    from services.campaigns.plans import read_plan
    from services.reports.status import campaign_status

    ctx.migrate()
    engine, cal = ctx.engine, ctx.calendar
    plan = read_plan(PLAN)
    code = plan.campaign.code
    start = plan.campaign.period.start
    end = _last_day(until, start, plan.campaign.period.end)
    if clues < 1:
        raise InvalidInput(f"--clues: {clues}: at least one clue")
    out.say(f"Rectify demo: {plan.campaign.title}（{plan.campaign.doc_number}）")
    out.say(f"  {len(plan.participants())} units, {len(plan.stages)} stages, {clues} clues, "
            f"{start} → {end}; database {masked_url(url)}")
    load_plan(engine, plan, source=PLAN, now=_at(start, 9))
    rng = random.Random(seed)
    script, paces = script_campaign(plan, n=clues, rng=rng)

    out.say("  starting Prefect (local API) …")
    drop = ctx.settings.file_drop
    ctx.prefect()
    from .ladder import LadderScript
    from app.flow_runner import run_enforcement, run_sweep

    run_sweep(code, _at(start - timedelta(days=1), 0))  # warm up: the first run starts the API
    ladder = LadderScript(engine, code, cal, ctx.channels(),
                          laggards={u for u, p in paces.items() if p.lag_days > 0})
    from .lookback import RoundScript

    look_back = RoundScript(engine, code, cal, random.Random(seed + 1))
    from .reports import ReportScript

    reporting = ReportScript(engine, code, plan, paces, random.Random(seed + 2))
    from .workorders import WorkOrderScript

    work = WorkOrderScript(engine, code, cal, script, paces, [u.code for u in plan.participants()],
                           random.Random(seed + 3))
    cases_done = Counter()
    delivered = 0
    arrivals = defaultdict(list)
    steps = defaultdict(list)
    for item in script:
        arrivals[item.arrives].append(item)
        for s in item.steps:
            steps[s.day].append((item, s))
    stages = plan.stages
    stage_idx = {u.code: 0 for u in plan.participants()}
    refused, fired, sweeps, new_lapses = Counter(), Counter(), 0, Counter()
    days = (end - start).days + 1
    progress = _Progress(days)
    try:
        for offset in range(days):
            day = start + timedelta(days=offset)
            nightly = run_enforcement(code, datetime.combine(day, time(0, 5), TZ))
            sweeps += 1
            new_lapses.update(nightly.sweep.new_lapses)
            cases_done.update(nightly.escalation.actions)
            delivered += nightly.delivered
            ladder.day(day)
            look_back.day(day)
            reporting.day(day)
            todays = arrivals.get(day, [])
            if todays:
                numbers = clue_svc.add_clues(engine, code, [clue_svc.NewClue(
                    channel=i.channel, aspect=i.aspect, summary=i.summary, unit=i.unit,
                    reporter_name=i.reporter, reporter_phone=i.phone, received_at=_at(day, 9), source_ref=i.ref)
                    for i in todays], actor=SUPERVISOR, now=_at(day, 9), calendar=cal)
                for item, number in zip(todays, numbers):
                    item.number = number
            work.day(day)
            for item, step in steps.get(day, []):
                if item.number is None:
                    continue
                who = SUPERVISOR if step.trigger in ("approve", "reject", "transfer") else f"off.{item.unit}"
                try:
                    clue_svc.transition(engine, code, item.number, step.trigger, actor=who,
                                        now=_at(day, 15), data=clue_svc.ClueInput(**step.params))
                    fired[step.trigger] += 1
                except RectifyError:
                    refused[step.trigger] += 1
            for unit, idx in stage_idx.items():
                if idx >= len(stages):
                    continue
                s = stages[idx]
                due = s.summary_due if s.ongoing else s.end
                if due is None or day < due + timedelta(days=paces[unit].lag_days):
                    continue
                for d in s.deliverables:
                    unit_svc.record_deliverable(engine, code, unit, d.key, actor=f"off.{unit}",
                                                attachment=f"{unit}/{s.key}/{d.key}.pdf",
                                                now=_at(day, 11))
                unit_svc.advance(engine, code, unit, actor=f"off.{unit}", now=_at(day, 11))
                stage_idx[unit] = idx + 1
            progress.update(day, f"clues {sum(1 for i in script if i.number):>3}  "
                                 f"lapses {sum(new_lapses.values()):>3}")
    finally:
        progress.close()

    status = campaign_status(engine, code, as_of=_at(end, 23))
    elapsed = clock.monotonic() - started
    out.say("")
    out.table(["单位 unit", "阶段 stage", "open", "closed", "overdue", "lapses", "整改率"],
              [(u.name, u.stage, u.open, u.closed, u.overdue, u.lapses,
                "—" if u.figures.rate is None else f"{u.figures.rate * 100:.1f}%")
               for u in sorted(status.units, key=lambda u: (u.figures.rate or 0), reverse=True)],
              title=f"{plan.campaign.title} — as of {end}")
    out.say(status.figures.sentence())
    from flows.deadline_sweep import KIND_LABELS

    out.say("lapses recorded (each once): " + ", ".join(
        f"{KIND_LABELS.get(k, k)} {v}" for k, v in new_lapses.items() if v))
    out.say("transitions: " + ", ".join(f"{k} {v}" for k, v in sorted(fired.items()))
            + (f"; refused by the rules: {sum(refused.values())}" if refused else ""))
    out.say("escalations: " + ", ".join(f"{k} {v}" for k, v in sorted(cases_done.items()))
            + "; by supervisors and units: " + ", ".join(f"{k} {v}" for k, v in sorted(ladder.done.items())))
    _ladder_table(engine, code)
    _rounds_summary(engine, code, look_back, _at(end, 23))
    out.say(reporting.summary())
    for line in work.summary():
        out.say(line)
    _ranking_lines(engine, code, start, end)
    from services.reports.generate import DEFAULT_FORMATS

    from app.flow_runner import run_report

    final = run_report(code, "final", unit=None, period=None, actor=SUPERVISOR, as_of=_at(end, 18),
                       force=True, formats=DEFAULT_FORMATS)  # the draft made on 9-10 is regenerated at the end
    from services.notices.issue import notices_between

    from services.notices.export import export_notices

    notices = notices_between(engine, code)
    export_notices(notices, out_folder(folder / "notices"))
    out.say(f"{len(notices)} notices ({', '.join(f'{k} {v}' for k, v in sorted(Counter(n.kind for n in notices).items()))}) "
            f"written to {folder / 'notices'}; {delivered} messages delivered to {drop}")
    out.say(f"{sweeps} nightly enforcement flow runs through Prefect; {elapsed:.0f} s in all")
    out.say(f"final summary report (总结报告): {final.files['html']}")
    out.say(f"  also as Word {Path(final.files['docx']).name}, Markdown {Path(final.files['md']).name}, "
            f"and the tables with the whole ledger (台账) {Path(final.files['xlsx']).name}")
    shown = masked_url(url)  # a PostgreSQL URL's password is the operator's to type
    out.say(f"explore: rectify --db {shown} status   |   rectify --db {shown} clue list --overdue "
            f"--now {end}")
    _browser_links(ctx, engine, code, shown)


def _browser_links(ctx: AppContext, engine, code: str, shown: str) -> None:
    """How to open the demo in the browser: one-time sign-in links (issue 14) for its
    supervisor and a county liaison, valid by the wall clock like any invitation."""
    from datetime import timezone

    from services.accounts.accounts import Limits
    from services.accounts.links import invite

    from app.cli.web import OPERATOR

    now = datetime.now(timezone.utc)
    valid_for = Limits.of(ctx.settings).link_valid
    links = [(role, invite(engine, code, who, by=OPERATOR, now=now, valid_for=valid_for, detail={"via": "demo"}))
             for role, who in (("supervisor", SUPERVISOR), ("county liaison", LIAISON))]
    out.say(f"in the browser: RECTIFY_DB={shown} RECTIFY_WEB_DEV=1 rectify web, then open a one-time "
            f"sign-in link (set a password; valid until {out.local(links[0][1].expires_at)}):")
    for role, link in links:
        out.say(f"  {role} {link.account.label}: {link.url(ctx.settings.web_url)}")

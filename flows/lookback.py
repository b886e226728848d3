"""open-round / close-round: a look-back round's (回头看) or field inspection's
(实地督察) two batch moments, as Prefect flows.

open-round:  draw (select + assign + create checks, one transaction) → notify
close-round: begin-close (missed) → reopen → escalate (faked) → finish (tally)

A handful of tasks whatever the number of items (docs/architecture.md
decision 2). Each step is a no-op when its work is done, so re-running
either flow, or resuming one that failed half-way, changes nothing twice.
Each run leaves a table artifact an operator reads per unit: selected,
checked, relapsed, faked, relapse rate.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, task
from prefect.artifacts import create_table_artifact

from services.ladder.automatic import LadderLine
from services.lookback import closing as round_close, opening as round_open

from . import deps
from .deadline_sweep import ARTIFACT_ROWS, _as_of, current_flow_run_id, run_name
from .ladder import channels

__all__ = ["open_round", "close_round", "OpenRoundResult", "CloseRoundResult", "open_now", "close_now"]


def _key(kind: str, campaign: str, code: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", f"{kind}-{campaign}-{code}".lower())


@dataclass
class OpenRoundResult:
    code: str
    drawn: round_open.DrawResult
    notified: round_open.NotifyResult
    flow_run_id: str | None = None


@dataclass
class CloseRoundResult:
    code: str
    missed: int
    reopened: list[round_close.ReopenLine] = field(default_factory=list)
    cases: list[LadderLine] = field(default_factory=list)
    tally: dict = field(default_factory=dict)
    flow_run_id: str | None = None


@task(name="round-draw", task_run_name="draw-{code}", retries=2, retry_delay_seconds=2,
      retry_condition_fn=deps.transient)
def draw_task(campaign: str, code: str, actor: str, as_of: datetime) -> round_open.DrawResult:
    return round_open.draw(deps.engine(), campaign, code, actor=actor, now=as_of)


@task(name="round-notify", task_run_name="notify-{code}", retries=2, retry_delay_seconds=2,
      retry_condition_fn=deps.transient)
def notify_task(campaign: str, code: str, actor: str, as_of: datetime) -> round_open.NotifyResult:
    return round_open.notify(deps.engine(), campaign, code, actor=actor, now=as_of,
                             calendar=deps.calendar(), channels=channels())


@flow(name="open-round", flow_run_name=run_name("round-open", "code"), validate_parameters=False)
def open_round(campaign: str, code: str, actor: str, as_of: datetime | None = None) -> OpenRoundResult:
    deps.ready(campaign)
    return open_now(campaign, code, actor, _as_of(as_of))


def open_now(campaign: str, code: str, actor: str, as_of: datetime) -> OpenRoundResult:
    drawn = draw_task(campaign, code, actor, as_of)
    notified = notify_task(campaign, code, actor, as_of)
    rows = sorted(drawn.per_unit, key=lambda r: -r["selected"])[:ARTIFACT_ROWS]
    create_table_artifact(
        key=_key("round-open", campaign, code),
        table=[{"unit": r["unit"], "candidates": r["candidates"], "selected": r["selected"],
                "team": r["team"] or "—"} for r in rows]
        or [{"unit": "—", "candidates": 0, "selected": 0, "team": "—"}],
        description=(f"Round **{code}** of {campaign}: {drawn.selected} of {drawn.candidates} closed items "
                     f"drawn in {drawn.units} units (seed {drawn.seed}, digest {drawn.digest and drawn.digest[:12]})"
                     f"; notice {notified.notice or '(issued before)'}, {notified.messages} messages queued"
                     + ("; already drawn, nothing changed" if drawn.already else "")))
    return OpenRoundResult(code, drawn, notified, current_flow_run_id())


@task(name="round-close-step", task_run_name="{step}-{code}", retries=2, retry_delay_seconds=2,
      retry_condition_fn=deps.transient)
def close_step(step: str, campaign: str, code: str, actor: str, as_of: datetime):
    engine = deps.engine()
    if step == "begin-close":
        return round_close.begin_close(engine, campaign, code, actor=actor, now=as_of)
    if step == "reopen":
        return round_close.reopen_found(engine, campaign, code, now=as_of, calendar=deps.calendar())
    if step == "escalate":
        return round_close.escalate_faked(engine, campaign, code, now=as_of, calendar=deps.calendar())
    return round_close.finish_close(engine, campaign, code, actor=actor, now=as_of)


@flow(name="close-round", flow_run_name=run_name("round-close", "code"), validate_parameters=False)
def close_round(campaign: str, code: str, actor: str, as_of: datetime | None = None) -> CloseRoundResult:
    deps.ready(campaign)
    return close_now(campaign, code, actor, _as_of(as_of))


def close_now(campaign: str, code: str, actor: str, as_of: datetime) -> CloseRoundResult:
    result = CloseRoundResult(code, close_step("begin-close", campaign, code, actor, as_of),
                              flow_run_id=current_flow_run_id())
    result.reopened = close_step("reopen", campaign, code, actor, as_of)
    result.cases = close_step("escalate", campaign, code, actor, as_of)
    result.tally = close_step("finish", campaign, code, actor, as_of)
    units = sorted(result.tally.get("units", []), key=lambda u: (-(u["relapsed"] + u["faked"]), u["key"]))
    t = result.tally.get("totals", {})
    create_table_artifact(
        key=_key("round-close", campaign, code),
        table=[{"unit": u["key"], "单位": u["name"], "selected": u["selected"], "checked": u["checked"],
                "relapsed": u["relapsed"], "faked": u["faked"], "missed": u["missed"],
                "relapse_rate": "—" if u["relapse_rate"] is None else f"{u['relapse_rate']:.1%}"}
               for u in units[:ARTIFACT_ROWS]]
        or [{"unit": "—", "单位": "—", "selected": 0, "checked": 0, "relapsed": 0, "faked": 0, "missed": 0,
             "relapse_rate": "—"}],
        description=(f"Round **{code}** of {campaign} closed: {t.get('checked', 0)} of {t.get('selected', 0)} "
                     f"checked, {t.get('relapsed', 0)} relapsed, {t.get('faked', 0)} faked, "
                     f"{t.get('missed', 0)} missed; {sum(1 for r in result.reopened if r.note == 'reopened')} "
                     f"items reopened, {len(result.cases)} accountability cases proposed"))
    return result

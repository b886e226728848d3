"""escalation_pass: turn new lapses into cases, issue what the policy issues by
itself, chase unanswered measures and escalate those still unanswered.

Run after each sweep. Four tasks whatever the number of units or clues
(docs/architecture.md decision 2); every action has a natural key, so
re-running it, or two schedulers running it, acts once
(docs/architecture.md decision 4).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from services.campaigns.load import campaign_id as lookup_campaign
from services.ladder import automatic as steps
from services.ladder.board import case_rows, waiting

from . import deps, night
from .deadline_sweep import ARTIFACT_ROWS, _as_of, artifact_key, run_name
from .steps import Steps

__all__ = ["escalation_pass", "escalate_now", "LadderResult", "artifact_key_of", "publish_waiting"]


def artifact_key_of(campaign: str) -> str:
    return artifact_key(campaign).replace("sweep-", "escalation-", 1)


@dataclass
class LadderResult:
    campaign: str
    as_of: datetime
    actions: dict[str, int] = field(default_factory=dict)
    lines: list[steps.LadderLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.actions.values())


def channels() -> tuple[str, ...]:
    """Which delivery channels this deployment has (the notices are queued for those)."""
    return tuple(deps.channels())


@task(name="escalation-step", task_run_name="{step}", retries=2, retry_delay_seconds=2,
      retry_condition_fn=deps.transient)
def run_step(step: str, campaign: str, as_of: datetime) -> list[steps.LadderLine]:
    kw = dict(now=as_of, calendar=deps.calendar())
    if step == "propose":
        return steps.propose_for_lapses(deps.engine(), campaign, **kw)
    fn = {"issue": steps.issue_automatic, "chase": steps.chase_overdue,
          "escalate": steps.escalate_unanswered}[step]
    return fn(deps.engine(), campaign, channels=channels(), **kw)



@flow(name="escalation-pass", flow_run_name=run_name("escalation"), validate_parameters=False)
def escalation_pass(campaign: str, as_of: datetime | None = None) -> LadderResult:
    deps.ready(campaign)
    return escalate_now(campaign, _as_of(as_of))


def escalate_now(campaign: str, as_of: datetime) -> LadderResult:
    """The pass's tasks and artifact, inside whichever flow runs them. A step that
    fails does not stop the others (flows/steps.py): a case the escalation did not
    reach has been chased already, so the chase never takes its place."""
    result = LadderResult(campaign, as_of)
    steps = Steps(f"escalation pass of {campaign}")
    # escalate before chasing, so a case is never chased and escalated in one pass
    for step in ("propose", "issue", "escalate", "chase"):
        lines = steps.run(step, run_step, step, campaign, as_of) or []
        result.lines += lines
        for ln in lines:
            result.actions[ln.action] = result.actions.get(ln.action, 0) + 1
    # one row per case as it stands after the pass (services/ladder/board.py): a case
    # proposed and issued tonight once, an escalation by the case it opened
    acted: dict[int, list[str]] = {}
    for ln in result.lines:
        acted.setdefault(ln.case_id, []).append(ln.action)
    rows = case_rows(deps.engine(), lookup_campaign(deps.engine(), campaign), acted) if acted else []
    done = ", ".join(f"{a} {n}" for a, n in Counter(r.action for r in rows).items()) or "nothing to do"
    get_run_logger().info("escalation pass of %s as of %s: %d cases acted on: %s", campaign, as_of.isoformat(),
                          len(rows), done)
    create_table_artifact(
        key=night.key(artifact_key_of(campaign)),
        table=[r.as_row() for r in rows[:ARTIFACT_ROWS]]
        or [{"案件": "—", "单位": "—", "问题": "—", "措施": "—", "文号": "—", "回复时限": "—", "状态": "—",
             "本次": "无新动作", "原案件": "—"}],
        description=(night.note() + f"Escalation pass of **{campaign}** as of {as_of.isoformat()}: {len(rows)} cases, "
                     f"one row each: {done}"
                     + (f" (first {ARTIFACT_ROWS} shown)" if len(rows) > ARTIFACT_ROWS else "")),
    )
    steps.finish(result)
    return result


def publish_waiting(campaign: str, as_of: datetime) -> int:
    """The table of what waits for a person (proposals to confirm, 销号 to review), the
    longest waiting first, with each one's early-warning colour; returns how many."""
    rows = waiting(deps.engine(), lookup_campaign(deps.engine(), campaign), now=as_of, calendar=deps.calendar())
    by_kind = Counter(r.what for r in rows)
    red = sum(r.warning.startswith("红色") for r in rows)
    summary = (", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())) or "nothing waits") \
        + (f"; {red} past their deadline" if red else "")
    get_run_logger().info("waiting for a person in %s as of %s: %s", campaign, as_of.isoformat(), summary)
    create_table_artifact(
        key=night.key(artifact_key(campaign).replace("sweep-", "waiting-", 1)),
        table=[r.as_row() for r in rows[:ARTIFACT_ROWS]]
        or [{"待办": "—", "编号": "—", "单位": "—", "事项": "无待办", "等待天数": 0, "自": "—", "时限": "—",
             "预警": "—"}],
        description=(night.note() + f"Waiting for a person in **{campaign}** as of {as_of.isoformat()}: {summary}"
                     + (f" (the {ARTIFACT_ROWS} longest waiting of {len(rows)} shown)"
                        if len(rows) > ARTIFACT_ROWS else "")))
    return len(rows)

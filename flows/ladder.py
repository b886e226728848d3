"""escalation_pass: turn new lapses into cases, issue what the policy issues by
itself, chase unanswered measures and escalate those still unanswered.

Run after each sweep. Four tasks whatever the number of units or clues
(docs/architecture.md decision 2); every action has a natural key, so
re-running it, or two schedulers running it, acts once
(docs/architecture.md decision 4).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, task
from prefect.artifacts import create_table_artifact

from services.ladder import automatic as steps

from . import deps
from .deadline_sweep import ARTIFACT_ROWS, _as_of, artifact_key, run_name
from .steps import Steps

__all__ = ["escalation_pass", "escalate_now", "LadderResult"]

ACTION_LABELS = {"proposed": "拟督办(待确认)", "issued": "已下发通知", "chased": "已催办",
                 "escalated": "升级督办"}


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
    create_table_artifact(
        key=artifact_key(campaign).replace("sweep-", "escalation-", 1),
        table=[{"case": ln.case_id, "unit": ln.unit, "单位": ln.unit_name, "措施": ln.measure,
                "action": ln.action, "动作": ACTION_LABELS[ln.action]} for ln in result.lines[:ARTIFACT_ROWS]]
        or [{"case": "—", "unit": "—", "单位": "—", "措施": "—", "action": "—", "动作": "无新动作"}],
        description=(f"Escalation pass of **{campaign}** as of {as_of.isoformat()}: "
                     + (", ".join(f"{ACTION_LABELS[k]} {v}" for k, v in result.actions.items())
                        or "nothing to do")
                     + (f" (first {ARTIFACT_ROWS} of {len(result.lines)} shown)"
                        if len(result.lines) > ARTIFACT_ROWS else "")),
    )
    steps.finish(result)
    return result

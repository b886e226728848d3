"""The nightly witness of the audit head: a step of the daily-enforcement run.

After the night's records are written (sweep, escalation round, reports) and
before delivery, the campaign's head is queued for the witness that
RECTIFY_WITNESS_CHANNEL names (services/notices/audit_head.py); the delivery
step of the same run sends it. Without that setting the step says so and does
nothing. A chain whose head no longer holds sends nothing: the step logs the
refusal as an error and publishes it as an artifact, and the run goes on to
deliver what it has (the witness already holds the last good head).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from services.notices.audit_head import queue_head
from statemachine.errors import AuditBroken

from . import deps

__all__ = ["WitnessResult", "witness_head", "witness_now", "artifact_key"]


@dataclass(frozen=True)
class WitnessResult:
    campaign: str
    check_code: str | None = None   # the head queued (or queued before)
    queued: bool = False
    problem: str | None = None      # not configured, or the chain broken


def artifact_key(campaign: str) -> str:
    return "audit-witness-" + "".join(c if c.isalnum() else "-" for c in campaign.lower())


# never cached: a cached result would report a head the outbox never got
@task(name="witness-head", task_run_name="witness-{campaign}", cache_policy=NO_CACHE)
def witness_head(campaign: str, as_of: datetime) -> WitnessResult:
    channel, recipient = deps.witness()
    if not channel:
        return WitnessResult(campaign, problem="no witness configured (RECTIFY_WITNESS_CHANNEL)")
    try:
        w = queue_head(deps.engine(), campaign, channel=channel, recipient=recipient, now=as_of)
    except AuditBroken as e:
        get_run_logger().error("%s: nothing sent to the witness", e)
        create_markdown_artifact(key=artifact_key(campaign), description=str(e),
                                 markdown=f"**审计链校验失败 audit chain broken**: {e}\n\n"
                                          "Nothing was sent to the witness; run `rectify audit verify "
                                          "--witness` against what it holds.")
        return WitnessResult(campaign, problem=str(e))
    return WitnessResult(campaign, w.head.check_code, w.queued)


def witness_now(campaign: str, as_of: datetime) -> WitnessResult:
    return witness_head(campaign, as_of)

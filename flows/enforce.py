"""daily_enforcement: the nightly job of one campaign in one flow run.

sweep (record missed deadlines) → escalation round (cases, notices, chases,
next levels) → reports (the roll-ups whose duty fell due) → delivery (drain
the outbox). One flow run with a dozen tasks
rather than three subflows: a flow run costs more than its tasks here, and
this runs every night for every campaign (ARCH decision 2).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prefect import flow

from .deadline_sweep import SweepResult, _as_of, run_name, sweep_now
from .escalation_round import RoundResult, escalate_now
from .reports import ReportsResult, reports_now

__all__ = ["daily_enforcement", "EnforcementResult"]


@dataclass
class EnforcementResult:
    sweep: SweepResult
    round: RoundResult
    delivered: int
    failed: int
    reports: ReportsResult | None = None



@flow(name="daily-enforcement", flow_run_name=run_name("enforce"), validate_parameters=False)
def daily_enforcement(campaign: str, as_of: datetime | None = None,
                      deliver: bool = True) -> EnforcementResult:
    as_of = _as_of(as_of)
    swept = sweep_now(campaign, as_of)
    escalated = escalate_now(campaign, as_of)
    made = reports_now(campaign, as_of)
    sent = failed = 0
    if deliver:
        from .deliver import deliver_now

        d = deliver_now(as_of)
        sent, failed = d.sent, d.failed
    return EnforcementResult(swept, escalated, sent, failed, made)

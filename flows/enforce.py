"""daily_enforcement: the nightly job of one campaign in one flow run.

sweep (record missed deadlines) → escalation pass (cases, notices, chases,
next levels) → reports (the roll-ups whose duty fell due) → witness (the
audit head queued for the witness outside the database, flows/witness.py) →
delivery (drain the outbox). One flow run with a dozen tasks
rather than three subflows: a flow run costs more than its tasks here, and
this runs every night for every campaign (docs/architecture.md decision 2).

The steps are isolated (flows/steps.py): one that fails is logged and the
others still run, so a report that cannot be written never keeps the night's
notices from going out; the run then ends Failed, naming what failed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from statemachine.time.calendar import TZ, coverage_warning

from . import deps, night
from .deadline_sweep import SweepResult, _as_of, artifact_key, run_name, sweep_now
from .ladder import LadderResult, escalate_now, publish_waiting
from .reports import ReportsResult, reports_now
from .steps import Steps
from .witness import WitnessResult, witness_now

__all__ = ["daily_enforcement", "EnforcementResult", "warn_if_calendar_ends"]


@dataclass
class EnforcementResult:
    sweep: SweepResult | None        # None: the step failed (see steps_failed)
    escalation: LadderResult | None
    delivered: int
    failed: int                      # messages whose delivery failed this run (retried later)
    reports: ReportsResult | None = None
    calendar_warning: str | None = None
    steps_failed: dict[str, str] = field(default_factory=dict)  # step → its cause, one line
    witness: WitnessResult | None = None
    dead: int = 0                    # messages that went dead this run
    undelivered: str = ""            # what of the delivery needs a person, one line ('' when nothing)


@flow(name="daily-enforcement", flow_run_name=run_name("enforce"), validate_parameters=False)
def daily_enforcement(campaign: str, as_of: datetime | None = None,
                      deliver: bool = True) -> EnforcementResult:
    deps.ready(campaign)
    as_of = _as_of(as_of)
    steps = Steps(f"nightly run of {campaign} as of {as_of.astimezone(TZ):%Y-%m-%d %H:%M}")
    swept = steps.run("sweep", sweep_now, campaign, as_of)
    # a sweep the calendar refused has said so in one line: no warning about the same calendar
    warning = steps.run("calendar check", warn_if_calendar_ends, campaign, as_of) if swept else None
    escalated = steps.run("escalation", escalate_now, campaign, as_of)
    made = steps.run("reports", reports_now, campaign, as_of)
    if made is not None and made.failed:  # the reports that could be made were made
        steps.ran.remove("reports")
        (which, cause), more = next(iter(made.failed.items())), len(made.failed) - 1
        steps.failed["reports"] = f"{which}: {cause}" + (f" (and {more} more)" if more else "")
    # a table, not a step of the night's work: listed among what failed, never among what ran
    steps.run("waiting list", publish_waiting, campaign, as_of)
    # after the night's records, before their delivery
    witnessed = steps.run("witness", witness_now, campaign, as_of)
    from .deliver import deliver_now, trouble

    sent = failed = dead = 0
    d = steps.run("delivery", deliver_now, as_of, 100, campaign) if deliver else None
    if d is not None:
        sent, failed, dead = d.sent, d.failed, d.dead
    detail = (f" (messages sent {sent}, failed {failed}" + (f", dead {dead}" if dead else "") + ")"
              if d is not None else "")
    # last, after every step did its work: a message gone dead, a failure, a notice no
    # channel carries fail the run (issue 15: green only when everything went out)
    problem = steps.run("delivery check", trouble, campaign, as_of, d)
    if problem:
        steps.flag("delivery", problem)
    steps.ran[:] = [s for s in steps.ran if s not in ("waiting list", "delivery check")]
    result = EnforcementResult(swept, escalated, sent, failed, made, warning, dict(steps.failed),
                               witnessed, dead, problem or "")
    get_run_logger().info(
        "nightly run of %s: %s new lapses; case actions %s; reports made %s; messages sent %d, "
        "failed %d, dead %d%s", campaign, swept.total if swept else "—",
        (", ".join(f"{k} {v}" for k, v in escalated.actions.items()) or "none") if escalated else "—",
        made.new if made else "—", sent, failed, dead, f"; needs attention: {problem}" if problem else "")
    steps.finish(result, ran_detail=detail)
    return result


def warn_if_calendar_ends(campaign: str, as_of: datetime) -> str | None:
    """From 30 days before the working-day calendar runs out, every nightly run
    says so where operators look: its log (a warning) and an artifact. After
    the sweep: once as_of's year is not covered at all the sweep itself
    refuses, and that one-line refusal is the message, not a warning before it."""
    warning = coverage_warning(as_of, deps.calendar().coverage())
    if warning:
        get_run_logger().warning(warning)
        create_markdown_artifact(
            key=night.key(artifact_key(campaign).replace("sweep-", "calendar-", 1)),
            markdown=f"**工作日历 working-day calendar**: {warning}.\n\n"
                     "The override file's format, with a whole year's 放假 and 调休 days: "
                     "deploy/calendar-overrides.example.yaml.",
            description=night.note() + warning)
    return warning

"""generate-report / scheduled-reports: generated reports as Prefect flows.

generate-report    one report of one unit for one period, on demand
scheduled-reports  the supervisor's roll-ups whose duty is due by `as_of`
                   (the latest period of each weekly / monthly / stage / final
                   duty); also a step of the nightly daily-enforcement run

Each new report is published as a Markdown artifact (figures, tables and the
charts as text bars) keyed per unit, kind and period; a report already
generated for its period is returned as it was, so re-runs change nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from services.reports import generate as reports

from . import deps, night
from .deadline_sweep import _as_of, current_flow_run_id, run_name
from .steps import Steps

__all__ = ["generate_report", "scheduled_reports", "reports_now", "ReportsResult", "artifact_key"]

MAX_ARTIFACT_CHARS = 900_000  # Prefect drops events over ~1.5 MB; a province's report can be long


@dataclass
class ReportsResult:
    campaign: str
    generated: list[reports.Generated] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # which report → why, one line

    @property
    def new(self) -> int:
        return sum(g.created for g in self.generated)


def artifact_key(campaign: str, unit: str, kind: str, period: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", f"report-{campaign}-{unit}-{kind}-{period}".lower()).strip("-")


@task(name="generate-report", task_run_name="report-{kind}-{period}", retries=2, retry_delay_seconds=2,
      retry_condition_fn=deps.transient)
def report_task(campaign: str, kind: str, unit: str | None, period: str | None, as_of: datetime,
                actor: str | None, force: bool, formats: tuple[str, ...]) -> reports.Generated:
    g = reports.generate(deps.engine(), campaign, kind=kind, unit=unit, period=period, formats=formats,
                         out_dir=deps.report_copies(), actor=actor, now=as_of, force=force,
                         flow_run_id=current_flow_run_id())
    if g.created:
        text = g.markdown if len(g.markdown) <= MAX_ARTIFACT_CHARS else \
            g.markdown[:MAX_ARTIFACT_CHARS] + "\n\n…（全文见报告文件）"
        create_markdown_artifact(
            # a night's repeat that made it in a race publishes under no key, like its others
            key=night.key(artifact_key(campaign, g.unit, kind, g.period)), markdown=text,
            # the store's names, the same on every host: never the path on this worker's disk
            description=night.note() + f"{g.unit_name} {reports.KINDS[kind]} {g.period}: in the database as " + ", ".join(
                f"{k} {v}" for k, v in sorted(g.stored.items())))
    return g


# `actor` None: the nightly job, or an operator's deployment run; a name is a person's, checked
@flow(name="generate-report", flow_run_name=run_name("report", "kind"), validate_parameters=False)
def generate_report(campaign: str, kind: str, unit: str | None = None, period: str | None = None,
                    as_of: datetime | None = None, actor: str | None = None, force: bool = False,
                    formats: tuple[str, ...] = reports.DEFAULT_FORMATS) -> reports.Generated:
    deps.ready(campaign)
    return report_task(campaign, kind, unit, period, _as_of(as_of), actor, force, tuple(formats))


def reports_now(campaign: str, as_of: datetime) -> ReportsResult:
    """The due roll-ups of the lead unit, inside whichever flow runs them; one that
    fails is kept in .failed and the others are still made (flows/steps.py)."""
    result = ReportsResult(campaign)
    steps = Steps(f"reports of {campaign}")
    for kind, period in reports.due_reports(deps.engine(), campaign, now=as_of):
        name = f"{kind} report {period}"
        g = steps.run(name, report_task, campaign, kind, None, period, as_of, None, False,
                      reports.DEFAULT_FORMATS)
        if g is not None:
            result.generated.append(g)
    result.failed = dict(steps.failed)
    return result


@flow(name="scheduled-reports", flow_run_name=run_name("reports"), validate_parameters=False)
def scheduled_reports(campaign: str, as_of: datetime | None = None) -> ReportsResult:
    deps.ready(campaign)
    as_of = _as_of(as_of)
    result = reports_now(campaign, as_of)
    steps = Steps(f"scheduled reports of {campaign}", ran=[f"{g.kind} report {g.period}" for g in result.generated],
                  failed=dict(result.failed))
    steps.finish(result)
    return result

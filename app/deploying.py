"""`rectify deploy`: the Prefect deployments of the campaigns loaded in RECTIFY_DB,
registered into a process work pool (issue 17).

Per loaded campaign: its nightly enforcement on the plan's sweep cron in the
campaign's time zone, and its roll-ups at the hour their duties fall due (a
weekly or monthly duty due during the day; one due at midnight is the nightly
run's). Once: the on-demand open-round, close-round and generate-report.

Code reaches the workers as an installed package: every entrypoint is a module
path (`flows.enforce.daily_enforcement`), imported by the worker's Python, with
no pull step and no path on the deploying host. Prefect 3.8.8 imports such an
entrypoint as is (prefect/flows.py `load_flow_from_flow_run`: "module-path
entrypoints (no colon)"), so a worker runs whatever version of Rectify is
installed where it runs; each deployment carries the deploying version, which
a run checks at its start (flows/deps.py).

Workers are configured by their own RECTIFY_* environment: no setting and no
credential is a parameter of a deployment.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from statemachine.errors import InvalidInput, Misconfigured, PrefectUnavailable

__all__ = ["DeploymentRow", "Deployed", "planned_deployments", "deploy_campaigns", "report_crons", "ON_DEMAND",
           "SCHEDULER_TAG", "rectify_version"]

# the tag of every deployment `rectify deploy` makes: its runs check that the workers still
# own the campaign's schedule (services/campaigns/scheduling.py)
SCHEDULER_TAG = "scheduler:workers"
# name → (entrypoint, description); campaign-free, started by hand with their parameters
ON_DEMAND = {
    "open-round": ("flows.lookback.open_round",
                   "Open a planned round: draw the items, assign teams, notify units and teams"),
    "close-round": ("flows.lookback.close_round",
                    "Close a round: missed checks, reopen relapsed and faked items, 追责问责, tally"),
    "generate-report": ("flows.reports.generate_report",
                        "One report (weekly | monthly | stage | final) of any unit for any period"),
}
_CRON_DOW = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_AFTER_DUE = timedelta(minutes=5)


@dataclass(frozen=True)
class DeploymentRow:
    """One deployment as registered (or, with --check, as it would be)."""
    name: str                       # the full name: "daily-enforcement/enforce-xz-2023"
    entrypoint: str                 # a module path: "flows.enforce.daily_enforcement"
    campaign: str | None            # None: an on-demand deployment of any campaign
    schedules: tuple[str, ...] = ()  # "5 0 * * * Asia/Shanghai"
    description: str = ""
    parameters: dict = field(default_factory=dict, compare=False)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deployed:
    """What `rectify deploy` registered, and the campaigns' deployments it removed as no
    longer planned (a duty taken out of the plan: its roll-up deployment goes too)."""
    rows: list[DeploymentRow]
    removed: list[str] = field(default_factory=list)


def rectify_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rectify")
    except PackageNotFoundError:  # run from a checkout that was never installed
        raise Misconfigured("Rectify is not installed in this Python: 'pip install .' in the "
                            "checkout (the workers run the installed package)") from None


def report_crons(reporting) -> list[str]:
    """The crons of a plan's weekly and monthly duties that fall due during the day: five
    minutes after the due hour, when the report is owed. One due at midnight (the
    default 23:59:59) is made by the nightly run at its own hour, not twice."""
    out: list[str] = []
    for duty in reporting:
        s = duty.schedule
        if s.kind not in ("weekly", "monthly") or (s.kind == "monthly" and not isinstance(s.day, int)):
            continue
        due = datetime.combine(date(2000, 1, 1), s.at)
        fire = due + _AFTER_DUE + (timedelta(minutes=1) if due.second or due.microsecond else timedelta())
        if fire.date() != due.date():
            continue
        day = f"* * {_CRON_DOW[s.weekday]}" if s.kind == "weekly" else f"{s.day} * *"
        cron = f"{fire.minute} {fire.hour} {day}"
        if cron not in out:
            out.append(cron)
    return out


def planned_deployments(engine: Engine, *, campaigns: list[str] | None = None) -> list[DeploymentRow]:
    """What `rectify deploy` registers for the campaigns loaded in this database (all, or
    those named); refused in one line when none is loaded or a named one is not."""
    from app.flow_runner import run_tags
    from services.campaigns.load import campaign_codes, plan_of
    from services.core.directory import campaign_row

    rows: list[DeploymentRow] = []
    with engine.connect() as conn:
        loaded = campaign_codes(conn)
        if not loaded:
            raise InvalidInput("no campaign loaded: nothing to deploy (run 'rectify load PLAN')")
        for code in campaigns or loaded:
            camp = campaign_row(conn, code)  # an unknown one is refused naming those loaded
            tags = (*run_tags(code), SCHEDULER_TAG)
            rows.append(DeploymentRow(
                f"daily-enforcement/enforce-{code}", "flows.enforce.daily_enforcement", code,
                (f"{camp.sweep_cron} {camp.timezone}",),
                f"Nightly enforcement of {camp.title} ({camp.doc_number}): deadline sweep, escalation "
                f"pass, reports due, delivery of notices; at '{camp.sweep_cron}' {camp.timezone}",
                {"campaign": code}, tags))
            crons = report_crons(plan_of(conn, camp.id).reporting)
            if crons:
                rows.append(DeploymentRow(
                    f"scheduled-reports/reports-{code}", "flows.reports.scheduled_reports", code,
                    tuple(f"{c} {camp.timezone}" for c in crons),
                    f"The roll-ups of {camp.title} as their duties fall due during the day "
                    f"(the nightly run makes the others)", {"campaign": code}, tags))
    for name, (entrypoint, description) in ON_DEMAND.items():  # each its flow's one deployment
        rows.append(DeploymentRow(f"{name}/{name}", entrypoint, None, (), description, {},
                                  ("rectify", SCHEDULER_TAG)))
    return rows


def _api_url() -> str:
    """PREFECT_API_URL as Prefect sees it: the environment, a profile, or a test harness."""
    from prefect.settings import PREFECT_API_URL

    url = (PREFECT_API_URL.value() or "").strip()
    if not url:
        raise PrefectUnavailable("rectify deploy needs the Prefect server the workers poll: set "
                                 "PREFECT_API_URL (e.g. http://prefect.example.org:4200/api)")
    return url


def check_pool(pool: str) -> str:
    """The API's URL once it answers and `pool` is a process pool there; else one line."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    url = _api_url()
    with get_client(sync_client=True) as client:
        err = client.api_healthcheck()
        if err is not None:
            raise PrefectUnavailable(f"cannot reach the Prefect API at PREFECT_API_URL={url}: "
                                     f"{str(err).splitlines()[0] if str(err) else type(err).__name__}")
        try:
            wp = client.read_work_pool(pool)
        except ObjectNotFound:
            raise Misconfigured(f"work pool '{pool}' does not exist on the Prefect server at {url}: "
                                f"create it with 'prefect work-pool create {pool} --type process'") from None
    if wp.type != "process":
        raise Misconfigured(f"work pool '{pool}' is a '{wp.type}' pool: rectify deploy registers for a "
                            f"'process' pool whose workers have Rectify installed")
    return url


def _clear_host_path(deployment_id) -> None:
    """Prefect's upsert keeps a path and pull steps it is not sent: a deployment of the same
    name made earlier by `rectify serve` keeps the serving host's path ('.'), which a worker
    would run in. Cleared, so every worker imports its installed package and nothing else."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentUpdate

    with get_client(sync_client=True) as client:
        d = client.read_deployment(deployment_id)
        if d.path is not None or d.pull_steps:
            client.update_deployment(deployment_id, DeploymentUpdate(path=None, pull_steps=None))


def _remove_unplanned(rows: list[DeploymentRow], codes: list[str]) -> list[str]:
    """Delete the deployments an earlier `rectify deploy` made for these campaigns that are
    no longer planned: their schedules would go on firing. Only those tagged as ours and
    the campaign's, so another database's campaigns on the same server are never touched."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags

    planned = {r.name.split("/", 1)[1] for r in rows}
    removed: list[str] = []
    with get_client(sync_client=True) as client:
        for code in codes:
            tags = DeploymentFilterTags(all_=[f"campaign:{code}", SCHEDULER_TAG])
            for d in client.read_deployments(deployment_filter=DeploymentFilter(tags=tags)):
                if d.name not in planned:
                    client.delete_deployment(d.id)
                    removed.append(d.name)
    return sorted(removed)


def deploy_campaigns(*, engine: Engine, pool: str, campaigns: list[str] | None = None,
                     check: bool = False, take_over: bool = False) -> Deployed:
    """Register the deployments of the loaded campaigns into `pool` (updating those of
    the same names) and make the workers their scheduler; or, with `check`, only say
    which: nothing reaches Prefect or the database then. Refused in one line, changing
    nothing, when another scheduler owns a campaign (unless `take_over`), the API does
    not answer or the pool is not a process pool."""
    from datetime import UTC, datetime

    from services.campaigns.scheduling import check_scheduling, claim_scheduling

    rows = planned_deployments(engine, campaigns=campaigns)
    codes = sorted({r.campaign for r in rows if r.campaign})
    with engine.connect() as conn:  # before anything is registered
        check_scheduling(conn, codes, method="workers", take_over=take_over)
    if check:
        return Deployed(rows)
    version = rectify_version()
    api = check_pool(pool)
    from prefect.deployments.runner import EntrypointType, RunnerDeployment
    from prefect.schedules import Cron
    from prefect.utilities.importtools import import_object

    for row in rows:
        flow = import_object(row.entrypoint)
        schedules = [Cron(s.rsplit(" ", 1)[0], timezone=s.rsplit(" ", 1)[1]) for s in row.schedules]
        d = RunnerDeployment.from_flow(flow, name=row.name.split("/", 1)[1], parameters=row.parameters,
                                       schedules=schedules or None, tags=list(row.tags),
                                       description=row.description, version=version,
                                       work_pool_name=pool, entrypoint_type=EntrypointType.MODULE_PATH)
        _clear_host_path(d.apply(work_pool_name=pool))
    # after the registration: a deploy that failed half-way must not have taken a campaign
    # from a scheduler that still does its work
    claim_scheduling(engine, codes, method="workers", detail=f"pool '{pool}' at {api}", take_over=take_over,
                     now=datetime.now(UTC))
    return Deployed(rows, _remove_unplanned(rows, codes))

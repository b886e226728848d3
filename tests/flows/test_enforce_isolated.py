"""The nightly run's steps do not stop each other (flows/steps.py), under a real Prefect API:
a report step that cannot write its files never keeps the night's notices from going
out, and the run still ends Failed, naming the step and its cause in one line."""
from __future__ import annotations

import pytest
import yaml
from sqlalchemy import func, select

from models.tables import EscalationCase, GeneratedReport, Lapse, OutboxMessage
from services.campaigns.load import load_plan
from services.campaigns.plans import read_plan
from statemachine.errors import RunFailed

from ..conftest import SMALL_PLAN, at, installed
from .test_clock_boundary import _latest_run, _logs

pytestmark = pytest.mark.prefect

NIGHT = at("2023-04-08 00:05")  # the deploy stage ended 04-07: every county lapses, 通报批评 goes out


@pytest.fixture
def nightly_env(engine, db_url, prefect_api, tmp_path):
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    # a weekly roll-up of the lead unit, due Thursday 04-06: the night's report step makes it
    data["reporting"] = [{"key": "weekly", "name": "周报", "start": "2023-04-01", "until": "2023-05-31",
                          "owed_by": "lead", "schedule": {"kind": "weekly", "weekday": "thu", "at": "12:00"}}]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    plan = read_plan(path)
    load_plan(engine, plan, source=str(path), now=at("2023-03-15"))
    from app.flow_runner import quiet_flows

    quiet_flows()
    yield plan.campaign.code


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_a_report_that_cannot_be_written_never_keeps_the_notices_from_going_out(nightly_env, engine, db_url,
                                                                                tmp_path):
    from flows.enforce import daily_enforcement

    blocked = tmp_path / "reports"
    blocked.write_text("a file where the reports folder should be", encoding="utf-8")
    drop = tmp_path / "drop"
    with installed(db=db_url, home=tmp_path / "home", reports_dir=blocked, file_drop=drop):
        with pytest.raises(RunFailed) as e:
            daily_enforcement(campaign=nightly_env, as_of=NIGHT)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"weekly report 2023-04-06: cannot write the report to {blocked}/"), msg
    assert msg.endswith(" — nightly run of smoke-2023 as of 2023-04-08 00:05: reports failed; "
                        "sweep, calendar check, escalation, witness, delivery ran (messages sent 4, failed 0)"), msg
    assert e.value.failed == ("reports",)
    result = e.value.result
    assert result.steps_failed["reports"].startswith("weekly report 2023-04-06: cannot write the report")
    # the steps after the failing one ran: lapses, cases, and the notices delivered to the file drop
    lapses, cases, sent = _count(engine, Lapse), _count(engine, EscalationCase), \
        _count(engine, OutboxMessage, OutboxMessage.state == "sent")
    assert result.sweep.total == lapses > 0 and cases > 0
    assert result.delivered == sent == 4 == len(list(drop.iterdir()))
    assert _count(engine, OutboxMessage, OutboxMessage.state != "sent") == 0
    assert _count(engine, GeneratedReport) == 0
    # visibly failed for an operator: the run's state, and its log says why
    run = _latest_run("daily-enforcement")
    assert run.state.is_failed(), run.state
    assert _logs(str(run.id), level=40, containing="weekly report 2023-04-06 failed: cannot write the report")

    # once the folder is there, the next night makes the report and nothing is sent twice
    blocked.unlink()
    with installed(db=db_url, home=tmp_path / "home", reports_dir=blocked, file_drop=drop):
        again = daily_enforcement(campaign=nightly_env, as_of=at("2023-04-09 00:05"))
    assert again.steps_failed == {} and [g.period for g in again.reports.generated] == ["2023-04-06"]
    assert again.delivered == 0 and len(list(drop.iterdir())) == 4
    assert _latest_run("daily-enforcement").state.is_completed()

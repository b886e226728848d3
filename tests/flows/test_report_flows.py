"""Report flows under a real Prefect API: a due duty's roll-up is generated once
by the nightly steps and published as a Markdown artifact; on-demand reports
for any unit; a refusal fails at once."""
from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from models.tables import GeneratedReport

from services.campaigns.load import load_plan
from services.campaigns.plans import read_plan
from services.clues.lifecycle import NewClue, add_clues
from statemachine.errors import InvalidInput

from ..conftest import SMALL_PLAN, at, installed
from .test_lookback_flows import _artifact

pytestmark = pytest.mark.prefect


@pytest.fixture
def report_env(engine, db_url, prefect_api, tmp_path, calendar):
    data = yaml.safe_load(SMALL_PLAN.read_text(encoding="utf-8"))
    data["reporting"] = [{"key": "weekly", "name": "周报", "start": "2023-04-20", "until": "2023-05-31",
                          "schedule": {"kind": "weekly", "weekday": "thu", "at": "12:00"}}]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    plan = read_plan(path)
    load_plan(engine, plan, source=str(path), now=at("2023-03-15"))
    add_clues(engine, plan.campaign.code, [NewClue(channel="12345", aspect="profit", summary="乱罚款", unit="county-a")],
              actor="sup.city", now=at("2023-04-18"), calendar=calendar)
    from app.flow_runner import quiet_flows

    quiet_flows()
    with installed(db=db_url, home=tmp_path / "home", reports_dir=tmp_path / "reports"):
        yield plan.campaign.code


def test_scheduled_reports_generate_the_due_roll_up_once(report_env, engine, tmp_path):
    from flows.reports import artifact_key, scheduled_reports

    assert scheduled_reports(campaign=report_env, as_of=at("2023-04-20 11:00")).generated == []  # not due
    first = scheduled_reports(campaign=report_env, as_of=at("2023-04-20 12:30"))
    assert [(g.kind, g.period, g.created) for g in first.generated] == [("weekly", "2023-04-20", True)]
    md = (tmp_path / "reports" / "smoke-2023" / "city" / "weekly-2023-04-20.md").read_text(encoding="utf-8")
    assert "共受理问题线索 1 件，已办结 0 件，持续推进中 0 件，正在办理 1 件" in md
    with engine.connect() as conn:
        run_id = conn.execute(select(GeneratedReport.flow_run_id)).scalar_one()
    art = _artifact(artifact_key(report_env, "city", "weekly", "2023-04-20"), run_id)
    assert art.type == "markdown" and "共受理问题线索 1 件" in art.data and "未办结问题数" in art.data
    assert first.generated[0].provisional and "临时报告" in md  # read at 12:30, the week ends at midnight
    # once the week is over the provisional report is made again, with the whole week, and only once
    after = scheduled_reports(campaign=report_env, as_of=at("2023-04-21 00:05"))
    assert [(g.period, g.created, g.provisional) for g in after.generated] == [("2023-04-20", True, False)]
    assert "临时报告" not in (tmp_path / "reports" / "smoke-2023" / "city" / "weekly-2023-04-20.md").read_text(
        encoding="utf-8")
    again = scheduled_reports(campaign=report_env, as_of=at("2023-04-21 01:00"))
    assert [(g.period, g.created) for g in again.generated] == [("2023-04-20", False)]
    nxt = scheduled_reports(campaign=report_env, as_of=at("2023-04-27 12:05"))
    assert [(g.period, g.created) for g in nxt.generated] == [("2023-04-27", True)]


def test_generate_report_for_a_county_and_a_refusal(report_env, tmp_path):
    from flows.reports import generate_report

    g = generate_report(campaign=report_env, kind="monthly", unit="county-a", period="2023-04",
                        as_of=at("2023-04-30 18:00"), actor="off.a")
    assert g.created and g.unit == "county-a" and "甲县" in g.markdown
    with pytest.raises(InvalidInput, match="unknown report kind 'daily'"):
        generate_report(campaign=report_env, kind="daily", as_of=at("2023-04-30 18:00"))

"""The nightly daily-enforcement flow under a real Prefect API on the plans whose
stage summary is owed "at the end of each stage" (the design card's default
plan and seed 000): it used to end in "generator raised StopIteration" on the
first night after a stage ended (issue 12). The full replay of every shipped
plan, without Prefect, is tests/integration/test_shipped_plans_replay.py."""
from __future__ import annotations

import pytest

from services.campaigns.load import load_plan
from services.campaigns.plans import read_plan
from statemachine.reports.duties import all_occurrences

from ..conftest import at, installed

pytestmark = pytest.mark.prefect


@pytest.mark.parametrize("stem", ["default-five-stage", "000-neimenggu-2023"])
def test_the_nightly_flow_runs_on_a_plan_owing_each_stages_summary(stem, sqlite_url, prefect_api, tmp_path):
    from models.db import make_engine

    plan = read_plan(stem)
    engine = make_engine(sqlite_url)
    load_plan(engine, plan, source=stem, now=at(plan.campaign.period.start.isoformat()))
    engine.dispose()
    with installed(db=sqlite_url, home=tmp_path / "home", reports_dir=tmp_path / "reports",
                   file_drop=tmp_path / "drop"):
        _nights(plan)


def _nights(plan):
    from app.flow_runner import quiet_flows
    from flows.enforce import daily_enforcement

    quiet_flows()
    code, participants = plan.campaign.code, len(plan.participants())

    def owed_by_now(as_of):
        return sum(participants if o.owed_by == "participants" else 1
                   for o in all_occurrences(plan) if o.due_at < as_of)

    first = daily_enforcement(campaign=code, as_of=at("2023-04-02 00:05"))  # the night of the report
    assert first.sweep.new_lapses["stage_deadline"] == participants  # nobody left 动员部署 by 03-31
    assert first.sweep.new_lapses["missed_report"] == owed_by_now(at("2023-04-02 00:05")) > 0
    assert first.escalation.actions["issued"] == first.escalation.actions["proposed"] > 0  # 通报批评, automatic
    assert ("stage", "deploy") in {(g.kind, g.period) for g in first.reports.generated}
    assert first.delivered > 0 and first.failed == 0

    last = daily_enforcement(campaign=code, as_of=at("2023-11-01 00:05"))
    made = {(g.kind, g.period) for g in last.reports.generated}
    assert ("stage", "summary") in made  # the last stage's summary, under its stage key
    assert last.sweep.new_lapses["missed_report"] == \
        owed_by_now(at("2023-11-01 00:05")) - owed_by_now(at("2023-04-02 00:05"))

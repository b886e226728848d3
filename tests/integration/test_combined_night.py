"""`escalation.combine_causes` whatever the size of the night: a unit's causes make one
notice even when the night has more cases than one chunk (services/ladder/automatic.py
CHUNK) and when the escalation opens cases at an automatic level."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from models.tables import EscalationCase, Notice
from services.campaigns.load import campaign_id, load_plan
from services.campaigns.plans import read_plan
from services.clues.lifecycle import NewClue, add_clues
from services.core.audit import verify
from services.ladder import automatic as rnd

from ..conftest import at
from .test_escalations import daily

pytestmark = pytest.mark.slow
UNITS = 70          # three causes each: 210 cases in one night, more than one chunk
HEAVY = "c010"      # and one unit with over 200 clues unverified
HEAVY_CLUES = 201


@pytest.fixture
def many(engine, tmp_path, calendar) -> str:
    units = "\n".join(f"  - {{code: c{i:03d}, name: 示例{i}县, level: county, parent: city}}"
                      for i in range(1, UNITS + 1))
    path = tmp_path / "plan.yaml"
    path.write_text(f"""
campaign:
  code: many-2023
  title: 示例专项整治
  doc_number: 示交发〔2023〕1号
  issuing_unit: 示例市交通运输局
  period: {{start: 2023-03-15, end: 2023-10-31}}
aspects:
  - {{key: profit, name: "“逐利执法”问题"}}
units:
  - {{code: city, name: 示例市交通运输局, level: prefecture}}
{units}
people:
  - {{username: sup.city, name: 李明远, unit: city, role: supervisor}}
stages:
  - {{key: deploy, name: 动员部署, end: 2023-04-07}}
  - {{key: summary, name: 总结提升, ongoing: true}}
reporting:
  - {{key: first, name: 工作开展情况, schedule: {{kind: once, due: 2023-04-06}}}}
escalation: {{combine_causes: true, auto_levels: [1, 2]}}
""", encoding="utf-8")
    plan = read_plan(path)
    load_plan(engine, plan, source=str(path), now=at("2023-03-15"))
    code = plan.campaign.code
    clues = [NewClue(channel="12345", aspect="profit", summary=f"示例{i}县乱罚款", unit=f"c{i:03d}")
             for i in range(1, UNITS + 1)]
    clues += [NewClue(channel="12345", aspect="profit", summary=f"国道示例线超限站乱罚款第{k}起", unit=HEAVY)
              for k in range(HEAVY_CLUES - 1)]
    add_clues(engine, code, clues, actor="sup.city", now=at("2023-03-20"), calendar=calendar)
    return code


def _notices(engine, kind: str) -> list:
    N = Notice.__table__
    with engine.connect() as conn:
        return conn.execute(select(N).where(N.c.kind == kind).order_by(N.c.id)).all()


def _unit_of(engine) -> dict[int, int]:
    E = EscalationCase.__table__
    with engine.connect() as conn:
        return dict(conn.execute(select(E.c.id, E.c.unit_id)).all())


def test_a_unit_gets_one_notice_a_night_however_many_cases_the_night_has(engine, many, calendar):
    assert rnd.CHUNK < 3 * UNITS
    daily(engine, many, calendar, "2023-04-08 00:05")
    E = EscalationCase.__table__
    with engine.connect() as conn:
        causes = Counter(conn.execute(select(E.c.unit_id, E.c.cause)).all())
        issued = conn.execute(select(E.c.state)).scalars().all()
    assert len(causes) == 3 * UNITS and set(issued) == {"issued"}
    criticism = _notices(engine, "criticism")
    per_unit = Counter(_unit_of(engine)[n.case_id] for n in criticism)
    assert len(criticism) == UNITS and set(per_unit.values()) == {1}, per_unit.most_common(3)
    # the heavy unit's one notice names its three causes and counts every one of its clues
    [heavy] = [n for n in criticism if "示例10县" in n.title]
    assert "未按期完成“动员部署”阶段任务" in heavy.text and "未按时报送工作开展情况" in heavy.text
    assert f"等共{HEAVY_CLUES}项" in heavy.text and heavy.text.count("未按期核查") == 20
    # unanswered: one 催办 per unit, then the escalation issues one 约谈 per unit (level 2 is automatic here)
    daily(engine, many, calendar, "2023-04-22 00:05")
    assert len(_notices(engine, "chase")) == UNITS
    daily(engine, many, calendar, "2023-04-28 00:05")
    interviews = _notices(engine, "interview")
    assert len(interviews) == UNITS
    assert set(Counter(_unit_of(engine)[n.case_id] for n in interviews).values()) == {1}
    assert verify(engine, campaign_id(engine, many)).ok


@pytest.fixture
def combined(engine, tmp_path) -> str:
    """The small plan with `escalation.combine_causes: true`."""
    from ..conftest import SMALL_PLAN

    path = tmp_path / "small.yaml"
    path.write_text(SMALL_PLAN.read_text(encoding="utf-8") + "\nescalation: {combine_causes: true}\n",
                    encoding="utf-8")
    plan = read_plan(path)
    load_plan(engine, plan, source=str(path), now=at("2023-03-15"))
    return plan.campaign.code


def test_the_careful_pass_still_gives_a_unit_one_notice(engine, combined, calendar):
    """A chunk that fails as a whole (a concurrent round) is taken again unit by unit:
    each unit's causes still make one notice."""
    from services.ladder import sweep
    from statemachine.errors import ConflictError

    add_clues(engine, combined, [NewClue(channel="12345", aspect="profit", summary=f"国道示例线乱罚款{i}",
                                         unit="county-b") for i in range(2)],
              actor="sup.city", now=at("2023-03-20"), calendar=calendar)
    as_of = at("2023-04-08 00:05")
    cid = campaign_id(engine, combined)
    params = sweep.parameters(engine, cid, as_of, calendar)
    for step in sweep.STEPS:
        sweep.run_step(engine, step, campaign_id=cid, as_of=as_of, run_key="r", params=params)
    rnd.propose_for_lapses(engine, combined, now=as_of, calendar=calendar)
    whole, calls = rnd._as_a_set("issue", "issued", as_of), []

    def flaky(uow, ladder, rows):
        calls.append(sorted({r.unit_id for r in rows}))
        if len(calls) == 1:
            raise ConflictError("changed meanwhile")
        return whole(uow, ladder, rows)

    E = EscalationCase.__table__
    lines = rnd._in_chunks(engine, combined, calendar, ("file",), lambda ladder: [E.c.state == "proposed"],
                           lambda *a: None, flaky)
    assert len(calls) == 1 + 3  # the whole chunk, then each of the three units alone
    assert len(lines) == 4 and {ln.action for ln in lines} == {"issued"}
    criticism = _notices(engine, "criticism")
    assert len(criticism) == 3  # county-b's two causes in one notice, as without the failure
    assert set(Counter(_unit_of(engine)[n.case_id] for n in criticism).values()) == {1}
    assert verify(engine, cid).ok
